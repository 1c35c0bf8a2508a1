"""The reconcile's rows: one per backtest trade and live position, matched, missed by the bot
or extra in the bot, with the differences (times, prices, slippage, R, lots) and the
reasons this module can name for each mismatch (docs/ANALYSIS.md, "Reconcile")."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backtest.analysis.reconcile_match import (
    Backtest,
    day_levels,
    iso_utc,
    local_time,
    trading_day_of,
)
from backtest.core.config import SymbolSpec
from backtest.core.settings import RunSettings
from backtest.data.bars import day_date
from backtest.data.deal_records import SECOND_NS, Position
from backtest.strategy.params import compile_params
from backtest.strategy.trades import REASONS

CSV_COLUMNS = (
    "status",
    "trading_day",
    "direction",
    "bt_entry_time",
    "bt_exit_time",
    "bt_entry_price",
    "bt_exit_price",
    "bt_sl",
    "bt_tp",
    "bt_exit_reason",
    "bt_lots",
    "bt_r",
    "live_position",
    "live_entry_time",
    "live_entry_server_time",
    "live_exit_time",
    "live_entry_price",
    "live_exit_price",
    "live_sl_initial",
    "live_sl",
    "live_tp",
    "live_exit_reason",
    "live_exit_deals",
    "live_sl_moved",
    "live_lots",
    "live_r",
    "live_money",
    "live_comment",
    "entry_time_diff_s",
    "exit_time_diff_s",
    "entry_diff_points",
    "exit_diff_points",
    "entry_slippage_points",
    "exit_slippage_points",
    "exit_side",
    "r_diff",
    "lots_diff",
    "reasons",
)


# --- one row ----------------------------------------------------------------------------


def rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) + 0.0


def _live_fields(p: Position, spec: SymbolSpec, stop_points: float | None) -> dict[str, Any]:
    """The live position's columns; its R over ``stop_points`` (None: unknown)."""
    r = None
    exit_price = p.exit_price
    if stop_points and exit_price is not None:
        moved = p.direction * (exit_price - p.entry_price) / spec.point
        r = (moved - spec.commission_points) / stop_points
    return {
        "direction": "long" if p.direction > 0 else "short",
        "live_position": p.position_id,
        "live_entry_time": iso_utc(p.entry_time_ns),
        "live_entry_server_time": p.entry_server_time,
        "live_exit_time": iso_utc(p.exit_time_ns),
        "live_entry_price": rounded(p.entry_price, 8),
        "live_exit_price": rounded(exit_price, 8),
        "live_sl_initial": p.sl_initial,
        "live_sl": p.sl_final,
        "live_tp": p.tp_final,
        "live_exit_reason": p.exit_reason,
        "live_exit_deals": len(p.exits),
        "live_sl_moved": p.sl_moved,
        "live_lots": p.volume,
        "live_r": rounded(r),
        "live_money": rounded(p.net_money, 2),
        "live_comment": p.comment,
    }


def _bt_fields(bt: Backtest, i: int) -> dict[str, Any]:
    t = bt.trades[i]
    bars = bt.bars
    return {
        "trading_day": day_date(int(bars.day[t["entry_bar"]])).isoformat(),
        "direction": "long" if t["direction"] > 0 else "short",
        "bt_entry_time": iso_utc(int(bars.time_ns[t["entry_bar"]])),
        "bt_exit_time": iso_utc(int(bars.time_ns[t["exit_bar"]])),
        "bt_entry_price": float(bars.price(t["entry"])),
        "bt_exit_price": float(bars.price(t["exit"])),
        "bt_sl": float(bars.price(t["sl"])),
        "bt_tp": float(bars.price(t["tp"])) if t["has_tp"] else None,
        "bt_exit_reason": REASONS[int(t["reason"])],
        "bt_lots": float(t["lots"]),
        "bt_r": rounded(float(bt.r[i]), 6),
    }


