"""Tiny hand-made bars and trades for the metric tests.

The symbol is GER40 with spread 0 and commission 0, so a trade's R is
``direction × (exit - entry) / stop_points`` and its money is
``pnl_points × 0.01 × 1.0 × lots`` (value 1.0 per index point).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, bars_from_frame
from backtest.strategy.metrics import combo_metrics
from backtest.strategy.trades import empty_trades

BARS_PER_DAY = 4
ENTRY = 1_600_000  # 16000.00 in points


def flat_spec():
    return dataclasses.replace(symbol_spec("GER40"), spread=0.0, commission=0.0)


def make_bars(dates: list[str]) -> Bars:
    """``BARS_PER_DAY`` bars (10:00.. Berlin) on each local date; bar ``i`` of day ``k``
    has index ``k × BARS_PER_DAY + i``."""
    local = pd.DatetimeIndex([f"{d} 10:0{i}" for d in dates for i in range(BARS_PER_DAY)])
    price = [16000.0] * len(local)
    frame = pd.DataFrame(
        {
            "time": local.tz_localize("Europe/Berlin").tz_convert("UTC"),
            "open": price,
            "high": price,
            "low": price,
            "close": price,
        }
    )
    return bars_from_frame(frame, flat_spec())


def make_trades(rows: list[tuple[int, int, int, int, float]]) -> np.ndarray:
    """Trades from ``(day_index, bar_of_day, pnl_points, stop_points, lots)`` rows (longs)."""
    trades = empty_trades(len(rows))
    for t, (day, bar, pnl, stop, lots) in zip(trades, rows):
        t["entry_bar"] = t["exit_bar"] = day * BARS_PER_DAY + bar
        t["direction"] = 1
        t["entry"] = ENTRY
        t["exit"] = ENTRY + pnl
        t["sl"] = ENTRY - stop
        t["stop_points"] = stop
        t["lots"] = lots
    return trades


def metrics_of(
    dates: list[str],
    rows: list[tuple[int, int, int, int, float]],
    skipped: int = 0,
    **settings: float,
) -> dict:
    """``combo_metrics`` of the trades ``rows`` over bars on ``dates``."""
    return combo_metrics(make_trades(rows), skipped, make_bars(dates), RunSettings(**settings))
