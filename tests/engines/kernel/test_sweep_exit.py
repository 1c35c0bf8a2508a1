"""Exits of the fast sweep: SL/TP order within a bar, gaps, and the day's close."""

from __future__ import annotations

import pytest

from backtest.core.settings import RunSettings
from backtest.engines.sweep import run_sweep
from tests.engines.kernel.helpers import IB_ROWS, brief, make_bars, params

ENTRY = ("2024-03-05 09:02", 1000, 1012, 999, 1011)  # long 1010, SL 990, TP 1030


@pytest.mark.parametrize(
    "bar, expected",
    [
        (("2024-03-05 09:03", 1010, 1035, 985, 1000), (1030, "tp")),  # falling: high first
        (("2024-03-05 09:03", 1010, 1035, 985, 1020), (990, "sl")),  # rising: low first
        (("2024-03-05 09:03", 980, 1000, 975, 990), (980, "sl")),  # opens below SL
        (("2024-03-05 09:03", 1040, 1041, 1020, 1021), (1040, "tp")),  # opens above TP
    ],
)
def test_sl_or_tp_on_a_later_bar(bar, expected):
    # Arrange
    bars = make_bars(IB_ROWS + [ENTRY, bar], spread_model="cost")
    # Act
    [(trades, _)] = run_sweep(bars, [params()], RunSettings())
    # Assert
    assert [(t[4], t[7]) for t in brief(trades)] == [expected]
    assert trades["exit_bar"].tolist() == [3]


def test_open_position_closes_at_open_of_first_bar_at_close_time_even_beyond_sl():
    # Arrange: 09:21 is the first bar at/after 09:20; it opens below SL 990
    bars = make_bars(
        IB_ROWS + [ENTRY, ("2024-03-05 09:21", 970, 975, 960, 961)], spread_model="cost"
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params()], RunSettings())
    # Assert
    assert brief(trades) == [(2, 3, 1, 1010, 970, 990, 1030, "close")]


def test_day_without_bar_after_close_time_closes_at_last_close():
    # Arrange: the day ends at 09:05; the next day's bars do not count
    bars = make_bars(
        IB_ROWS
        + [
            ENTRY,
            ("2024-03-05 09:05", 1011, 1015, 1008, 1013),
            ("2024-03-06 09:30", 2000, 2000, 2000, 2000),
        ],
        spread_model="cost",
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params()], RunSettings())
    # Assert
    assert brief(trades) == [(2, 3, 1, 1010, 1013, 990, 1030, "close")]


def test_no_take_profit_when_tp_mult_is_zero():
    # Arrange: 09:03 would reach a 1:1 TP at 1030
    bars = make_bars(
        IB_ROWS
        + [
            ENTRY,
            ("2024-03-05 09:03", 1011, 1031, 1011, 1030),
            ("2024-03-05 09:20", 1025, 1026, 1024, 1025),
        ],
        spread_model="cost",
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params(tp_mult=0.0)], RunSettings())
    # Assert
    assert brief(trades) == [(2, 4, 1, 1010, 1025, 990, 0, "close")]
    assert trades["has_tp"].tolist() == [False]
