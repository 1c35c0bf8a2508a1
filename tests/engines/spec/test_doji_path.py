"""A doji bar takes the opposite path direction of the bar before it."""

import numpy as np

from tests.engines.spec.bar_factory import make_bars, run

DOJI_1000 = ("10:00", 100, 112, 88, 100)  # reaches L=110 and S=90; order set by its path


def _first_entry(rows):
    bars = make_bars(rows, spread_model="cost")
    records, _, _ = run(bars)
    return bars, records[0]


def test_doji_after_rising_bar_is_falling():
    # Arrange: the bar before the doji (09:00) rises.
    rows = [("09:00", 100, 110, 90, 105), DOJI_1000]

    # Act
    bars, trade = _first_entry(rows)

    # Assert: falling path (open → high first): the long fills, then SL 90.
    assert list(bars.falling) == [False, True]
    assert (trade["direction"], trade["entry_price"], trade["exit_price"]) == ("long", 110.0, 90.0)


def test_doji_after_falling_bar_is_rising():
    # Arrange: 09:59 falls.
    rows = [("09:00", 100, 110, 90, 105), ("09:59", 101, 102, 99, 100), DOJI_1000]

    # Act
    bars, trade = _first_entry(rows)

    # Assert: rising path (open → low first): the short fills, then SL 110.
    assert list(bars.falling) == [False, True, False]
    assert (trade["direction"], trade["entry_price"], trade["exit_price"]) == ("short", 90.0, 110.0)


def test_first_row_doji_is_falling_and_a_chain_alternates():
    # Arrange: every bar a doji: falling, rising, falling.
    rows = [("09:00", 100, 110, 90, 100), ("09:59", 100, 101, 99, 100), DOJI_1000]

    # Act
    bars, trade = _first_entry(rows)

    # Assert: the third doji follows a rising one, so it falls: the long fills.
    assert list(bars.falling) == [True, False, True]
    assert (trade["direction"], trade["entry_price"]) == ("long", 110.0)


def test_bar_before_crosses_the_period_start():
    # Arrange: the day before ends with a falling bar; the period starts on the doji's day.
    bars = make_bars(
        [("2024-03-04 21:59", 101, 102, 99, 100), ("09:00", 100, 110, 90, 100), DOJI_1000],
        spread_model="cost",
    )
    period = bars.between("2024-03-05", "2024-03-05")

    # Act
    records, _, _ = run(period)

    # Assert: 09:00 doji rises (after a falling bar), so the 10:00 doji falls: long.
    assert list(period.falling) == [False, True]
    assert records[0]["direction"] == "long"
    assert np.array_equal(period.open, bars.open[1:])
