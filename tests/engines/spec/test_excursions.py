"""Each trade's maximum adverse and favourable excursion (MAE/MFE), computed by hand.

docs/READINGS.md, reading 32: on the exit side's path (a long's bid, a short's ask =
bid + the bar's spread, spec section 8), from the point of entry (the rest of the entry
bar's path) to the point of exit (the exit bar's path up to the exit; a close at
``close_time``: that bar's open), measured from the fill after slippage, in points >= 0
(records: price units). Both engines (``run_both`` holds them equal).

GER40 (point 0.01), the IB hour 90..110 (IB = 20.00): L = 110.00, S = 90.00; sl_mult 0.25
(D = 5.00), tp_mult 0.5 (T = 10.00); a fixed spread of 0.50 (s = 50 points) in bid_ask.
"""

from __future__ import annotations

from typing import Any

from backtest.core.settings import RunSettings
from backtest.engines.run import ENGINES, raw_trades
from backtest.strategy.params import resolve_params
from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import brief, run_both

STOPS = {"sl_mult": 0.25, "tp_mult": 0.5}


def excursions(trade: dict[str, Any]) -> tuple[float, float]:
    return trade["mae"], trade["mfe"]


def test_long_on_the_bid_path():
    # Arrange: the long fills at 110.00 on the ask of 10:00 (bid 109.50 there); 10:01 dips
    # to a bid of 107 and peaks at 113; 10:02 falls to the SL (105, on the bid) first.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105.0, 112.0, 104.0, 111.0),  # rising: bid 105 → 104 → 112 → 111
            ("10:01", 111.0, 113.0, 107.0, 108.0),  # falling: bid 111 → 113 → 107 → 108
            ("10:02", 108.0, 125.0, 104.0, 124.0),  # rising: bid 108 → 105 (SL) → ...
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: the bid's lowest is the SL (105), its highest 113; 104 before the entry and
    # 104 / 125 after the exit do not count (they would make 6.00 and 15.00)
    assert brief(trade) == ("long", 110.0, 105.0, "sl")
    assert excursions(trade) == (5.0, 3.0)


def test_short_on_the_ask_path():
    # Arrange: the short fills at 90.00 on the bid of 10:00 (ask 90.50 there); the ask
    # dips to 86.50 at 10:01 and rises to the SL (95.00 on the ask) at 10:02.
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 95.0, 97.0, 88.0, 89.0),  # falling: ask 95.5 → 97.5 → 88.5 → 89.5
            ("10:01", 89.0, 93.0, 86.0, 92.0),  # rising: ask 89.5 → 86.5 → 93.5 → 92.5
            ("10:02", 92.0, 96.0, 79.0, 80.0),  # falling: ask 92.5 → 95 (SL) → ...
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: on the ask, the highest is the SL (95: MAE 5.00), the lowest 86.50 (MFE
    # 3.50, where the bid's 86 would say 4.00); the ask's 97.50 before the entry and
    # 79.50 after the exit do not count
    assert brief(trade) == ("short", 90.0, 95.0, "sl")
    assert excursions(trade) == (5.0, 3.5)


def test_cost_model_measures_the_short_on_the_bid():
    # Arrange: the bars above in `cost` (one path, the bid)
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 95.0, 97.0, 88.0, 89.0),
            ("10:01", 89.0, 93.0, 86.0, 92.0),
            ("10:02", 92.0, 96.0, 79.0, 80.0),
        ],
        spread=0.5,
        spread_model="cost",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: the bid dips to 86 (MFE 4.00) and reaches the SL at 95 (MAE 5.00)
    assert brief(trade) == ("short", 90.0, 95.0, "sl")
    assert excursions(trade) == (5.0, 4.0)


def test_entry_bar_path_before_the_entry_does_not_count():
    # Arrange: 10:00 falls to 95 before the ask reaches L (the entry at 110.00, bid
    # 109.50); the TP (120) at 10:01 after a dip to 108
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105.0, 112.0, 95.0, 111.0),  # rising: bid 105 → 95 → 112 → 111
            ("10:01", 111.0, 121.0, 108.0, 120.5),  # rising: bid 111 → 108 → 120 (TP)
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: MAE 110 - 108 (not 110 - 95 = 15.00), MFE the TP's 10.00
    assert brief(trade) == ("long", 110.0, 120.0, "tp")
    assert excursions(trade) == (2.0, 10.0)


def test_exit_bar_path_after_the_exit_does_not_count():
    # Arrange: entry at 110.00 (bid 109.50 at the entry point); 10:01 falling reaches the
    # TP (120) on its way up, then falls to 100 (below the SL, too late)
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 108.0, 112.0, 107.0, 111.0),  # rising: bid 108 → 107 → 112 → 111
            ("10:01", 111.0, 121.0, 100.0, 101.0),  # falling: bid 111 → 120 (TP) → ...
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: MAE the spread at the entry point (0.50), not 110 - 100 = 10.00
    assert brief(trade) == ("long", 110.0, 120.0, "tp")
    assert excursions(trade) == (0.5, 10.0)


