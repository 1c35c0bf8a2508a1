"""bid_ask with a zero spread walks the cost model's paths (spec 8.2: the ask path is the
bid path), and the cost model with spread 0 charges nothing: the same trades and values.
The cost model with its spread has the same trades, and values them less the spread."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import run_both

ROWS = [
    IB_BAR,
    ("10:00", 108.0, 111.0, 107.5, 110.5),  # long at 110: SL 90, TP 130
    ("10:05", 100.0, 101.0, 89.0, 89.5),  # falling 100 → 101 → 89: SL 90
    ("10:06", 89.5, 90.0, 88.0, 88.5),  # falling, opens at/below S: short at 89.50
    ("22:00", 80.0, 81.0, 79.0, 80.5),  # close at 80.00
]


@pytest.mark.parametrize(
    "zero",
    [
        {"spread": 0.0, "spread_source": "fixed"},
        {"spreads": [0, 0, 0, 0, 0], "spread_source": "data"},
    ],
)
def test_zero_spread_bid_ask_is_the_cost_model_without_a_spread(zero):
    # Arrange
    bid_ask = make_bars(ROWS, spread_model="bid_ask", **zero)
    cost = make_bars(ROWS, spread_model="cost", spread=0.0)

    # Act
    got = run_both(bid_ask, max_trades_per_day=2)
    want = run_both(cost, max_trades_per_day=2)

    # Assert
    assert got == want
    assert [(t["entry_price"], t["exit_price"]) for t in got[0]] == [(110.0, 90.0), (89.5, 80.0)]


def test_cost_model_with_spread_has_the_same_trades_less_the_spread():
    # Arrange
    bid_ask = make_bars(ROWS, spread_model="bid_ask", spread=0.0)
    cost = make_bars(ROWS, spread_model="cost", spread=1.0)

    # Act
    (zero, _, _), (charged, _, _) = (
        run_both(bid_ask, max_trades_per_day=2),
        run_both(cost, max_trades_per_day=2),
    )

    # Assert: r of -2000 and +950 points, and 100 points less each
    assert [{**t, "r": None, "pnl_money": None} for t in zero] == [
        {**t, "r": None, "pnl_money": None} for t in charged
    ]
    assert [t["r"] for t in zero] == [-1.0, 0.475]
    assert [t["r"] for t in charged] == [-1.05, 0.425]
