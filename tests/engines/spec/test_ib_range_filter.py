"""The day trades only when min_ib <= IB <= max_ib (points, max_ib 0 = no bound)."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run

ROWS = [IB_BAR, ("10:00", 112, 113, 111, 112)]  # IB = 20.00 = 2000 points


@pytest.mark.parametrize(
    "min_ib, max_ib, trades",
    [
        (0.0, 0.0, 1),  # max_ib 0 = unbounded
        (20.0, 0.0, 1),  # min inclusive
        (20.01, 0.0, 0),
        (0.0, 20.0, 1),  # max inclusive
        (0.0, 19.99, 0),
        (20.004, 0.0, 1),  # floor(2000.4 + 0.5) = 2000
        (20.006, 0.0, 0),  # floor(2000.6 + 0.5) = 2001
        (0.0, 19.996, 1),  # floor(1999.6 + 0.5) = 2000
        (0.0, 19.994, 0),  # floor(1999.4 + 0.5) = 1999
        (5.0, 1000.0, 1),
    ],
)
def test_ib_range_filter(min_ib, max_ib, trades):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, _ = run(bars, min_ib=min_ib, max_ib=max_ib)

    # Assert
    assert len(records) == trades
