"""max_losing_streak: most consecutive r < 0 trades; an r == 0 trade ends a streak."""

from __future__ import annotations

import numpy as np

from backtest.strategy.metrics import max_losing_streak


def test_a_zero_trade_ends_a_streak():
    # Arrange: L L 0 L L L W L -> runs of 2 and 3 and 1
    r = np.array([-1.0, -1.0, 0.0, -1.0, -0.5, -1.0, 2.0, -1.0])
    # Act / Assert
    assert max_losing_streak(r) == 3


def test_streak_at_the_end_counts():
    assert max_losing_streak(np.array([1.0, -1.0, -1.0])) == 2


def test_no_losses_is_zero():
    assert max_losing_streak(np.array([1.0, 0.0])) == 0


def test_no_trades_is_zero():
    assert max_losing_streak(np.zeros(0)) == 0
