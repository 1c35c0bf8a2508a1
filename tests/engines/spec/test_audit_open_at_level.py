"""A bar that opens exactly at an entry level fills at its open (at or above / at or below).

The rest of the entry bar is then walked from the open: here its first segment
reaches the stop-loss. Reading "strictly above" would instead fill the other
side first and give another trade.
"""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both


@pytest.mark.parametrize(
    "entry_bar, expected",
    [
        # rising, path 110 → 89 → 131 → 120: buy stop 110 at the open, then SL 90
        (("10:00", 110, 131, 89, 120), ("long", 110.0, 90.0, "sl")),
        # falling, path 90 → 111 → 69 → 80: sell stop 90 at the open, then SL 110
        (("10:00", 90, 111, 69, 80), ("short", 90.0, 110.0, "sl")),
    ],
)
def test_open_equal_to_the_level_fills_at_the_open(entry_bar, expected):
    # Arrange: L = 110, S = 90, D = T = 20.00
    bars = make_bars([IB_BAR, entry_bar], spread_model="cost")

    # Act
    records, _, _ = run_both(bars)

    # Assert
    [trade] = records
    assert brief(trade) == expected
    assert trade["entry_time"] == trade["exit_time"] == "2024-03-05T09:00:00+00:00"
