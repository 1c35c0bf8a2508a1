"""A day with no IB bar, or IB <= 0, has no trade."""

from tests.engines.spec.bar_factory import make_bars, run

BREAKOUT = [("10:00", 100, 100.5, 99.5, 100), ("10:01", 100, 150, 50, 120)]


def test_flat_ib_has_no_trade():
    # Arrange: the IB hour's bars all at 100.00: IB = 0.
    bars = make_bars(
        [("09:00", 100, 100, 100, 100), ("09:30", 100, 100, 100, 100)] + BREAKOUT,
        spread_model="cost",
    )

    # Act
    records, skipped, _ = run(bars)

    # Assert
    assert (records, skipped) == ([], 0)


def test_no_ib_bar_has_no_trade():
    # Arrange: the day's first bar is at 10:00 (bars before 09:00 are not IB bars).
    bars = make_bars([("08:59", 100, 110, 90, 105)] + BREAKOUT, spread_model="cost")

    # Act
    records, _, _ = run(bars)

    # Assert
    assert records == []


def test_ib_uses_only_bars_from_ib_start():
    # Arrange: 08:59 spans 90..110 but only 09:00 (99..101) is in the IB: L = 101.
    bars = make_bars(
        [
            ("08:59", 100, 110, 90, 105),
            ("09:00", 100, 101, 99, 100.5),
            ("10:00", 100.5, 101.5, 100.2, 101),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["entry_price"], trade["sl"], trade["tp"]) == (101.0, 99.0, 103.0)
