"""max_dd_r: the largest fall of cumulative R from its running peak, peak starting at 0."""

from __future__ import annotations

import numpy as np

from backtest.strategy.metrics import max_dd_r


def test_peak_starts_at_zero_so_a_first_loss_is_a_drawdown():
    # Arrange: cumulative R -1, -3, -2; peak stays 0
    r = np.array([-1.0, -2.0, 1.0])
    # Act / Assert
    assert max_dd_r(r) == 3.0


def test_largest_fall_from_a_later_peak():
    # Arrange: cumulative 2, 3, 1.5, 2.5, 0.5, 4: peak 3 then low 0.5 = 2.5
    r = np.array([2.0, 1.0, -1.5, 1.0, -2.0, 3.5])
    # Act / Assert
    assert max_dd_r(r) == 2.5


def test_only_wins_is_zero():
    assert max_dd_r(np.array([1.0, 0.5, 2.0])) == 0.0


def test_no_trades_is_zero():
    assert max_dd_r(np.zeros(0)) == 0.0
