"""bid_ask: a close is a sell at the bid for a long, a buy at the ask for a short (spec
8.4): at close_time a short closes at that bar's open + spread, a long at its open; a day
without a bar at close_time closes a short at the last close + spread."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

SHORT = ("10:00", 92.0, 93.0, 89.0, 89.5)  # falling 92 → 93 → 89: short at 90, SL 110, TP 70
LONG = ("10:00", 108.0, 111.0, 107.5, 110.5)  # rising, ask 109 → 108.5 → 112: long at 110


def test_short_closes_at_close_time_at_open_plus_spread():
    # Arrange
    bars = make_bars(
        [IB_BAR, SHORT, ("22:00", 85.0, 86.0, 84.0, 85.5)], spread=1.0, spread_model="bid_ask"
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: 85.00 + 1.00
    assert brief(trade) == ("short", 90.0, 86.0, "close")
    assert trade["exit_time"] == "2024-03-05T21:00:00+00:00"
    assert trade["r"] == 0.2  # 400 / 2000


def test_long_closes_at_close_time_at_the_open():
    # Arrange
    bars = make_bars(
        [IB_BAR, LONG, ("22:00", 120.0, 121.0, 119.0, 120.5)], spread=1.0, spread_model="bid_ask"
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert
    assert brief(trade) == ("long", 110.0, 120.0, "close")
    assert trade["r"] == 0.5  # 1000 / 2000


def test_short_without_a_close_time_bar_closes_at_last_close_plus_spread():
    # Arrange: 21:59 is the day's last bar (ask 86 → 87 → 85 → 86.5: no SL, no TP)
    bars = make_bars(
        [IB_BAR, SHORT, ("21:59", 85.0, 86.0, 84.0, 85.5)], spread=1.0, spread_model="bid_ask"
    )

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: 85.50 + 1.00
    assert brief(trade) == ("short", 90.0, 86.5, "close")
    assert trade["exit_time"] == "2024-03-05T20:59:00+00:00"
    assert trade["r"] == 0.175  # 350 / 2000
