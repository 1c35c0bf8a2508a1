"""Several entries a day, but never one on the bar of the last exit."""

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run

ROWS = [
    IB_BAR,
    ("10:01", 107, 115, 106, 114),  # long at 110, SL 90
    ("10:02", 110, 111, 85, 86),  # falling: SL 90, then the path goes on through S=90
    ("10:03", 86, 87, 84, 85),  # opens below S: the short fills at the open
    ("10:04", 85, 86, 84, 85),
]


def test_no_entry_on_exit_bar_and_reentry_on_the_next_bar():
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, trades = run(bars, max_trades_per_day=2)

    # Assert
    assert [
        (r["direction"], r["entry_price"], r["exit_price"], r["exit_reason"]) for r in records
    ] == [
        ("long", 110.0, 90.0, "sl"),
        ("short", 86.0, 85.0, "close"),
    ]
    assert records[1]["entry_time"] == "2024-03-05T09:03:00+00:00"
    assert (records[1]["sl"], records[1]["tp"]) == (106.0, 66.0)
    assert list(trades["entry_bar"]) == [1, 3]


def test_one_trade_when_max_is_one():
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, _, _ = run(bars, max_trades_per_day=1)

    # Assert
    assert len(records) == 1


def test_limit_counts_entries_of_the_day_only():
    # Arrange: max 2; three entries possible on the day, then a new day trades again.
    rows = ROWS + [
        ("10:05", 85, 111, 84, 110.5),  # short exits at SL 106 first; no third entry
        ("10:06", 111, 112, 110, 111),  # would open through L
        ("2024-03-06 09:00", 100, 110, 90, 105),
        ("2024-03-06 10:00", 112, 113, 111, 112),
    ]
    bars = make_bars(rows, spread_model="cost")

    # Act
    records, _, _ = run(bars, max_trades_per_day=2)

    # Assert
    assert [(r["entry_price"], r["exit_reason"]) for r in records] == [
        (110.0, "sl"),
        (86.0, "sl"),
        (112.0, "close"),
    ]
    assert records[2]["entry_time"] == "2024-03-06T09:00:00+00:00"
