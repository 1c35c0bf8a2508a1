"""bid_ask: an exit level already passed at the point of entry (a spread >= D) triggers
at that point and fills at the level, even when the entry was at the bar's open (spec
8.4, read literally: only a bar's open fills at the open)."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

# IB 20.00: L = 110.00, S = 90.00; sl_mult 0.05: D = 100 points; spread 1.50 = 150 points.


@pytest.mark.parametrize(
    "bar, expected",
    [
        # rising; ask 109.50 → 108.50 → 110.50: long at 110.00 where the bid is 108.50,
        # already below SL 109.00: out at 109.00
        (("10:00", 108.0, 109.0, 107.0, 108.8), ("long", 110.0, 109.0, "sl")),
        # falling; the ask opens at 110.50 >= L: long at the open 110.50, SL 109.50 while
        # the bid opens at 109.00: out at the level 109.50, not at the open
        (("10:00", 109.0, 109.2, 108.0, 108.5), ("long", 110.5, 109.5, "sl")),
        # falling; bid 92 → 93 → 89: short at 90.00 where the ask is 91.50, already above
        # SL 91.00: out at 91.00
        (("10:00", 92.0, 93.0, 89.0, 89.5), ("short", 90.0, 91.0, "sl")),
    ],
)
def test_stop_loss_passed_at_the_point_of_entry_fills_at_the_level(bar, expected):
    # Arrange
    bars = make_bars([IB_BAR, bar], spread=1.5, spread_model="bid_ask")

    # Act
    [trade], _, _ = run_both(bars, sl_mult=0.05)

    # Assert: in and out at the entry point, -D
    assert brief(trade) == expected
    assert trade["entry_time"] == trade["exit_time"] == "2024-03-05T09:00:00+00:00"
    assert trade["r"] == -1.0
