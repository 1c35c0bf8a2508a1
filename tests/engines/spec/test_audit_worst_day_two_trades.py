"""worst_day_r is the lowest daily sum, not the lowest trade (two trades one day)."""

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import brief, run_both


def test_two_losses_on_one_day_make_the_worst_day():
    # Arrange: spread 0; IB 90..110 both days, D = T = 2000 points.
    bars = make_bars(
        [
            ("2024-03-05 09:00", 100, 110, 90, 105),
            ("2024-03-05 10:01", 107, 115, 106, 114),  # rising 107 → 106 → 115: long at 110
            ("2024-03-05 10:02", 114, 115, 89, 95),  # falling → 115 → 89: SL 90 (−1 R)
            ("2024-03-05 10:03", 95, 96, 88, 89),  # falling → 96 → 88: short at 90
            ("2024-03-05 10:04", 89, 111, 88, 105),  # rising → 88 → 111: SL 110 (−1 R)
            ("2024-03-06 09:00", 100, 110, 90, 105),
            ("2024-03-06 10:01", 107, 115, 106, 114),  # long at 110
            ("2024-03-06 10:02", 80, 81, 75, 78),  # opens below SL: exit at 80 (−1.5 R)
        ],
        spread=0.0,
        spread_model="cost",
    )

    # Act
    records, _, metrics = run_both(bars, max_trades_per_day=2)

    # Assert
    assert [brief(r) for r in records] == [
        ("long", 110.0, 90.0, "sl"),
        ("short", 90.0, 110.0, "sl"),
        ("long", 110.0, 80.0, "sl"),
    ]
    assert [r["r"] for r in records] == [-1.0, -1.0, -1.5]
    assert metrics["worst_day_r"] == -2.0
    assert (metrics["total_r"], metrics["max_dd_r"], metrics["max_losing_streak"]) == (-3.5, 3.5, 3)
    assert (metrics["winrate"], metrics["profit_factor"]) == (0.0, 0.0)
