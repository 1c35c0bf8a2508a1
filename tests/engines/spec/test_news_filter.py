"""No entry on a bar whose open lies in [event - before, event + after] (inclusive)."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run, utc_ns

EVENT = utc_ns("2024-03-05 09:30")  # 10:30 Berlin time


def _touching_l(times):
    """Bars that each reach L = 110 from below without reaching S."""
    return make_bars([IB_BAR] + [(t, 105, 111, 104, 106) for t in times], spread_model="cost")


def test_entries_blocked_on_both_boundaries_allowed_one_minute_after():
    # Arrange: block = 09:15Z .. 09:45Z; bars at both ends, then one minute after.
    bars = _touching_l(["10:15", "10:45", "10:46"])

    # Act
    records, _, _ = run(bars, news_ns=[EVENT], news_filter=True)

    # Assert
    [trade] = records
    assert trade["entry_time"] == "2024-03-05T09:46:00+00:00"
    assert trade["entry_price"] == 110.0


def test_entry_one_minute_before_the_block():
    # Arrange
    bars = _touching_l(["10:14", "10:15"])

    # Act
    records, _, _ = run(bars, news_ns=[EVENT], news_filter=True)

    # Assert
    assert records[0]["entry_time"] == "2024-03-05T09:14:00+00:00"


@pytest.mark.parametrize(
    "before, after, times, entry_time",
    [
        (5, 5, ["10:25", "10:35", "10:36"], "2024-03-05T09:36:00+00:00"),  # block 09:25Z .. 09:35Z
        (0, 0, ["10:30", "10:31"], "2024-03-05T09:31:00+00:00"),  # block 09:30Z only
        (
            30,
            20,
            ["10:00", "10:50", "10:51"],
            "2024-03-05T09:51:00+00:00",
        ),  # block 09:00Z .. 09:50Z
    ],
)
def test_block_width_follows_news_before_and_after(before, after, times, entry_time):
    # Arrange
    bars = _touching_l(times)

    # Act
    records, _, _ = run(
        bars, news_ns=[EVENT], news_filter=True, news_before=before, news_after=after
    )

    # Assert
    assert records[0]["entry_time"] == entry_time


def test_events_are_ignored_without_news_filter():
    # Arrange
    bars = _touching_l(["10:30"])

    # Act
    records, _, _ = run(bars, news_ns=[EVENT], news_filter=False)

    # Assert
    assert records[0]["entry_time"] == "2024-03-05T09:30:00+00:00"


def test_block_does_not_close_an_open_position():
    # Arrange: long at 10:00; the event's block covers 10:15 where TP 130 is reached.
    bars = make_bars(
        [IB_BAR, ("10:00", 105, 111, 104, 106), ("10:15", 106, 131, 105, 129)], spread_model="cost"
    )

    # Act
    records, _, _ = run(bars, news_ns=[EVENT], news_filter=True)

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (130.0, "tp")
