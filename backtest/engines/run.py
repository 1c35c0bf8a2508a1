"""Run combinations over bars with either engine and score them.

This is the seam between the runner and the two engines: the readable
event-driven emulator (``backtest.engines.adapter.run_combo``) and the fast sweep
kernel (``backtest.engines.sweep.run_sweep``). Both return raw trades
(:data:`backtest.strategy.trades.TRADE_DTYPE`) and a ``skipped`` count; scoring is
one pure function (``backtest.strategy.metrics.combo_metrics``) for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.engines.adapter import run_combo
from backtest.engines.sweep import run_sweep
from backtest.strategy.metrics import combo_metrics

ENGINES = ("fast", "emulator")


@dataclass
class ComboResult:
    params: dict[str, Any]
    metrics: dict[str, Any]
    trades: np.ndarray  # TRADE_DTYPE rows, indices into the Bars that were run


def raw_trades(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str = "fast"
) -> list[tuple[np.ndarray, int]]:
    """``(trades, skipped)`` per combination, from the chosen engine."""
    if engine == "emulator":
        return [run_combo(bars, params, settings) for params in combos]
    if engine == "fast":
        return run_sweep(bars, combos, settings)
    raise ValueError(f"unknown engine '{engine}' (known: {', '.join(ENGINES)})")


def run_combos(
    bars: Bars, combos: list[dict[str, Any]], settings: RunSettings, engine: str = "fast"
) -> list[ComboResult]:
    """Every combination's trades and metrics over ``bars`` (already the period)."""
    return [
        ComboResult(params, combo_metrics(trades, skipped, bars, settings), trades)
        for params, (trades, skipped) in zip(combos, raw_trades(bars, combos, settings, engine))
    ]
