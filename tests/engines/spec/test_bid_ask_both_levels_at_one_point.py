"""bid_ask: both entry levels first reached at the same point of the path (possible only
when the spread >= L - S) fill the buy stop (spec 8.4)."""

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import brief, run_both

# IB 09:00: IBH 100.50, IBL 99.50, IB = 100 points = L - S; sl_mult 2: D = 200, T = 100.
ROWS = [
    ("09:00", 100.0, 100.5, 99.5, 100.2),
    # rising; bid open 99.50 = S and ask open 100.50 = L: both at the open
    ("10:00", 99.5, 101.6, 99.4, 101.0),
]


def test_buy_stop_fills_when_both_levels_are_at_the_same_point():
    # Arrange: spread 1.00 = 100 points = L - S
    bars = make_bars(ROWS, spread=1.0, spread_model="bid_ask")

    # Act
    [trade], _, _ = run_both(bars, sl_mult=2.0)

    # Assert: fill max(L, open + s) = 100.50; SL 98.50, TP 101.50 on the bid, which the
    # rest of the bar reaches (99.50 → 99.40 → 101.60)
    assert brief(trade) == ("long", 100.5, 101.5, "tp")
    assert (trade["sl"], trade["tp"]) == (98.5, 101.5)
    assert trade["r"] == 0.5  # 100 / 200


def test_cost_model_fills_the_sell_stop_at_that_open():
    # Arrange
    bars = make_bars(ROWS, spread=1.0, spread_model="cost")

    # Act
    [trade], _, _ = run_both(bars, sl_mult=2.0)

    # Assert: on the bid the open 99.50 is at S and below L; SL 101.50 is reached later
    assert brief(trade) == ("short", 99.5, 101.5, "sl")
