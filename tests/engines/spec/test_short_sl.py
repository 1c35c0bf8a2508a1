"""A short fills at S and exits at its stop-loss level."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_short_fills_at_level_and_exits_at_sl():
    # Arrange: 10:00 falls through S=90 (open→high 101→low 85); 10:01 rises to SL=110.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 100, 101, 85, 88),
            ("10:01", 88, 111, 87, 109),
        ],
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    [trade] = records
    assert trade["direction"] == "short"
    assert (trade["entry_price"], trade["sl"], trade["tp"]) == (90.0, 110.0, 70.0)
    assert (trade["exit_price"], trade["exit_reason"]) == (110.0, "sl")
    assert trade["entry_time"] == "2024-03-05T09:00:00+00:00"
    assert trade["exit_time"] == "2024-03-05T09:01:00+00:00"
    assert trade["r"] == -1.05  # (-2000 - 100 spread) / 2000
