"""Run combinations over bars with either engine and score them.

This is the seam between the runner and the two engines: the readable
event-driven emulator (``backtest.engines.adapter.run_combo``) and the fast sweep
kernel (``backtest.engines.sweep.run_sweep``). Both return raw trades
(:data:`backtest.strategy.trades.TRADE_DTYPE`) and a ``skipped`` count; scoring is
one pure function (``backtest.strategy.metrics.combo_metrics``) for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.engines.adapter import run_combo
from backtest.engines.sweep import run_sweep_days
from backtest.strategy.metrics import combo_metrics

ENGINES = ("fast", "emulator")


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
    return [
        ComboResult(params, combo_metrics(trades, skipped, bars, settings), trades, skip_days)
        for params, (trades, skipped, skip_days) in zip(
            combos, _raw(bars, combos, settings, engine)
        )
    ]
