"""Only the weekdays listed in ``weekdays`` (0 = Monday, local date) trade."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run

ROWS = [IB_BAR, ("10:00", 112, 113, 111, 112)]  # 2024-03-05 is a Tuesday (1)


@pytest.mark.parametrize(
    "weekdays, trades",
    [
        ([0, 1, 2, 3, 4], 1),
        ([1], 1),
        ([0, 2, 3, 4, 5, 6], 0),
    ],
)
def test_weekday_filter(weekdays, trades):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, _ = run(bars, weekdays=weekdays)

    # Assert
    assert len(records) == trades


def test_saturday_does_not_trade_by_default():
    # Arrange: 2024-03-09 is a Saturday.
    bars = make_bars(ROWS, day="2024-03-09", spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    assert records == []


def test_weekday_is_that_of_the_local_date():
    # Arrange: XAUUSD (London, GMT in March): 2024-03-04 Monday in London; the
    # IB and walk bars are given in UTC and stay on Monday.
    rows = [("2024-03-04 08:00", 100, 110, 90, 105), ("2024-03-04 09:00", 112, 113, 111, 112)]
    bars = make_bars(rows, symbol="XAUUSD", utc=True, spread_model="cost")

    # Act
    monday, _, _ = run(bars, weekdays=[0])
    tuesday, _, _ = run(bars, weekdays=[1])

    # Assert
    assert (len(monday), len(tuesday)) == (1, 0)
