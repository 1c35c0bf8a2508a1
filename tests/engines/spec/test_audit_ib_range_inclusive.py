"""min_ib <= IB <= max_ib with both bounds equal to the IB: the day trades.

Also a combination with min_ib above max_ib is valid (not one of the spec's
invariants): no day can pass the filter, so it runs with no trade.
"""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import run_both

ROWS = [IB_BAR, ("10:00", 112, 113, 111, 112)]  # IB = 20.00; opens above L = 110


@pytest.mark.parametrize(
    "min_ib, max_ib, trades",
    [
        (20.0, 20.0, 1),  # both bounds exactly the IB (2000 points)
        (25.0, 15.0, 0),  # min above max: every day is filtered out
        (15.0, 25.0, 1),
    ],
)
def test_ib_bounds_are_inclusive(min_ib, max_ib, trades):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, skipped, _ = run_both(bars, min_ib=min_ib, max_ib=max_ib)

    # Assert
    assert (len(records), skipped) == (trades, 0)
