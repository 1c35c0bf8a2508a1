"""An open position closes at the open of the first bar at or after close_time."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


@pytest.mark.parametrize(
    "close_bar, exit_price, exit_time",
    [
        (("22:00", 114, 115, 113, 114), 114.0, "2024-03-05T21:00:00+00:00"),
        (("22:00", 140, 141, 139, 140), 140.0, "2024-03-05T21:00:00+00:00"),  # open beyond TP 130
        (("22:00", 80, 81, 79, 80), 80.0, "2024-03-05T21:00:00+00:00"),  # open beyond SL 90
        (
            ("22:07", 120, 140, 80, 121),
            120.0,
            "2024-03-05T21:07:00+00:00",
        ),  # first bar after, not walked
    ],
)
def test_exit_at_open_of_close_bar_with_reason_close(close_bar, exit_price, exit_time):
    # Arrange: long at 110 (SL 90, TP 130); quiet until the close bar; more bars after it.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 115, 106, 114),
            ("21:59", 114, 115, 113, 114),
            close_bar,
            ("22:30", 150, 160, 50, 100),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (exit_price, "close")
    assert trade["exit_time"] == exit_time


def test_close_time_earlier_than_default():
    # Arrange: close_time 12:00 (trade_end 11:00); the 12:00 bar closes the long.
    bars = make_bars(
        [
            IB_BAR,
            ("10:01", 107, 115, 106, 114),
            ("11:59", 114, 115, 113, 114),
            ("12:00", 116, 117, 115, 116),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars, trade_end="11:00", close_time="12:00")

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"], trade["exit_time"]) == (
        116.0,
        "close",
        "2024-03-05T11:00:00+00:00",
    )
