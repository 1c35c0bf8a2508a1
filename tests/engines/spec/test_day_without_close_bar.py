"""A day without a bar at or after close_time closes at its last bar's close."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_exit_at_close_of_last_bar_of_the_day():
    # Arrange: long at 110; the day's last bar opens 21:30 and closes at 116;
    # the next trading day starts after midnight.
    bars = make_bars(
        [
            IB_BAR,
            ("10:01", 107, 115, 106, 114),
            ("21:30", 114, 118, 112, 116),
            ("2024-03-06 01:15", 140, 141, 139, 140),
        ],
        spread_model="cost",
    )

    # Act
    records, _, trades = run(bars)

    # Assert: exit price = close, exit time = that bar's open time.
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (116.0, "close")
    assert trade["exit_time"] == "2024-03-05T20:30:00+00:00"
    assert trades[0]["exit_bar"] == 2


def test_entry_on_the_last_bar_closes_at_its_close():
    # Arrange: the data ends with the bar that fills the long at 110.
    bars = make_bars([IB_BAR, ("10:00", 105, 112, 104, 111)], spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["entry_price"], trade["exit_price"], trade["exit_reason"]) == (
        110.0,
        111.0,
        "close",
    )
    assert trade["entry_time"] == trade["exit_time"] == "2024-03-05T09:00:00+00:00"
