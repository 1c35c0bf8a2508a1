"""Day rules of the fast sweep: trades per day, lot skips, news, filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.core.settings import RunSettings
from backtest.engines.sweep import run_sweep
from tests.engines.kernel.helpers import IB_ROWS, brief, make_bars, params

# 09:02 falls through both levels: long 1010 stopped at 1000 on the same bar
# (D = 10); 09:03 opens at 988, below the sell stop 990.
TWO_ENTRIES = IB_ROWS + [
    ("2024-03-05 09:02", 1000, 1012, 985, 988),
    ("2024-03-05 09:03", 988, 989, 980, 982),
    ("2024-03-05 09:20", 983, 984, 982, 983),
]
HALF = {"sl_mult": 0.5, "tp_mult": 2.0}


@pytest.mark.parametrize(
    "max_trades, expected",
    [
        (1, [(2, 2, 1, 1010, 1000, 1000, 1050, "sl")]),
        (2, [(2, 2, 1, 1010, 1000, 1000, 1050, "sl"), (3, 4, -1, 988, 983, 998, 948, "close")]),
    ],
)
def test_second_entry_needs_a_bar_after_the_exit_bar(max_trades, expected):
    # Arrange
    bars = make_bars(TWO_ENTRIES, spread_model="cost")
    # Act
    [(trades, _)] = run_sweep(bars, [params(max_trades_per_day=max_trades, **HALF)], RunSettings())
    # Assert
    assert brief(trades) == expected


def test_lot_skip_counts_only_days_whose_level_is_reached():
    # Arrange: day 1 reaches 1010; day 2 (same IB) never leaves it. D = 20:
    # lots = 0.001 / (20 × 0.01 × 1.0) = 0.005 < volume_min 0.01
    day2 = [(t.replace("03-05", "03-06"), o, h, lo, c) for t, o, h, lo, c in IB_ROWS]
    bars = make_bars(
        IB_ROWS
        + [("2024-03-05 09:02", 1000, 1012, 999, 1011)]
        + day2
        + [("2024-03-06 09:02", 1000, 1005, 995, 1001)],
        spread_model="cost",
    )
    # Act
    [(trades, skipped)] = run_sweep(bars, [params(max_trades_per_day=3)], RunSettings(risk=0.001))
    # Assert
    assert len(trades) == 0 and skipped == 1


def test_news_block_moves_the_entry_to_the_next_free_bar():
    # Arrange: an event at 09:02 local (08:02 UTC) blocks that bar only
    bars = make_bars(
        IB_ROWS
        + [
            ("2024-03-05 09:02", 1000, 1012, 999, 1011),
            ("2024-03-05 09:03", 1012, 1014, 1011, 1013),
            ("2024-03-05 09:20", 1013, 1013, 1013, 1013),
        ],
        spread_model="cost",
    )
    event = np.array([pd.Timestamp("2024-03-05 08:02", tz="UTC").value], dtype=np.int64)
    combo = params(news_filter=True, news_before=0, news_after=0)
    # Act
    [(trades, _)] = run_sweep(bars, [combo], RunSettings(news_ns=event))
    # Assert: 09:03 opens above 1010, so the fill is its open
    assert brief(trades) == [(3, 4, 1, 1012, 1013, 992, 1032, "close")]


@pytest.mark.parametrize(
    "override",
    [
        {"weekdays": [0, 2, 3, 4]},  # 2024-03-05 is a Tuesday
        {"min_ib": 0.21},  # IB is 20 points
        {"max_ib": 0.19},
        {"sl_mult": 0.02},  # D = floor(0.4 + 0.5) = 0 points
    ],
)
def test_filtered_day_has_no_trade_and_is_not_skipped(override):
    # Arrange
    bars = make_bars(IB_ROWS + [("2024-03-05 09:02", 1000, 1012, 999, 1011)], spread_model="cost")
    # Act
    [(trades, skipped)] = run_sweep(bars, [params(**override)], RunSettings(risk=0.001))
    # Assert
    assert len(trades) == 0 and skipped == 0
