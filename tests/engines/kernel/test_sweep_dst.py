"""The fast sweep on a fall-back DST day, where a local hour repeats (docs/READINGS.md,
reading 1)."""

from __future__ import annotations

from backtest.core.settings import RunSettings
from backtest.engines.sweep import run_sweep
from tests.engines.kernel.helpers import brief, make_bars, params

# Berlin, Sunday 2024-10-27: 00:00-00:59 UTC is 02:00-02:59 CEST, 01:00-01:59 UTC
# is 02:00-02:59 CET again. IB 02:00-02:10 (local): IBH 1010, IBL 990.
ROWS_UTC = [
    ("2024-10-27 00:00", 1000, 1010, 995, 1005),  # 02:00 CEST, IB
    ("2024-10-27 00:01", 1005, 1008, 990, 1000),  # 02:01 CEST, IB
    ("2024-10-27 00:10", 1000, 1005, 995, 1001),  # 02:10 CEST: walk_start
    ("2024-10-27 01:05", 1001, 1015, 1000, 1012),  # 02:05 CET: walked, before ib_end
    ("2024-10-27 01:15", 1012, 1013, 1011, 1012),  # 02:15 CET: may enter, opens above 1010
    ("2024-10-27 01:50", 1020, 1021, 1019, 1020),  # 02:50 CET: close_bar
]


def test_repeated_hour_bar_before_ib_end_cannot_enter():
    # Arrange
    bars = make_bars(ROWS_UTC, utc=True, spread_model="cost")
    combo = params(
        ib_start="02:00", ib_end="02:10", trade_end="02:20", close_time="02:50", weekdays=[6]
    )
    # Act
    [(trades, skipped)] = run_sweep(bars, [combo], RunSettings())
    # Assert: the 02:05 CET touch is not an entry; 02:15 CET fills at its open
    assert brief(trades) == [(4, 5, 1, 1012, 1020, 992, 1032, "close")]
    assert skipped == 0
