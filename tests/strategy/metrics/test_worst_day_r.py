"""worst_day_r: the lowest daily R over the days that have a trade."""

from __future__ import annotations

from tests.strategy.metrics.helpers import metrics_of

DATES = ["2025-03-03", "2025-03-04", "2025-03-05"]


def test_trades_of_one_day_are_summed():
    # Arrange: day 0: -1R and -0.5R (= -1.5R); day 2: -1.2R; day 1 has no trade (0R not counted)
    rows = [(0, 0, -1000, 1000, 1.0), (0, 2, -500, 1000, 1.0), (2, 0, -1200, 1000, 1.0)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["worst_day_r"] == -1.5


def test_days_without_a_trade_do_not_count():
    # Arrange: only winning days; the untraded day's 0R must not be the worst
    rows = [(0, 0, 500, 1000, 1.0), (2, 0, 2000, 1000, 1.0)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["worst_day_r"] == 0.5


def test_null_with_no_trades():
    assert metrics_of(DATES, [])["worst_day_r"] is None
