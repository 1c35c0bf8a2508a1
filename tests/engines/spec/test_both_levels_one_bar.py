"""When one bar reaches L and S, the path order decides which order fills."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_rising_bar_reaches_low_first_so_the_short_fills():
    # Arrange: rising 10:00 bar, path 100 → 88 → 112 → 111: S=90 first, then SL=110.
    bars = make_bars([IB_BAR, ("10:00", 100, 112, 88, 111)], spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["direction"], trade["entry_price"]) == ("short", 90.0)
    assert (trade["exit_price"], trade["exit_reason"]) == (110.0, "sl")


def test_falling_bar_reaches_high_first_so_the_long_fills():
    # Arrange: falling 10:00 bar, path 100 → 112 → 88 → 89: L=110 first, then SL=90.
    bars = make_bars([IB_BAR, ("10:00", 100, 112, 88, 89)], spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["direction"], trade["entry_price"]) == ("long", 110.0)
    assert (trade["exit_price"], trade["exit_reason"]) == (90.0, "sl")
