"""Heatmap colours: a scale symmetric around 0 with equal halves, and the best cell found."""

from __future__ import annotations

import numpy as np

from backtest.runner.charts import _cell_grid, symmetric_norm


def test_equal_halves_draw_opposite_values_equally_far_from_neutral():
    norm = symmetric_norm(np.array([-71.5, 5.9, np.nan]))

    assert (norm.vmin, norm.vmax) == (-71.5, 71.5)
    assert float(norm(0.0)) == 0.5
    assert abs(float(norm(5.9)) - 0.5) == abs(float(norm(-5.9)) - 0.5)
    assert float(norm(5.9)) < 0.55  # +5.9 R is pale, not as dark as -71.5 R


def test_cells_hold_the_max_and_the_best_cell_is_marked():
    x, y = ("sl_mult", [0.5, 1.0]), ("tp_mult", [1.0, 2.0])
    combos = [
        {"params": {"sl_mult": s, "tp_mult": t, "direction": d}}
        for s, t, d in [(0.5, 1.0, "long"), (0.5, 1.0, "short"), (1.0, 2.0, "long")]
    ]

    grid, best = _cell_grid(combos, [-3.0, 2.5, 1.0], x, y)

    assert grid[0, 0] == 2.5  # max of the two combinations in (0.5, 1.0)
    assert grid[1, 1] == 1.0
    assert np.isnan(grid[0, 1]) and np.isnan(grid[1, 0])  # no combination there
    assert best == (0, 0)
