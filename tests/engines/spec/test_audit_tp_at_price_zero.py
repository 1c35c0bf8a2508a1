"""The record's tp is null only when tp_mult is 0, even when the TP price is 0.00.

MT5 (and so the emulator's requests) use tp 0 for "no take-profit"; a short
filled exactly T points above zero has its TP at 0 and still has one.
"""

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import run_both


def test_short_with_take_profit_at_zero_keeps_its_tp():
    # Arrange: tp_mult 4.5 → T = 9000 points; falling 100 → 101 → 89 → 93: short at 90.00.
    bars = make_bars([IB_BAR, ("10:00", 100, 101, 89, 93)], spread_model="cost")

    # Act
    [trade], _, _ = run_both(bars, tp_mult=4.5)

    # Assert: TP = 9000 − 9000 = 0 points; the position rides to the day's last close.
    assert (trade["direction"], trade["entry_price"], trade["sl"], trade["tp"]) == (
        "short",
        90.0,
        110.0,
        0.0,
    )
    assert (trade["exit_price"], trade["exit_reason"]) == (93.0, "close")
