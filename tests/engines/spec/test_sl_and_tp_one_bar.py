"""When one bar reaches SL and TP, the path order decides the exit."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


@pytest.mark.parametrize(
    "close, exit_price, reason",
    [
        (120, 90.0, "sl"),  # rising: 110 → 89 → 131: SL first
        (100, 130.0, "tp"),  # falling: 110 → 131 → 89: TP first
    ],
)
def test_path_decides_between_sl_and_tp(close, exit_price, reason):
    # Arrange: long at 110 (SL 90, TP 130) on 10:01; 10:02 spans both levels.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 115, 106, 114),
            ("10:02", 110, 131, 89, close),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert trade["entry_price"] == 110.0
    assert (trade["exit_price"], trade["exit_reason"]) == (exit_price, reason)
    assert trade["exit_time"] == "2024-03-05T09:02:00+00:00"
