"""A bar that opens beyond the stop-loss exits at its open."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_long_exits_at_open_below_sl():
    # Arrange: long at 110 (SL 90); 10:02 opens at 85.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 115, 106, 114),
            ("10:02", 85, 86, 80, 82),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (85.0, "sl")
    assert trade["r"] == -1.3  # (-2500 - 100) / 2000


def test_short_exits_at_open_above_sl():
    # Arrange: short at 90 (SL 110); 10:01 opens at 115.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 100, 101, 85, 88),
            ("10:01", 115, 116, 114, 115),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["direction"], trade["exit_price"], trade["exit_reason"]) == ("short", 115.0, "sl")
