"""Walk-forward says how many windows fit and why no more (issue 25: 2M/1M over about
four months gave one window without a word)."""

from __future__ import annotations

import datetime as dt

from backtest.analysis.walk_forward import make_windows, windows_note


def test_two_month_train_one_month_test_over_four_months():
    # Arrange
    start, end = dt.date(2024, 1, 1), dt.date(2024, 4, 20)
    # Act
    windows = make_windows(start, end, "2M", "1M")
    note = windows_note(windows, end, "2M", "1M", None, False)
    # Assert: Jan-Feb/Mar fits; Feb-Mar/Apr would end 2024-04-30, after 2024-04-20
    assert len(windows) == 1
    assert note == (
        "1 window (2M train + 1M test, moved by 1M): the next would end on 2024-04-30, "
        "after the span's end 2024-04-20"
    )


def test_anchored_windows_name_their_growth():
    # Arrange
    start, end = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    # Act
    windows = make_windows(start, end, "3M", "1M", None, True)
    note = windows_note(windows, end, "3M", "1M", None, True)
    # Assert
    assert len(windows) == 3
    assert note.startswith("3 windows (train from the start growing by 1M + 1M test")
    assert "the next would end on 2024-07-31" in note
