"""sharpe: mean / std(ddof 1) × √252 of daily R over every trading day of the period."""

from __future__ import annotations

import math

import numpy as np

from backtest.strategy.metrics import sharpe
from tests.strategy.metrics.helpers import metrics_of

FIVE_DAYS = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"]


def test_days_without_a_trade_count_as_zero_r():
    # Arrange: day 0 has +1R and +1R (sum 2R), day 2 has -1R; days 1, 3, 4 no trade.
    rows = [(0, 0, 1000, 1000, 1.0), (0, 2, 1000, 1000, 1.0), (2, 1, -1000, 1000, 1.0)]
    # daily R = [2, 0, -1, 0, 0]: mean 0.2; squared deviations 3.24 + .04 + 1.44 + .04 + .04 = 4.8
    expected = 0.2 / math.sqrt(4.8 / 4) * math.sqrt(252)

    # Act
    result = metrics_of(FIVE_DAYS, rows)

    # Assert
    assert math.isclose(result["sharpe"], expected, rel_tol=1e-12)


def test_the_period_decides_the_day_count_not_the_trades():
    # Arrange: the same two trade days inside a 3-day period: daily R = [2, 0, -1]
    rows = [(0, 0, 2000, 1000, 1.0), (2, 0, -1000, 1000, 1.0)]
    mean = 1 / 3
    var = ((2 - mean) ** 2 + mean**2 + (-1 - mean) ** 2) / 2
    expected = mean / math.sqrt(var) * math.sqrt(252)

    # Act
    result = metrics_of(FIVE_DAYS[:3], rows)

    # Assert
    assert math.isclose(result["sharpe"], expected, rel_tol=1e-12)


def test_zero_when_no_trades():
    assert metrics_of(FIVE_DAYS, [])["sharpe"] == 0.0


def test_zero_with_fewer_than_two_days():
    # Arrange: one trading day; a std of one value is undefined
    # Act
    result = sharpe(np.array([1.5]), 1)
    # Assert
    assert result == 0.0


def test_zero_when_every_day_has_the_same_r():
    # Arrange: -1R on each of 3 days out of 3: std 0
    # Act
    result = sharpe(np.array([-1.0, -1.0, -1.0]), 3)
    # Assert
    assert result == 0.0
