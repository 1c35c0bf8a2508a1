"""direction long / short places only that side's stop order."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_long_only_ignores_the_earlier_short_level():
    # Arrange: rising bar, path 100 → 88 → 112 → 111: S first, then L.
    bars = make_bars([IB_BAR, ("10:00", 100, 112, 88, 111)], spread_model="cost")

    # Act
    records, _, _ = run(bars, direction="long")

    # Assert: long at 110, SL 90 not reached after the fill (path goes up to 112).
    [trade] = records
    assert (trade["direction"], trade["entry_price"]) == ("long", 110.0)
    assert (trade["exit_price"], trade["exit_reason"]) == (111.0, "close")


def test_short_only_ignores_the_earlier_long_level():
    # Arrange: falling bar, path 100 → 112 → 88 → 89: L first, then S.
    bars = make_bars([IB_BAR, ("10:00", 100, 112, 88, 89)], spread_model="cost")

    # Act
    records, _, _ = run(bars, direction="short")

    # Assert
    [trade] = records
    assert (trade["direction"], trade["entry_price"], trade["exit_price"]) == ("short", 90.0, 89.0)


def test_short_only_never_buys():
    # Arrange: only L is reached.
    bars = make_bars([IB_BAR, ("10:00", 105, 120, 104, 119)], spread_model="cost")

    # Act
    records, _, _ = run(bars, direction="short")

    # Assert
    assert records == []
