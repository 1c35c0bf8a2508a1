"""tp_mult = 0: no take-profit; the trade ends by SL or at close time."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_tp_mult_zero_has_no_tp_and_rides_to_close():
    # Arrange: long at 110; the price runs to 200 (far beyond a 1×IB target).
    bars = make_bars(
        [
            IB_BAR,
            ("10:01", 107, 115, 106, 114),
            ("12:00", 114, 200, 113, 199),
            ("22:00", 195, 196, 194, 195),
        ],
        spread_model="cost",
    )

    # Act
    records, _, trades = run(bars, tp_mult=0)

    # Assert
    [trade] = records
    assert trade["tp"] is None
    assert not trades[0]["has_tp"]
    assert (trade["exit_price"], trade["exit_reason"]) == (195.0, "close")
    assert trade["r"] == 4.2  # (8500 - 100) / 2000
