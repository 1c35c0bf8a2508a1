"""combo_metrics returns exactly the spec section 6 keys, as plain JSON-ready values."""

from __future__ import annotations

import json

import numpy as np

from backtest.core.settings import RunSettings
from backtest.strategy.metrics import combo_metrics
from tests.strategy.metrics.helpers import make_bars, make_trades, metrics_of

DATES = ["2025-03-03", "2025-03-04"]
KEYS = {
    "trades",
    "winrate",
    "total_r",
    "avg_r",
    "profit_factor",
    "max_dd_r",
    "sharpe",
    "total_pnl",
    "worst_day_r",
    "max_losing_streak",
    "skipped",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "prop_ok",
}


def test_exact_keys_and_plain_types():
    # Arrange
    rows = [(0, 0, 1000, 1000, 1.0), (1, 0, -500, 1000, 1.0)]
    # Act
    result = metrics_of(DATES, rows, skipped=3)
    # Assert
    assert set(result) == KEYS
    assert all(type(v) in (int, float, bool, type(None)) for v in result.values())
    assert type(result["trades"]) is int and type(result["prop_ok"]) is bool
    assert result["skipped"] == 3
    json.dumps(result, allow_nan=False)


def test_trades_out_of_entry_order_are_scored_in_entry_order():
    # Arrange: -1R, -1R, +3R in time; handed over reversed
    bars = make_bars(DATES)
    trades = make_trades(
        [(0, 0, -1000, 1000, 1.0), (0, 1, -1000, 1000, 1.0), (1, 0, 3000, 1000, 1.0)]
    )
    # Act
    result = combo_metrics(trades[::-1].copy(), 0, bars, RunSettings())
    # Assert: in time order the drawdown is 2R and the streak 2
    assert (result["max_dd_r"], result["max_losing_streak"]) == (2.0, 2)
    assert np.isclose(result["total_r"], 1.0)
