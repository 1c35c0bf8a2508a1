"""A day whose first bar opens after ib_end has no IB bar: no trade, not skipped.

The IB is never borrowed from the day before.
"""

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import run_both


def test_day_without_ib_bars_has_no_trade_and_no_skip():
    # Arrange: 03-04 has an IB (90..110) and stays inside it; 03-05 starts at
    # 10:30 with bars far beyond 110 and 90. risk 0.19 (lots below volume_min)
    # shows that the day is not counted as skipped either.
    bars = make_bars(
        [
            ("2024-03-04 09:00", 100, 110, 90, 105),
            ("2024-03-04 10:00", 105, 106, 104, 105),
            ("2024-03-05 10:30", 100, 200, 10, 150),
            ("2024-03-05 10:31", 150, 210, 140, 200),
        ],
        spread_model="cost",
    )

    # Act
    records, skipped, _ = run_both(bars, risk=0.19)

    # Assert
    assert (records, skipped) == ([], 0)
