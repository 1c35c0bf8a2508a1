"""The "first bar that touches a level" queries (on a sparse table, and on block tables
between scans of the partial blocks) agree with a scan."""

from __future__ import annotations

import numpy as np

from backtest.engines.kernel_nb import (
    BLOCK,
    block_table,
    first_at_or_above_nb,
    first_at_or_below_nb,
    first_touch_nb,
    sparse_table_nb,
)


def _scan(values, lo, hi, level, upward):
    """The first index in ``[lo, hi)`` at or above (``upward``) or at or below ``level``, or hi."""
    hits = (i for i in range(lo, hi) if (values[i] >= level if upward else values[i] <= level))
    return next(hits, hi)


def test_queries_match_a_linear_scan():
    # Arrange
    rng = np.random.default_rng(7)
    values = rng.integers(0, 60, size=300).astype(np.int64)
    highs = np.empty((9, len(values)), dtype=np.int64)
    lows = np.empty((9, len(values)), dtype=np.int64)
    sparse_table_nb(values, highs, True)
    sparse_table_nb(values, lows, False)
    for _ in range(2000):
        lo = int(rng.integers(0, 300))
        hi = int(rng.integers(lo, min(300, lo + 256) + 1))
        level = int(rng.integers(-1, 62))
        # Act
        above = first_at_or_above_nb(highs, lo, hi, level)
        below = first_at_or_below_nb(lows, lo, hi, level)
        # Assert
        assert above == _scan(values, lo, hi, level, upward=True)
        assert below == _scan(values, lo, hi, level, upward=False)


def test_block_queries_match_a_linear_scan():
    # Arrange: ranges that start and end inside blocks, on block edges, and span none
    rng = np.random.default_rng(11)
    values = rng.integers(0, 60, size=1000).astype(np.int64)
    levels = 7  # 2**7 blocks of BLOCK bars cover the longest range below
    highs = block_table(values, levels, True, np.int32)
    lows = block_table(values, levels, False, np.int32)
    for _ in range(4000):
        lo = int(rng.integers(0, len(values)))
        if rng.random() < 0.2:
            lo -= lo % BLOCK
        hi = int(rng.integers(lo, min(len(values), lo + 1500) + 1))
        level = int(rng.integers(-1, 62))
        # Act
        above = first_touch_nb(values, highs, lo, hi, level, True)
        below = first_touch_nb(values, lows, lo, hi, level, False)
        # Assert
        assert above == _scan(values, lo, hi, level, upward=True)
        assert below == _scan(values, lo, hi, level, upward=False)