def _exit_slippage(p: Position, bt: Backtest, i: int) -> tuple[float | None, str | None]:
    """(slippage of the closing deal in points, positive = worse, and its side) when the
    live exit is of the backtest's kind: an SL or TP exit against its level (the live
    order's when known, else the backtest's), a close against the backtest's close."""
    t = bt.trades[i]
    reason = REASONS[int(t["reason"])]
    last = p.exits[-1] if p.exits else None
    if last is None or last.reason != reason:
        return None, None
    point = bt.spec.point
    if reason == "close":
        return p.direction * (float(t["exit"]) - last.price / point), "exit_close"
    level = last.level
    if level is None:
        level = float(t["sl"] if reason == "sl" else t["tp"]) * point
    return p.direction * (level - last.price) / point, f"exit_{reason}"


def _px(spec: SymbolSpec, points: int | float) -> str:
    """Points as a price with the symbol's digits."""
    return f"{float(points) * spec.point:.{spec.digits}f}"


def _matched_row(bt: Backtest, i: int, p: Position) -> dict[str, Any]:
    t = bt.trades[i]
    spec = bt.spec
    stop = float(t["stop_points"])
    row = {**_bt_fields(bt, i), **_live_fields(p, spec, stop), "status": "matched"}
    entry_diff = p.direction * (p.entry_price / spec.point - float(t["entry"]))
    row["entry_time_diff_s"] = (p.entry_time_ns - int(bt.bars.time_ns[t["entry_bar"]])) / 1e9
    row["entry_diff_points"] = rounded(entry_diff, 2)
    row["entry_slippage_points"] = rounded(entry_diff + spec.slippage_points, 2)
    exit_price = p.exit_price
    if exit_price is not None and p.exit_time_ns is not None:
        row["exit_time_diff_s"] = (p.exit_time_ns - int(bt.bars.time_ns[t["exit_bar"]])) / 1e9
        row["exit_diff_points"] = rounded(
            p.direction * (float(t["exit"]) - exit_price / spec.point), 2
        )
        slip, side = _exit_slippage(p, bt, i)
        row["exit_slippage_points"], row["exit_side"] = rounded(slip, 2), side
        if row["live_r"] is not None:
            row["r_diff"] = rounded(row["live_r"] - float(bt.r[i]), 6)
    row["lots_diff"] = rounded(p.volume - float(t["lots"]), 8)
    return row


# --- reasons ----------------------------------------------------------------------------


