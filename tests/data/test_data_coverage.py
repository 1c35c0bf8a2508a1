"""Coverage of the requested period, counted in weekdays (Monday to Friday): more than
5 uncovered at either end or inside a gap is a problem."""

from __future__ import annotations

import pandas as pd

from backtest.core.config import symbol_spec
from backtest.data.bars import bars_from_frame
from backtest.data.coverage import coverage


def _bars(days):
    """One GER40 bar at 10:00 local on each date of ``days``."""
    times = [pd.Timestamp(f"{d} 10:00", tz="Europe/Berlin").tz_convert("UTC") for d in days]
    frame = pd.DataFrame({"time": times, "open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0})
    return bars_from_frame(frame, symbol_spec("GER40"))


def test_full_coverage_has_no_problem():
    # Arrange: Mon 2024-01-08 .. Fri 2024-01-12, every weekday
    bars = _bars(pd.bdate_range("2024-01-08", "2024-01-12").date)
    # Act
    found = coverage(bars, "2024-01-06", "2024-01-14")  # a weekend on either side
    # Assert
    assert (found.uncovered_before, found.uncovered_after, found.gaps) == (0, 0, [])
    assert found.problems == []


def test_data_starting_late_leaves_the_period_start_uncovered():
    # Arrange: data from 2024-01-08; period from Mon 2023-12-25 (10 weekdays earlier)
    bars = _bars(["2024-01-08", "2024-01-09"])
    # Act
    found = coverage(bars, "2023-12-25", "2024-01-09")
    # Assert
    assert found.uncovered_before == 10
    assert found.problems == [
        "the data starts on 2024-01-08: 10 weekdays of the period 2023-12-25..2024-01-09 "
        "have no bars before it"
    ]


def test_five_weekdays_are_allowed_six_are_not():
    # Arrange: last bar Fri 2024-01-05; the period ends Fri 2024-01-12 (5 weekdays later)
    # or Mon 2024-01-15 (6)
    bars = _bars(["2024-01-04", "2024-01-05"])
    # Act
    five = coverage(bars, "2024-01-04", "2024-01-12")
    six = coverage(bars, "2024-01-04", "2024-01-15")
    # Assert
    assert (five.uncovered_after, five.problems) == (5, [])
    assert six.uncovered_after == 6 and len(six.problems) == 1


def test_a_gap_inside_the_data():
    # Arrange: Wed 2024-01-10, then Mon 2024-01-22: 7 weekdays without bars between
    bars = _bars(["2024-01-08", "2024-01-10", "2024-01-22"])
    # Act
    found = coverage(bars, "2024-01-08", "2024-01-22")
    # Assert
    assert found.gaps == [{"after": "2024-01-10", "before": "2024-01-22", "weekdays": 7}]
    assert found.problems == ["no bars on the 7 weekdays between 2024-01-10 and 2024-01-22"]
    assert found.as_dict()["ok"] is False
