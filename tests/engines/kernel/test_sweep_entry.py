"""Entries of the fast sweep: fill at the level, at the open, and which level first."""

from __future__ import annotations

from backtest.core.settings import RunSettings
from backtest.engines.sweep import run_sweep
from tests.engines.kernel.helpers import IB_ROWS, brief, make_bars, params

CLOSE_BAR = ("2024-03-05 09:20", 1005, 1006, 1004, 1005)


def test_long_fills_at_level_on_rising_bar_and_takes_profit_later():
    # Arrange: 09:02 rises 1000→999→1012: the buy stop 1010 fills on low→high
    bars = make_bars(
        IB_ROWS
        + [
            ("2024-03-05 09:02", 1000, 1012, 999, 1011),
            ("2024-03-05 09:03", 1011, 1031, 1011, 1030),
            CLOSE_BAR,
        ],
        spread_model="cost",
    )
    # Act
    [(trades, skipped)] = run_sweep(bars, [params()], RunSettings())
    # Assert: D = T = 20; TP 1030 reached on 09:03's low→high segment
    assert brief(trades) == [(2, 3, 1, 1010, 1030, 990, 1030, "tp")]
    assert trades["lots"].tolist() == [5000.0] and trades["stop_points"].tolist() == [20]
    assert skipped == 0


def test_bar_opening_through_level_fills_at_its_open():
    # Arrange: 09:02 opens at 1015, above the buy stop 1010
    bars = make_bars(
        IB_ROWS + [("2024-03-05 09:02", 1015, 1016, 1014, 1016), CLOSE_BAR], spread_model="cost"
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params()], RunSettings())
    # Assert: fill 1015, SL 995, TP 1035; closed at 09:20's open
    assert brief(trades) == [(2, 3, 1, 1015, 1005, 995, 1035, "close")]


def test_falling_bar_touching_both_levels_fills_long_then_stops_out_on_same_bar():
    # Arrange: falling 1000→1012→985→988 reaches 1010 before 990; D = 10, T = 40
    bars = make_bars(
        IB_ROWS + [("2024-03-05 09:02", 1000, 1012, 985, 988), CLOSE_BAR], spread_model="cost"
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params(sl_mult=0.5, tp_mult=2.0)], RunSettings())
    # Assert: the rest of the path (high→low) reaches SL 1000 on the entry bar
    assert brief(trades) == [(2, 2, 1, 1010, 1000, 1000, 1050, "sl")]


def test_rising_bar_touching_both_levels_fills_short_first():
    # Arrange: rising 1000→985→1012→1005 reaches 990 first
    bars = make_bars(
        IB_ROWS + [("2024-03-05 09:02", 1000, 1012, 985, 1005), CLOSE_BAR], spread_model="cost"
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params(sl_mult=0.5, tp_mult=2.0)], RunSettings())
    # Assert: short 990, SL 1000 reached on low→high of the same bar
    assert brief(trades) == [(2, 2, -1, 990, 1000, 1000, 950, "sl")]


def test_direction_long_ignores_the_sell_stop_and_buffer_moves_the_level():
    # Arrange: 09:02 touches 990 only; 09:03 reaches 1015 = IBH + 0.25 × 20
    bars = make_bars(
        IB_ROWS
        + [
            ("2024-03-05 09:02", 995, 996, 985, 994),
            ("2024-03-05 09:03", 1000, 1016, 999, 1014),
            CLOSE_BAR,
        ],
        spread_model="cost",
    )
    # Act
    [(trades, _)] = run_sweep(bars, [params(direction="long", entry_buffer=0.25)], RunSettings())
    # Assert
    assert brief(trades) == [(3, 4, 1, 1015, 1005, 995, 1035, "close")]