def test_entered_and_stopped_on_one_bar():
    # Arrange: one falling bar: ask 96.5 → 97.5 → (entry at the bid's 90, ask 90.50) →
    # 85.5 → up to the SL (95 on the ask) → 95.5
    bars = make_bars(
        [IB_BAR, ("10:00", 96.0, 97.0, 85.0, 95.0)],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: only 90.50 → 85.50 → 95.00 counts: MAE 5.00 (not the 7.50 before the entry
    # nor the 5.50 of the close after the exit), MFE 4.50
    assert brief(trade) == ("short", 90.0, 95.0, "sl")
    assert excursions(trade) == (5.0, 4.5)


def test_close_time_counts_only_the_open_of_its_bar():
    # Arrange: a long (110.00, bid 109.50) and, on its own, a short (90.00, ask 90.50);
    # the bar at close_time (10:02, resp. 10:01) opens at 109 (91), then runs to 130 and 70
    long_bars = make_bars(
        [
            IB_BAR,
            ("10:00", 108.0, 112.0, 107.0, 111.0),  # rising: bid 108 → 107 → 112 → 111
            ("10:01", 111.0, 113.0, 110.5, 112.0),  # rising: bid 111 → 110.5 → 113 → 112
            ("10:02", 109.0, 130.0, 70.0, 100.0),  # close_time: closed at its open
        ],
        spread=0.5,
        spread_model="bid_ask",
    )
    short_bars = make_bars(
        [
            IB_BAR,
            ("10:00", 95.0, 96.0, 88.0, 89.0),  # falling: ask 95.5 → 96.5 → 88.5 → 89.5
            ("10:01", 91.0, 130.0, 70.0, 100.0),  # close_time: closed at its ask open 91.50
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [long], _, _ = run_both(long_bars, trade_end="10:01", close_time="10:02", **STOPS)
    [short], _, _ = run_both(short_bars, trade_end="10:01", close_time="10:01", **STOPS)

    # Assert: the long's lowest bid is the close's 109 (MAE 1.00), its highest 113; the
    # short's highest ask is the close's 91.50, its lowest 88.50
    assert brief(long) == ("long", 110.0, 109.0, "close")
    assert excursions(long) == (1.0, 3.0)
    assert brief(short) == ("short", 90.0, 91.5, "close")
    assert excursions(short) == (1.5, 1.5)


def test_day_without_a_close_bar_counts_its_last_bar_whole():
    # Arrange: the day ends at 10:01 (no bar at 22:00): closed at that bar's close 108,
    # after its high 113 and low 107
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 108.0, 112.0, 107.5, 111.0),  # rising: bid 108 → 107.5 → 112 → 111
            ("10:01", 111.0, 113.0, 107.0, 108.0),  # falling: bid 111 → 113 → 107 → 108
        ],
        spread=0.5,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert
    assert brief(trade) == ("long", 110.0, 108.0, "close")
    assert excursions(trade) == (3.0, 3.0)


def test_measured_from_the_fill_after_slippage():
    # Arrange: the long of test_long_on_the_bid_path with a slippage of 0.20: it fills at
    # 110.20, its SL stays at 105.00 (set from the fill before slippage) and slips to 104.80
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 105.0, 112.0, 104.0, 111.0),
            ("10:01", 111.0, 113.0, 107.0, 108.0),
            ("10:02", 108.0, 125.0, 104.0, 124.0),
        ],
        spread=0.5,
        spread_model="bid_ask",
        slippage=0.2,
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: 110.20 - 105 and 113 - 110.20; the exit's slippage is not the path's
    assert brief(trade) == ("long", 110.2, 104.8, "sl")
    assert excursions(trade) == (5.2, 2.8)


def test_stop_passed_at_the_point_of_entry():
    # Arrange: a spread of 6.00 (wider than D): the ask opens at 111 (through L), the bid
    # at 105 lies below the SL 106 at the point of entry (reading 27: exits there, at 106)
    bars = make_bars(
        [IB_BAR, ("10:00", 105.0, 112.0, 103.0, 111.0)],
        spread=6.0,
        spread_model="bid_ask",
    )

    # Act
    [trade], _, _ = run_both(bars, **STOPS)

    # Assert: the path is the one point of entry, the bid 105: MAE 6.00 (the spread)
    assert brief(trade) == ("long", 111.0, 106.0, "sl")
    assert excursions(trade) == (6.0, 0.0)


def test_raw_trades_hold_points():
    # Arrange: the short of test_short_on_the_ask_path
    bars = make_bars(
        [
            IB_BAR,
            ("10:00", 95.0, 97.0, 88.0, 89.0),
            ("10:01", 89.0, 93.0, 86.0, 92.0),
            ("10:02", 92.0, 96.0, 79.0, 80.0),
        ],
        spread=0.5,
        spread_model="bid_ask",
    )
    params = resolve_params("GER40", STOPS)

    # Act
    raw = {e: raw_trades(bars, [params], RunSettings(), e)[0][0] for e in ENGINES}

    # Assert: int64 points in both engines
    for trades in raw.values():
        assert trades["mae"].tolist() == [500]
        assert trades["mfe"].tolist() == [350]
