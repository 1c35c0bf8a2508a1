"""Levels sit dist(entry_buffer) beyond the IB high and low."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_buffer_moves_the_long_level_up():
    # Arrange: buffer 0.1 × 2000 = 200 points → L = 112; 10:00 reaches only 111.
    bars = make_bars(
        [IB_BAR, ("10:00", 105, 111, 104, 110), ("10:01", 110, 113, 109, 112.5)],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars, entry_buffer=0.1)

    # Assert: SL/TP from the fill, D = T = 2000 points.
    [trade] = records
    assert trade["entry_time"] == "2024-03-05T09:01:00+00:00"
    assert (trade["entry_price"], trade["sl"], trade["tp"]) == (112.0, 92.0, 132.0)


def test_buffer_moves_the_short_level_down():
    # Arrange: S = 88; 10:00 reaches 89 only, 10:01 reaches 87.
    bars = make_bars(
        [IB_BAR, ("10:00", 95, 96, 89, 90), ("10:01", 90, 91, 87, 88)], spread_model="cost"
    )

    # Act
    records, _, _ = run(bars, entry_buffer=0.1)

    # Assert
    [trade] = records
    assert (trade["direction"], trade["entry_price"], trade["sl"]) == ("short", 88.0, 108.0)


@pytest.mark.parametrize(
    "buffer, level",
    [
        (0.0004, 110.01),  # floor(0.8 + 0.5) = 1 point
        (0.0002, 110.0),  # floor(0.4 + 0.5) = 0 points
    ],
)
def test_buffer_rounds_to_whole_points(buffer, level):
    # Arrange
    bars = make_bars([IB_BAR, ("10:00", 105, 111, 104, 110.5)], spread_model="cost")

    # Act
    records, _, _ = run(bars, entry_buffer=buffer)

    # Assert
    assert records[0]["entry_price"] == level
