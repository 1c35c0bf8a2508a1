"""Combinations that share an entry rule (same window, buffer, direction, filters; other
stop and target multipliers) share its entry search in the fast sweep, and each still gets
exactly the trades it gets when run alone, whatever else runs in its batch."""

from __future__ import annotations

from backtest.core.settings import RunSettings
from backtest.engines.sweep import run_sweep
from tests.engines.kernel.helpers import IB_ROWS, brief, make_bars, params

# IBH 1010, IBL 990, IB 20 points; then a long breakout at 09:02 (rising bar through 1010),
# a run up to 1031, and a fall through 990 at 09:06 to 968 at 09:07.
ROWS = IB_ROWS + [
    ("2024-03-05 09:02", 1000, 1012, 999, 1011),
    ("2024-03-05 09:03", 1011, 1021, 1008, 1015),
    ("2024-03-05 09:04", 1015, 1016, 998, 999),
    ("2024-03-05 09:05", 999, 1031, 995, 1030),
    ("2024-03-05 09:06", 1030, 1032, 985, 988),
    ("2024-03-05 09:07", 988, 990, 968, 969),
]

# Rule A (buffer 0, both directions): long at 1010 on bar 2 for every stop and target
# (stop 0.5 → 10 points, 1.0 → 20; target likewise), exits by their own levels.
# Rule B (buffer 0.25 → 5 points: levels 1015 / 985): long at 1015 on bar 3.
# Rule C (short only): short at 990 on bar 6 (the falling bar's way down).
CASES = [
    (dict(sl_mult=0.5, tp_mult=0.5), [(2, 3, 1, 1010, 1020, 1000, 1020, "tp")]),
    (dict(sl_mult=1.0, tp_mult=1.0, entry_buffer=0.25), [(3, 5, 1, 1015, 995, 995, 1035, "sl")]),
    (dict(sl_mult=0.5, tp_mult=1.0), [(2, 4, 1, 1010, 1000, 1000, 1030, "sl")]),
    (dict(sl_mult=1.0, tp_mult=1.0, direction="short"), [(6, 7, -1, 990, 970, 1010, 970, "tp")]),
    (dict(sl_mult=1.0, tp_mult=0.5), [(2, 3, 1, 1010, 1020, 990, 1020, "tp")]),
    (
        # a second trade from bar 6: both levels in one bar, opened above the long one
        dict(sl_mult=1.0, tp_mult=1.0, max_trades_per_day=2),
        [(2, 5, 1, 1010, 1030, 990, 1030, "tp"), (6, 6, 1, 1030, 1010, 1010, 1050, "sl")],
    ),
    (dict(sl_mult=1.0, tp_mult=1.0), [(2, 5, 1, 1010, 1030, 990, 1030, "tp")]),
]


def test_shared_and_unshared_entries_in_one_batch_equal_each_run_alone():
    # Arrange: rule A's five combinations interleaved with rules B and C
    bars = make_bars(ROWS, spread_model="cost")
    combos = [params(**overrides) for overrides, _ in CASES]
    # Act
    together = run_sweep(bars, combos, RunSettings())
    alone = [run_sweep(bars, [combo], RunSettings())[0] for combo in combos]
    # Assert
    assert [brief(trades) for trades, _ in together] == [expected for _, expected in CASES]
    for (t1, s1), (t2, s2) in zip(together, alone):
        assert t1.tobytes() == t2.tobytes() and s1 == s2 == 0
