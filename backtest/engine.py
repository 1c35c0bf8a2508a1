"""Run combinations over bars with either engine and score them.

This is the seam between the runner and the two engines: the readable
event-driven emulator (``backtest.adapter.run_combo``) and the fast sweep
kernel (``backtest.sweep.run_sweep``). Both return raw trades
(:data:`backtest.trades.TRADE_DTYPE`) and a ``skipped`` count; scoring is one
pure function (``backtest.metrics.combo_metrics``) for both.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backtest.bars import Bars

ENGINES = ("fast", "emulator")


@dataclass(frozen=True)
class RunSettings:
    """Settings of a run, shared by all its combinations (plain, picklable)."""

    risk: float = 1000.0
    account_size: float = 100000.0
    daily_loss_limit_pct: float = 5.0
    max_loss_limit_pct: float = 10.0
    # Sorted UTC ns of the high-impact events of the symbol's currencies.
    news_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class ComboResult:
    params: dict[str, Any]
    metrics: dict[str, Any]
    trades: np.ndarray  # TRADE_DTYPE rows, indices into the Bars that were run


def raw_trades(bars: Bars, combos: list[dict[str, Any]], settings: RunSettings,
               engine: str = "fast") -> list[tuple[np.ndarray, int]]:
    """``(trades, skipped)`` per combination, from the chosen engine."""
    if engine == "emulator":
        from backtest.adapter import run_combo

        return [run_combo(bars, params, settings) for params in combos]
    if engine == "fast":
        from backtest.sweep import run_sweep

        return run_sweep(bars, combos, settings)
    raise ValueError(f"unknown engine '{engine}' (known: {', '.join(ENGINES)})")


def run_combos(bars: Bars, combos: list[dict[str, Any]], settings: RunSettings,
               engine: str = "fast") -> list[ComboResult]:
    """Every combination's trades and metrics over ``bars`` (already the period)."""
    from backtest.metrics import combo_metrics

    return [
        ComboResult(params, combo_metrics(trades, skipped, bars, settings), trades)
        for params, (trades, skipped) in zip(combos, raw_trades(bars, combos, settings, engine))
    ]
