"""The weekday filter reads the trading day's local weekday.

XAUUSD in British Summer Time: the Monday 2024-06-10 starts at 23:00 UTC on
Sunday, so the day's first bar has a Sunday UTC date.
"""

import pytest

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import run_both

ROWS = [
    ("00:30", 2000, 2001, 1999, 2000.5),  # 2024-06-09 23:30 UTC (a Sunday)
    ("08:00", 2000, 2010, 1990, 2005),  # IB 1990..2010
    ("09:00", 2005, 2011, 2004, 2010),  # rising 2005 → 2004 → 2011: long at 2010
]


@pytest.mark.parametrize("weekdays, trades", [([0], 1), ([6], 0), ([1, 2, 3, 4, 5, 6], 0)])
def test_monday_in_london_is_monday(weekdays, trades):
    # Arrange
    bars = make_bars(ROWS, symbol="XAUUSD", day="2024-06-10", spread_model="cost")

    # Act
    records, _, _ = run_both(bars, weekdays=weekdays)

    # Assert
    assert len(records) == trades
    assert [r["entry_time"] for r in records] == ["2024-06-10T08:00:00+00:00"] * trades
