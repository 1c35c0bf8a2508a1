"""A day whose stop distance D is under one point has no trade."""

import pytest

from tests.engines.spec.bar_factory import make_bars, run

# IB = 100.01 - 100.00 = 1 point; then a bar far above L.
ROWS = [("09:00", 100.0, 100.01, 100.0, 100.01), ("10:00", 101, 102, 100.9, 101.5)]


@pytest.mark.parametrize(
    "sl_mult, trades",
    [
        (0.4, 0),  # floor(0.4 + 0.5) = 0 points
        (0.5, 1),  # floor(0.5 + 0.5) = 1 point
    ],
)
def test_stop_under_one_point_skips_the_day(sl_mult, trades):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, skipped, _ = run(bars, sl_mult=sl_mult)

    # Assert
    assert len(records) == trades
    assert skipped == 0


def test_one_point_stop_sits_one_point_below_the_fill():
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, _ = run(bars, sl_mult=0.5, tp_mult=0)

    # Assert
    assert (records[0]["entry_price"], records[0]["sl"]) == (101.0, 100.99)
