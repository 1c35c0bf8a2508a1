"""A bar that opens exactly at SL (or TP) exits there, before the rest of its path.

"At or below" / "at or above" includes the open: read strictly, the path
would first reach the other level.
"""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both


@pytest.mark.parametrize(
    "exit_bar, expected",
    [
        # falling 90 → 131 → 85: the open is at SL 90 (TP 130 comes after)
        (("10:02", 90, 131, 85, 86), ("long", 110.0, 90.0, "sl")),
        # rising 130 → 89 → 140: the open is at TP 130 (SL 90 comes after)
        (("10:02", 130, 140, 89, 135), ("long", 110.0, 130.0, "tp")),
    ],
)
def test_open_exactly_at_the_exit_level(exit_bar, expected):
    # Arrange: long at 110 on 10:01 (rising 107 → 106 → 115 → 114), SL 90, TP 130.
    bars = make_bars([IB_BAR, ("10:01", 107, 115, 106, 114), exit_bar], spread_model="cost")

    # Act
    records, _, _ = run_both(bars)

    # Assert
    [trade] = records
    assert brief(trade) == expected
    assert trade["exit_time"] == "2024-03-05T09:02:00+00:00"
