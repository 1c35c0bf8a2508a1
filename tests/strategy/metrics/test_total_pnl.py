"""total_pnl and r are valued with what the symbol charges (one place: trade_values with
``SymbolSpec.charged_points``): the spread and commission in the ``cost`` model, the
commission only in ``bid_ask`` (the spread is in the prices)."""

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
    bars = dataclasses.replace(
        make_bars(DATES), symbol=dataclasses.replace(symbol_spec("GER40"), spread_model="cost")
    )
    trades = make_trades([(0, 0, 1000, 1000, 2.0), (1, 0, -1000, 1000, 2.0)])
    # Act
    result = combo_metrics(trades, 0, bars, RunSettings())
    # Assert: r = 900/1000 and -1100/1000; money = points × 0.01 × 1.0 × 2 lots
    assert math.isclose(result["total_r"], 0.9 - 1.1)
    assert math.isclose(result["total_pnl"], 18.0 - 22.0)


def test_bid_ask_charges_the_commission_only():
    # Arrange: spread 1.0 (in the prices, not charged), commission 0.5 = 50 points
    spec = dataclasses.replace(symbol_spec("GER40"), spread_model="bid_ask", commission=0.5)
    bars = dataclasses.replace(make_bars(DATES), symbol=spec)
    trades = make_trades([(0, 0, 1000, 1000, 2.0), (1, 0, -1000, 1000, 2.0)])
    # Act
    result = combo_metrics(trades, 0, bars, RunSettings())
    # Assert: r = 950/1000 and -1050/1000; money = points × 0.01 × 1.0 × 2 lots
    assert math.isclose(result["total_r"], 0.95 - 1.05)
    assert math.isclose(result["total_pnl"], 19.0 - 21.0)
