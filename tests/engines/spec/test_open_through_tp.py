"""A bar that opens beyond the take-profit exits at its open."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_long_exits_at_open_above_tp():
    # Arrange: long at 110 (TP 130); 10:02 opens at 135.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 115, 106, 114),
            ("10:02", 135, 136, 134, 135),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (135.0, "tp")
    assert trade["r"] == 1.2  # (2500 - 100) / 2000


def test_short_exits_at_open_below_tp():
    # Arrange: short at 90 (TP 70); 10:01 opens at 60.
    bars = make_bars(
        [IB_BAR, ("10:00", 100, 101, 85, 88), ("10:01", 60, 61, 59, 60)], spread_model="cost"
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert (trade["exit_price"], trade["exit_reason"]) == (60.0, "tp")
