"""Run combinations over bars with either engine and score them.

This is the seam between the runner and the two engines: the readable
event-driven emulator (``backtest.engines.adapter.run_combo``) and the fast sweep
kernel (``backtest.engines.sweep.run_sweep``). Both return raw trades
(:data:`backtest.strategy.trades.TRADE_DTYPE`) and a ``skipped`` count; scoring is the
same for both: all combinations at once in compiled code
(:func:`backtest.strategy.metrics_nb.window_metrics` over the compact trades), which a
differential test holds equal to the readable ``backtest.strategy.metrics.combo_metrics``
(``tests/strategy/test_metrics_nb.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.engines import ENGINES
from backtest.engines.adapter import run_combo
from backtest.engines.sweep import PartTrades, run_sweep_days, sweep_parts
from backtest.strategy.daily import CompactTrades, compact_runs, compact_trades
from backtest.strategy.metrics import trading_day_count
from backtest.strategy.metrics_nb import metrics_dict, window_metrics


@dataclass
class ComboResult:
    params: dict[str, Any]
    metrics: dict[str, Any]
    trades: np.ndarray  # TRADE_DTYPE rows, indices into the Bars that were run
    skip_days: np.ndarray | None = None  # days of the lot skips (fast engine), Bars.day numbers


def _raw(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str
) -> Sequence[tuple[np.ndarray, int, np.ndarray | None]]:
    """``(trades, skipped, skip_days or None)`` per combination."""
    if engine == "emulator":
        return [(*run_combo(bars, params, settings), None) for params in combos]
    if engine == "fast":
        return run_sweep_days(bars, combos, settings)
    raise ValueError(f"unknown engine '{engine}' (known: {', '.join(ENGINES)})")


def raw_trades(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str = "fast"
) -> list[tuple[np.ndarray, int]]:
    """``(trades, skipped)`` per combination, from the chosen engine."""
    return [(trades, skipped) for trades, skipped, _ in _raw(bars, combos, settings, engine)]


def run_combos(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str = "fast"
) -> list[ComboResult]:
    """Every combination's trades and metrics over ``bars`` (already the period)."""
    return run_combos_compact(bars, combos, settings, engine)[0]


def run_combos_compact(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str = "fast"
) -> tuple[list[ComboResult], CompactTrades]:
    """:func:`run_combos` and the combinations' compact trades (scored once, kept for
    ``--save-daily``)."""
    scored = score_batch(bars, combos, settings, engine)
    results = [
        ComboResult(params, metrics_dict(scored.metrics, i), scored.trades[i], scored.skip_days[i])
        for i, params in enumerate(combos)
    ]
    return results, scored.compact


@dataclass
class Scored:
    """A batch of combinations run and scored, column-wise: what the runner keeps."""

    metrics: dict[str, np.ndarray]  # one array per metric name (NaN where the spec says null)
    compact: CompactTrades
    trades: Sequence[np.ndarray]  # raw TRADE_DTYPE trades per combination (fast: copied on access)
    skip_days: list[np.ndarray | None]  # lot-skip days per combination (None: emulator)


def score_batch(
    bars: Bars,
    combos: list[dict[str, Any]],
    settings: RunSettings,
    engine: str = "fast",
    excursions: bool = True,
) -> Scored:
    """Run ``combos`` with ``engine`` and score them all at once in compiled code.

    The fast engine's batches are valued and scored whole (no per-combination copy of the
    trades; ``Scored.trades[i]`` copies combination ``i``'s out when asked for). Without
    ``excursions`` the fast engine records no ``mae``/``mfe`` (-1) and the compact trades
    no ``adverse`` (None): what scoring alone needs, at the kernel's full speed."""
    if engine == "fast":
        parts = sweep_parts(bars, combos, settings, excursions)
        compact = compact_runs(
            [(p.trades, p.position) for p in parts],
            _concat([p.counts for p in parts]),
            _concat([p.skipped for p in parts]),
            np.concatenate([p.skip_day for p in parts] or [np.zeros(0, np.int32)]),
            bars,
            excursions,
        )
        trades: Sequence[np.ndarray] = PartTrades(parts)
        skip_days: list[np.ndarray | None] = [
            compact.skip_day[a:b] for a, b in zip(compact.skip_offsets, compact.skip_offsets[1:])
        ]
        skipped = np.diff(compact.skip_offsets)
    else:
        raw = _raw(bars, combos, settings, engine)
        compact = compact_trades([(t, _days(skip)) for t, _, skip in raw], bars)
        trades, skip_days = [t for t, _, _ in raw], [s for _, _, s in raw]
        # the emulator reports a count, not the days
        skipped = np.array([s for _, s, _ in raw], dtype=np.int64)
    cols = window_metrics(
        compact,
        int(bars.day.min()) if len(bars) else 0,
        int(bars.day.max()) if len(bars) else -1,
        trading_day_count(bars),
        settings.account_size,
        settings.daily_loss_limit_pct,
        settings.max_loss_limit_pct,
    )
    cols["skipped"] = skipped
    return Scored(cols, compact, trades, skip_days)


def _concat(counts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)


def _days(skip_days: np.ndarray | None) -> np.ndarray:
    return np.zeros(0, dtype=np.int32) if skip_days is None else skip_days
