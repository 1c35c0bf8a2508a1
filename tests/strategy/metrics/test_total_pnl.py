"""total_pnl and r are valued with the symbol's spread (one place: trade_values)."""

from __future__ import annotations

import dataclasses
import math

from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.strategy.metrics import combo_metrics
from tests.strategy.metrics.helpers import make_bars, make_trades

DATES = ["2025-03-03", "2025-03-04"]


def test_spread_counts_against_r_and_money():
    # Arrange: real GER40 spread 1.0 = 100 points; a +1000 point move on D = 1000
    bars = dataclasses.replace(make_bars(DATES), symbol=symbol_spec("GER40"))
    trades = make_trades([(0, 0, 1000, 1000, 2.0), (1, 0, -1000, 1000, 2.0)])
    # Act
    result = combo_metrics(trades, 0, bars, RunSettings())
    # Assert: r = 900/1000 and -1100/1000; money = points × 0.01 × 1.0 × 2 lots
    assert math.isclose(result["total_r"], 0.9 - 1.1)
    assert math.isclose(result["total_pnl"], 18.0 - 22.0)
