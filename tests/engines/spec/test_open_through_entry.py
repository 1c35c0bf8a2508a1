"""A bar that opens beyond an entry level fills at its open."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_first_bar_after_ib_end_opening_above_l_fills_at_its_open():
    # Arrange: the first walked bar opens at 112 > L=110.
    bars = make_bars([IB_BAR, ("10:00", 112, 113, 111, 112.5)], spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert: fill at the open, SL/TP from the fill price.
    [trade] = records
    assert (trade["direction"], trade["entry_price"]) == ("long", 112.0)
    assert (trade["sl"], trade["tp"]) == (92.0, 132.0)
    assert trade["entry_time"] == "2024-03-05T09:00:00+00:00"


def test_later_bar_gapping_below_s_fills_short_at_its_open():
    # Arrange: 10:02 gaps down to 85 < S=90.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 109, 106, 108),
            ("10:02", 85, 86, 84, 85.5),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["direction"], trade["entry_price"]) == ("short", 85.0)
    assert (trade["sl"], trade["tp"]) == (105.0, 65.0)
    assert trade["entry_time"] == "2024-03-05T09:02:00+00:00"


def test_entry_at_open_then_rest_of_bar_reaches_tp():
    # Arrange: opens at 112 (fill), rising path 112 → 111 → 133: TP 132 in the same bar.
    bars = make_bars([IB_BAR, ("10:00", 112, 133, 111, 120)], spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["entry_price"], trade["exit_price"], trade["exit_reason"]) == (112.0, 132.0, "tp")
    assert trade["entry_time"] == trade["exit_time"]