def _reason(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def _hhmm(ns: int, timezone: str) -> str:
    return local_time(ns, timezone).strftime("%H:%M")


def _minutes_apart(a: int, b: int) -> str:
    seconds = abs(a - b) / 1e9
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _missed_reasons(
    bt: Backtest, i: int, positions: list[Position], tolerance_ns: int
) -> list[dict[str, str]]:
    t = bt.trades[i]
    bars, spec = bt.bars, bt.spec
    tz = spec.timezone
    day = int(bars.day[t["entry_bar"]])
    entry_ns = int(bars.time_ns[t["entry_bar"]])
    reasons = []
    levels = day_levels(bars, day, bt.params)
    b = int(t["entry_bar"])
    if levels is not None and levels["first_bar"] == b:
        s = int(bars.bar_spread()[b])
        before_slip = int(t["entry"]) - int(t["direction"]) * spec.slippage_points
        bid_open = int(bars.open[b])
        if t["direction"] > 0 and before_slip == bid_open + (s if spec.bid_ask else 0):
            level = levels["long"]
            if bid_open < level:
                reasons.append(
                    _reason(
                        "level_at_open",
                        f"spread above the level's distance: at {_hhmm(entry_ns, tz)} the bid "
                        f"opened {level - bid_open} points below the buy stop "
                        f"{_px(spec, level)} and the spread was {s} points: "
                        "the ask was already above it when the order was placed (a live "
                        "terminal refuses such a stop)",
                    )
                )
            else:
                reasons.append(
                    _reason(
                        "level_at_open",
                        f"the bar opened through the buy stop at {_hhmm(entry_ns, tz)} "
                        f"({_px(spec, bid_open)} >= "
                        f"{_px(spec, level)}): a live terminal refuses a "
                        "stop order on the wrong side of the market; the backtest fills at "
                        "the open",
                    )
                )
        elif t["direction"] < 0 and before_slip == bid_open:
            reasons.append(
                _reason(
                    "level_at_open",
                    f"the bar opened through the sell stop at {_hhmm(entry_ns, tz)} "
                    f"({_px(spec, bid_open)} <= "
                    f"{_px(spec, levels['short'])}): a live terminal refuses "
                    "a stop order on the wrong side of the market; the backtest fills at the "
                    "open",
                )
            )
    same_day = [p for p in positions if trading_day_of(p.entry_time_ns, tz) == day]
    if not same_day:
        reasons.append(
            _reason(
                "not_running",
                f"no position of the bot on {day_date(day).isoformat()}: was it running "
                "(or did its own filter block the day)?",
            )
        )
    for p in same_day:
        side = "long" if p.direction > 0 else "short"
        if p.direction != int(t["direction"]):
            reasons.append(
                _reason(
                    "other_direction",
                    f"the bot went {side} at {_hhmm(p.entry_time_ns, tz)} "
                    f"(position {p.position_id})",
                )
            )
        elif abs(p.entry_time_ns - entry_ns) > tolerance_ns:
            reasons.append(
                _reason(
                    "beyond_tolerance",
                    f"the bot entered {side} {_minutes_apart(p.entry_time_ns, entry_ns)} "
                    f"{'later' if p.entry_time_ns > entry_ns else 'earlier'} (position "
                    f"{p.position_id}), beyond the tolerance",
                )
            )
    return reasons


def _extra_reasons(
    p: Position,
    j: int,
    positions: list[Position],
    pairs_live: dict[int, int],
    bt: Backtest,
    settings: RunSettings,
    tolerance_ns: int,
) -> list[dict[str, str]]:
    spec, params, bars = bt.spec, bt.params, bt.bars
    tz = spec.timezone
    cp = compile_params(params, spec)
    reasons = []
    for k, other in enumerate(positions):
        if (
            k != j
            and other.direction == p.direction
            and abs(other.entry_time_ns - p.entry_time_ns) <= tolerance_ns
            and (k in pairs_live or k < j)
        ):
            reasons.append(
                _reason(
                    "opened_twice",
                    f"opened twice: position {other.position_id} entered "
                    f"{_minutes_apart(other.entry_time_ns, p.entry_time_ns)} apart in the same "
                    "direction",
                )
            )
            break
    minute_ns = 60 * SECOND_NS
    bar_open = p.entry_time_ns - p.entry_time_ns % minute_ns
    if cp.news_filter and len(settings.news_ns):
        from backtest.data.news import news_blocked

        if news_blocked(
            np.array([bar_open]), settings.news_ns, cp.news_before_ns, cp.news_after_ns
        )[0]:
            events = settings.news_ns
            near = events[np.argmin(np.abs(events - bar_open))]
            reasons.append(
                _reason(
                    "news_block",
                    f"a news block: the backtest's news filter blocks entries at "
                    f"{_hhmm(bar_open, tz)} (event at {iso_utc(int(near))}, "
                    f"{params['news_before']:g} min before to {params['news_after']:g} min after)",
                )
            )
    local = local_time(p.entry_time_ns, tz)
    minute = local.hour * 60 + local.minute
    if not cp.weekday_mask[local.dayofweek]:
        reasons.append(
            _reason(
                "outside_window",
                f"entered on a {local.strftime('%A')}, a weekday the parameters do not trade",
            )
        )
    elif not cp.ib_end <= minute < cp.trade_end:
        reasons.append(
            _reason(
                "outside_window",
                f"entered at {local.strftime('%H:%M')} local, outside the parameters' entry "
                f"window {params['ib_end']}..{params['trade_end']} (other parameters in the "
                "bot?)",
            )
        )
    day = trading_day_of(p.entry_time_ns, tz)
    levels = day_levels(bars, day, params)
    if levels is None:
        reasons.append(_reason("ib_filter", "the backtest has no IB bars that day"))
    elif levels["ib"] < cp.min_ib or (cp.max_ib and levels["ib"] > cp.max_ib):
        reasons.append(
            _reason(
                "ib_filter",
                f"the backtest skips the day: IB {_px(spec, levels['ib'])} "
                f"outside min_ib {params['min_ib']} .. max_ib {params['max_ib'] or 'none'}",
            )
        )
    bt_days = bt.days()
    bt_entries = bt.entry_ns()
    same = [i for i, d in enumerate(bt_days) if d == day]
    if not any(r["code"] == "opened_twice" for r in reasons) and (
        len(same) >= int(params["max_trades_per_day"])
    ):
        reasons.append(
            _reason(
                "max_trades",
                f"the backtest's day already has its {params['max_trades_per_day']} "
                "trade(s) per day",
            )
        )
    for i in same:
        side = "long" if bt.trades[i]["direction"] > 0 else "short"
        if int(bt.trades[i]["direction"]) != p.direction:
            reasons.append(
                _reason(
                    "other_direction", f"the backtest went {side} at {_hhmm(bt_entries[i], tz)}"
                )
            )
        elif abs(bt_entries[i] - p.entry_time_ns) > tolerance_ns:
            reasons.append(
                _reason(
                    "beyond_tolerance",
                    f"the backtest entered {side} "
                    f"{_minutes_apart(bt_entries[i], p.entry_time_ns)} "
                    f"{'later' if bt_entries[i] > p.entry_time_ns else 'earlier'}, beyond the "
                    "tolerance",
                )
            )
    if not p.closed:
        reasons.append(_reason("still_open", "still open at the end of the deals file"))
    return reasons


def _matched_reasons(row: dict[str, Any], p: Position) -> list[dict[str, str]]:
    reasons = []
    if p.partial:
        reasons.append(
            _reason("partial_close", f"closed in {len(p.exits)} deals (a partial close)")
        )
    if p.sl_moved:
        reasons.append(
            _reason("sl_moved", f"SL moved by hand: set at {p.sl_initial}, {p.sl_final} at the end")
        )
    if not p.closed:
        reasons.append(_reason("still_open", "still open at the end of the deals file"))
    elif p.exit_reason != row["bt_exit_reason"]:
        reasons.append(
            _reason(
                "exit_differs",
                f"exit differs: live {p.exit_reason}, backtest {row['bt_exit_reason']}",
            )
        )
    return reasons


def table_rows(
    bt: Backtest,
    positions: list[Position],
    pairs: list[tuple[int, int]],
    settings: RunSettings,
    tolerance_ns: int,
) -> list[dict[str, Any]]:
    by_bt = dict(pairs)
    by_live = {j: i for i, j in pairs}
    rows: list[tuple[int, dict[str, Any]]] = []
    for i in range(len(bt.trades)):
        if i in by_bt:
            p = positions[by_bt[i]]
            row = _matched_row(bt, i, p)
            row["reasons"] = _matched_reasons(row, p)
        else:
            row = {**_bt_fields(bt, i), "status": "missed"}
            row["reasons"] = _missed_reasons(bt, i, positions, tolerance_ns)
        rows.append((int(bt.bars.time_ns[bt.trades[i]["entry_bar"]]), row))
    for j, p in enumerate(positions):
        if j in by_live:
            continue
        d = None
        if p.sl_initial is not None:
            d = abs(p.entry_price - p.sl_initial) / bt.spec.point
        row = {
            **_live_fields(p, bt.spec, d),
            "status": "extra",
            "trading_day": day_date(trading_day_of(p.entry_time_ns, bt.spec.timezone)).isoformat(),
        }
        row["reasons"] = _extra_reasons(p, j, positions, by_live, bt, settings, tolerance_ns)
        rows.append((p.entry_time_ns, row))
    rows.sort(key=lambda item: item[0])
    return [{k: row.get(k) for k in CSV_COLUMNS} for _, row in rows]


def mark_shift(rows: list[dict[str, Any]], matched_ids: set[str], hours: int) -> None:
    """Tell the mismatched rows that the best whole-hour shift explains."""
    text = (
        f"matches with every time shifted {hours:+d} h: a different IB range because the "
        "server time zone is off"
    )
    explained_days = {
        row["trading_day"]
        for row in rows
        if row["status"] == "extra" and row["live_position"] in matched_ids
    }
    for row in rows:
        if row["status"] == "extra" and row["live_position"] in matched_ids:
            row["reasons"].append(_reason("server_tz", text))
        elif row["status"] == "missed" and row["trading_day"] in explained_days:
            row["reasons"].append(_reason("server_tz", text))
