"""bid_ask with ``spread_source: data``: every bar's ask is its bid + its own spread
(spec 8.1-8.2), for the entry, a short's SL and a short's close."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

# L = 110.00, S = 90.00, D = T = 2000 points. Spreads in points (spread_unit = point).
LONG_ROWS = [
    IB_BAR,
    ("10:00", 108.0, 109.6, 107.5, 109.0),  # ask high 109.60 + 0.20 < L
    ("10:01", 109.0, 109.6, 108.5, 109.2),  # ask high 109.60 + 0.50 >= L: buy at 110.00
    ("12:00", 125.0, 131.0, 124.0, 130.0),  # TP 130.00 on the bid
]
SHORT_ROWS = [
    IB_BAR,
    ("10:00", 92.0, 93.0, 89.0, 89.5),  # short at 90.00: SL 110.00, TP 70.00
    ("11:00", 105.0, 109.5, 104.0, 109.0),  # ask high 109.50 + 0.40 < SL
    ("22:00", 85.0, 86.0, 84.0, 85.5),  # close at 85.00 + 0.35
]


def test_buy_stop_waits_for_the_bar_whose_own_spread_reaches_l():
    # Arrange
    bars = make_bars(LONG_ROWS, spreads=[100, 20, 50, 300], spread_source="data")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert
    assert brief(trade) == ("long", 110.0, 130.0, "tp")
    assert trade["entry_time"] == "2024-03-05T09:01:00+00:00"


def test_fixed_spread_enters_on_the_first_bar():
    # Arrange: the same bars, the fixed 1.00 (ask high 110.60 at 10:00)
    bars = make_bars(LONG_ROWS, spreads=[100, 20, 50, 300], spread_source="fixed")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert
    assert brief(trade) == ("long", 110.0, 130.0, "tp")
    assert trade["entry_time"] == "2024-03-05T09:00:00+00:00"


def test_short_is_stopped_and_closed_with_each_bars_own_spread():
    # Arrange
    bars = make_bars(SHORT_ROWS, spreads=[100, 10, 40, 35], spread_source="data")

    # Act
    [trade], _, _ = run_both(bars)

    # Assert: no SL at 11:00 (with the fixed 1.00 it would be); out at 85.35
    assert brief(trade) == ("short", 90.0, 85.35, "close")
    assert trade["r"] == 0.2325  # 465 / 2000
