"""A long fills at L and exits at its take-profit level."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_long_fills_at_level_and_exits_at_tp():
    # Arrange: 10:01 rises through L=110; 10:02 reaches TP=130.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105, 108, 104, 107),
            ("10:01", 107, 115, 106, 114),
            ("10:02", 114, 131, 113, 130),
        ],
        spread_model="cost",
    )

    # Act
    records, skipped, trades = run(bars)

    # Assert
    assert skipped == 0
    assert len(records) == 1
    trade = records[0]
    assert trade["direction"] == "long"
    assert (trade["entry_price"], trade["sl"], trade["tp"]) == (110.0, 90.0, 130.0)
    assert (trade["exit_price"], trade["exit_reason"]) == (130.0, "tp")
    assert trade["entry_time"] == "2024-03-05T09:01:00+00:00"
    assert trade["exit_time"] == "2024-03-05T09:02:00+00:00"
    assert (trades[0]["entry_bar"], trades[0]["exit_bar"]) == (2, 3)
