"""The rest of the entry bar includes its last segment (high/low → close)."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both


@pytest.mark.parametrize(
    "entry_bar, expected",
    [
        # rising, path 100 → 99 → 111 → 107: long at 110 on low→high, SL 108 on high→close
        (("10:00", 100, 111, 99, 107), ("long", 110.0, 108.0, "sl")),
        # falling, path 100 → 101 → 89 → 93: short at 90 on high→low, SL 92 on low→close
        (("10:00", 100, 101, 89, 93), ("short", 90.0, 92.0, "sl")),
    ],
)
def test_stop_loss_on_the_close_segment_of_the_entry_bar(entry_bar, expected):
    # Arrange: sl_mult 0.1 → D = floor(0.1 × 2000 + 0.5) = 200 points; TP 20.00 away.
    bars = make_bars([IB_BAR, entry_bar, ("10:01", 100, 100.5, 99.5, 100)], spread_model="cost")

    # Act
    records, _, _ = run_both(bars, sl_mult=0.1)

    # Assert: (−200 − 100 spread) / 200 = −1.5 R; lots 1000 / (200 × 0.01) = 500
    [trade] = records
    assert brief(trade) == expected
    assert trade["exit_time"] == trade["entry_time"] == "2024-03-05T09:00:00+00:00"
    assert (trade["r"], trade["lots"]) == (-1.5, 500.0)
    assert trade["pnl_money"] == pytest.approx(-1500.0, abs=1e-9)
