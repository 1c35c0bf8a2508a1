"""Prop-firm view: max_daily_loss_pct, max_drawdown_pct and prop_ok (limits inclusive).

Money per trade = pnl_points × 0.01 × lots (GER40, spread 0), so with 100 lots
one point is 1.00 of money on an account of 100 000.
"""

from __future__ import annotations

import math

from tests.strategy.metrics.helpers import metrics_of

DATES = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"]
LOTS = 100.0


def trade(day: int, bar: int, money: int) -> tuple[int, int, int, int, float]:
    return (day, bar, money, 1000, LOTS)


def test_exactly_the_limits_is_inside():
    # Arrange: -5000 on day 0 and -5000 on day 1: daily 5 %, drawdown 10 %
    rows = [trade(0, 0, -5000), trade(1, 0, -5000)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["max_daily_loss_pct"] == 5.0
    assert result["max_drawdown_pct"] == 10.0
    assert result["prop_ok"] is True


def test_a_cent_over_the_daily_limit_fails():
    # Arrange: -5000.01 on one day (5.00001 %)
    rows = [(0, 0, -500001, 1000, 1.0)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert math.isclose(result["max_daily_loss_pct"], 5.00001)
    assert result["prop_ok"] is False


def test_daily_loss_uses_the_lowest_balance_of_the_day():
    # Arrange: day 0: -3000, +2000, -4000 -> start 100 000, lowest 95 000 (net only -5000 later);
    # day 1: -4000 then +3000 -> lowest 91 000 from a start of 95 000 = 4 %
    rows = [
        trade(0, 0, -3000),
        trade(0, 1, 2000),
        trade(0, 2, -4000),
        trade(1, 0, -4000),
        trade(1, 1, 3000),
    ]
    # Act
    result = metrics_of(DATES, rows)
    # Assert: the largest is day 0: 5000 / 100 000
    assert result["max_daily_loss_pct"] == 5.0


def test_intraday_dip_counts_even_when_the_day_ends_up():
    # Arrange: -4000 then +6000 on one day: the day closes +2000 but dipped 4 %
    rows = [trade(0, 0, -4000), trade(0, 1, 6000)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["max_daily_loss_pct"] == 4.0


def test_drawdown_from_a_peak_above_the_account_size():
    # Arrange: +10 000 (peak 110 000), then -5000, -5000, -1000 -> 99 000: 11 000 / 110 000 = 10 %
    rows = [trade(0, 0, 10000), trade(1, 0, -5000), trade(2, 0, -5000), trade(3, 0, -1000)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["max_drawdown_pct"] == 10.0
    assert result["prop_ok"] is True


def test_drawdown_over_the_limit_fails():
    # Arrange: the same, but -1100 at the end: 11 100 / 110 000 = 10.0909 %
    rows = [trade(0, 0, 10000), trade(1, 0, -5000), trade(2, 0, -5000), trade(3, 0, -1100)]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert math.isclose(result["max_drawdown_pct"], 11100 / 110000 * 100)
    assert result["prop_ok"] is False


def test_limits_come_from_the_settings():
    # Arrange: a 3 % daily limit and a 5 000 loss on an account of 200 000 (2.5 %)
    rows = [trade(0, 0, -5000)]
    # Act
    result = metrics_of(DATES, rows, account_size=200000.0, daily_loss_limit_pct=3.0)
    # Assert
    assert result["max_daily_loss_pct"] == 2.5
    assert result["prop_ok"] is True


def test_no_trades_is_zero_and_ok():
    result = metrics_of(DATES, [])
    assert (result["max_daily_loss_pct"], result["max_drawdown_pct"], result["prop_ok"]) == (
        0.0,
        0.0,
        True,
    )
