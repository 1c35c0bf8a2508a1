"""The worked example of spec section 8, in each engine: bid_ask, GER40, IB 100.00 wide,
L = 20,100.00, sl_mult 0.5 (D = 5,000 points), tp_mult 1, spread 1.50, slippage 0.50."""

import numpy as np
import pytest

from backtest.core.settings import RunSettings
from backtest.engines.run import ENGINES, raw_trades
from backtest.strategy.params import resolve_params
from backtest.strategy.trades import pnl_points, trade_records
from tests.engines.spec.bar_factory import make_bars

ROWS = [
    ("09:00", 20050.0, 20100.0, 20000.0, 20080.0),  # IBH 20,100.00, IBL 20,000.00
    # rising; ask 20,098.50 → 20,097.50 → 20,100.50 → 20,099.50 reaches L on its second segment
    ("10:00", 20097.0, 20099.0, 20096.0, 20098.0),
    # falling 20,060 → 20,061 → 20,040: the bid reaches SL 20,050.00
    ("11:00", 20060.0, 20061.0, 20040.0, 20045.0),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_worked_example(engine):
    # Arrange
    bars = make_bars(ROWS, spread=1.5, slippage=0.5, spread_model="bid_ask")
    params = resolve_params("GER40", {"sl_mult": 0.5, "tp_mult": 1.0})

    # Act
    [(trades, skipped)] = raw_trades(bars, [params], RunSettings(), engine)
    [record] = trade_records(trades, bars)

    # Assert
    assert (record["direction"], record["entry_time"]) == ("long", "2024-03-05T09:00:00+00:00")
    assert record["entry_price"] == 20100.50  # triggers at 20,100.00, + 0.50 slippage
    assert (record["sl"], record["tp"]) == (20050.00, 20200.00)
    assert (record["exit_price"], record["exit_reason"]) == (20049.50, "sl")
    assert pnl_points(trades, bars.symbol).tolist() == [-5100]
    assert trades["stop_points"].tolist() == [5000]
    assert record["r"] == -1.02
    assert record["pnl_money"] == -1020.0  # 20 lots × -51.00 × 1.0
    assert skipped == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_worked_example_bar_does_not_trigger_in_cost(engine):
    # Arrange: the bid high 20,099.00 is below L
    bars = make_bars(ROWS, spread=1.5, slippage=0.5, spread_model="cost")
    params = resolve_params("GER40", {"sl_mult": 0.5, "tp_mult": 1.0})

    # Act
    [(trades, _)] = raw_trades(bars, [params], RunSettings(), engine)

    # Assert
    assert len(trades) == 0
    assert np.array_equal(trades["entry"], [])
