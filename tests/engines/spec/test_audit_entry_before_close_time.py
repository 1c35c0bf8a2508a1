"""trade_end == close_time: the last walked bar may enter, the close bar may not.

The position then closes at the open of the close bar (not walked, even though
that bar spans both SL and TP).
"""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

CLOSE_BAR = ("12:00", 125, 140, 80, 126)  # spans SL 90 and TP 130


def test_entry_on_the_last_bar_before_close_time_closes_at_the_next_open():
    # Arrange: 11:59 rises 105 → 104 → 112 → 111: long at 110.
    bars = make_bars(
        [IB_BAR, ("10:00", 105, 106, 104, 105), ("11:59", 105, 112, 104, 111), CLOSE_BAR],
        spread_model="cost",
    )

    # Act
    records, _, _ = run_both(bars, trade_end="12:00", close_time="12:00")

    # Assert
    [trade] = records
    assert brief(trade) == ("long", 110.0, 125.0, "close")
    assert (trade["entry_time"], trade["exit_time"]) == (
        "2024-03-05T10:59:00+00:00",
        "2024-03-05T11:00:00+00:00",
    )


def test_level_first_reached_on_the_close_bar_is_no_entry():
    # Arrange: nothing reaches L or S before 12:00.
    bars = make_bars([IB_BAR, ("11:59", 105, 106, 104, 105), CLOSE_BAR], spread_model="cost")

    # Act
    records, skipped, _ = run_both(bars, trade_end="12:00", close_time="12:00")

    # Assert
    assert (records, skipped) == ([], 0)
