"""Lots from risk, rounded down to the step; below volume_min the day is skipped."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run

DAY1 = [
    IB_BAR,
    ("10:01", 107, 115, 106, 114),  # reaches L = 110
    ("10:02", 114, 115, 85, 86),  # reaches S = 90 later the same day
]
DAY2_QUIET = [
    ("2024-03-06 09:00", 100, 110, 90, 105),
    ("2024-03-06 10:00", 105, 106, 104, 105),  # levels never reached
]


def test_lots_round_down_to_the_volume_step():
    # Arrange: IB 30.00 → D = 3000 points; 1000 / (3000 × 0.01 × 1.0) = 33.33…
    bars = make_bars(
        [("09:00", 100, 120, 90, 105), ("10:01", 107, 121, 106, 114)], spread_model="cost"
    )

    # Act
    records, skipped, _ = run(bars)

    # Assert
    assert records[0]["lots"] == 33.33
    assert skipped == 0


def test_lots_exactly_volume_min_is_traded():
    # Arrange: D = 2000 points, risk 0.2 → 0.2 / 20 = 0.01 lot
    bars = make_bars(DAY1, spread_model="cost")

    # Act
    records, skipped, _ = run(bars, risk=0.2)

    # Assert
    assert [r["lots"] for r in records] == [0.01]
    assert skipped == 0


def test_below_volume_min_skips_the_day_once_and_stops_its_entries():
    # Arrange: risk 0.19 → 0.0095 lot < 0.01; both levels are reached on day 1,
    # none on day 2; max 3 trades a day would allow more entries.
    bars = make_bars(DAY1 + DAY2_QUIET, spread_model="cost")

    # Act
    records, skipped, _ = run(bars, risk=0.19, max_trades_per_day=3)

    # Assert
    assert records == []
    assert skipped == 1


def test_day_whose_levels_are_never_reached_is_not_skipped():
    # Arrange
    bars = make_bars(DAY2_QUIET, spread_model="cost")

    # Act
    records, skipped, _ = run(bars, risk=0.19)

    # Assert
    assert (records, skipped) == ([], 0)
