"""bid_ask: a short's stop-loss is a buy, it triggers on the ask path (spec 8.3): a bar
whose bid stays below SL but whose ask reaches it stops the short out, at SL."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

# L = 110.00, S = 90.00, D = T = 2000 points; spread 1.00.
ROWS = [
    IB_BAR,
    ("10:00", 92.0, 93.0, 89.0, 89.5),  # falling 92 → 93 → 89: short at 90, SL 110, TP 70
    # rising: bid 105 → 104 → 109.5 → 109 stays below SL; ask 106 → 105 → 110.5 → 110
    ("11:00", 105.0, 109.5, 104.0, 109.0),
]


def test_ask_reaches_the_shorts_stop_loss():
    # Arrange
    bars = make_bars(ROWS, spread=1.0, spread_model="bid_ask")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert
    assert brief(trade) == ("short", 90.0, 110.0, "sl")
    assert (trade["sl"], trade["tp"]) == (110.0, 70.0)
    assert trade["exit_time"] == "2024-03-05T10:00:00+00:00"
    assert trade["r"] == -1.0  # -2000 points, no spread charged on top


def test_cost_model_stops_only_on_the_bid():
    # Arrange
    bars = make_bars(ROWS, spread=1.0, spread_model="cost")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: no SL; the day has no bar at 22:00: closed at the last close
    assert brief(trade) == ("short", 90.0, 109.0, "close")
