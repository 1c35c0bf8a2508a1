"""profit_factor: Σ positive r / |Σ negative r|, null without a losing trade."""

from __future__ import annotations

import numpy as np

from backtest.strategy.metrics import profit_factor
from tests.strategy.metrics.helpers import metrics_of


def test_ratio_of_wins_to_losses():
    # Arrange: wins 2 + 1 = 3, losses -1 - 0.5 = -1.5, a zero trade counts in neither
    r = np.array([2.0, -1.0, 0.0, 1.0, -0.5])
    # Act / Assert
    assert profit_factor(r) == 3.0 / 1.5


def test_null_when_no_trade_lost():
    # Arrange: a win and a break-even trade (r == 0 is not a loss)
    rows = [(0, 0, 1000, 1000, 1.0), (1, 0, 0, 1000, 1.0)]
    # Act
    result = metrics_of(["2025-03-03", "2025-03-04"], rows)
    # Assert
    assert result["profit_factor"] is None


def test_null_with_no_trades():
    assert profit_factor(np.zeros(0)) is None


def test_zero_when_every_trade_lost():
    assert profit_factor(np.array([-1.0, -1.0])) == 0.0
