"""The reconcile's summary: counts and match rate, slippage per side against the configured
``slippage`` (spec section 8) with a one-line suggestion, R per trade live and backtest, the
reasons counted, and the server-time offset that explains the mismatches when one does."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from backtest.analysis.reconcile_match import Backtest, iso_utc
from backtest.analysis.reconcile_rows import rounded
from backtest.core.config import SymbolSpec
from backtest.data.bars import Bars, day_date
from backtest.data.deal_records import LiveHistory, Position
from backtest.data.server_tz import broker_offset_hours
from backtest.strategy.params import parse_hhmm

# --- summary ----------------------------------------------------------------------------


SIDES = ("entry", "exit_sl", "exit_tp", "exit_close")


def _stats(values: list[float], point: float) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median_points": None, "p95_points": None, "median": None, "p95": None}
    arr = np.asarray(values, dtype=np.float64)
    median, p95 = float(np.median(arr)), float(np.percentile(arr, 95))
    return {
        "n": len(values),
        "median_points": rounded(median, 2),
        "p95_points": rounded(p95, 2),
        "median": rounded(median * point, 8),
        "p95": rounded(p95 * point, 8),
    }


def slippage_summary(rows: list[dict[str, Any]], spec: SymbolSpec) -> dict[str, Any]:
    """Median and 95th percentile slippage per side (points and price; positive = worse
    than the backtest's fill before slippage), the stop fills (entry and SL exits)
    pooled, the configured ``slippage`` and a one-line suggestion."""
    by_side: dict[str, list[float]] = {s: [] for s in SIDES}
    for row in rows:
        if row["status"] != "matched":
            continue
        if row.get("entry_slippage_points") is not None:
            by_side["entry"].append(row["entry_slippage_points"])
        side = row.get("exit_side")
        if side in by_side and row.get("exit_slippage_points") is not None:
            by_side[side].append(row["exit_slippage_points"])
    stops = by_side["entry"] + by_side["exit_sl"]
    pooled = _stats(stops, spec.point)
    configured = {"slippage": spec.slippage, "points": spec.slippage_points}
    return {
        "sides": {s: _stats(v, spec.point) for s, v in by_side.items()},
        "stop_fills": pooled,
        "configured": configured,
        "suggestion": slippage_suggestion(pooled, spec),
    }


def slippage_suggestion(pooled: dict[str, Any], spec: SymbolSpec) -> str:
    """One line: the measured stop-fill slippage against the configured one."""
    now = f"configured slippage {spec.slippage:g} ({spec.slippage_points} points)"
    if not pooled["n"]:
        return f"no stop fill was matched: nothing measured ({now})"
    median = max(0.0, float(pooled["median_points"]))
    suggested = round(median * spec.point, spec.digits)
    few = " (fewer than 10 fills: check again after more sessions)" if pooled["n"] < 10 else ""
    if abs(round(median) - spec.slippage_points) <= 1:
        return (
            f"measured stop-fill slippage median {pooled['median_points']:g} points over "
            f"{pooled['n']} fills agrees with the {now}{few}"
        )
    return (
        f"measured stop-fill slippage median {pooled['median_points']:g} points over "
        f"{pooled['n']} fills, {now}: set symbols.{spec.name}.slippage: {suggested:g} "
        f"(or --slippage {suggested:g}) and re-run{few}"
    )


def _mean(values: list[float]) -> float | None:
    clean = [v for v in values if v is not None]
    return rounded(float(np.mean(clean)), 6) if clean else None


def offset_text(best: int, server_tz: str, counts: dict[int, int]) -> str:
    hours = broker_offset_hours(server_tz)
    if hours is not None:
        better = f"broker:NY{hours - best:+d}"
    else:
        better = f"a clock {abs(best)} h {'behind' if best > 0 else 'ahead of'} {server_tz}"
    return (
        f"with every time shifted {best:+d} h, {counts[best]} trades match instead of "
        f"{counts[0]}: a different IB range because the server time zone is off: "
        f"--server-tz {server_tz} is probably wrong, try {better}"
    )


def summarise(
    rows: list[dict[str, Any]],
    bt: Backtest,
    positions: list[Position],
    spec: SymbolSpec,
    start: int,
    end: int,
    period: Bars,
    shift: dict[str, Any],
    history: LiveHistory,
    params: dict[str, Any],
) -> dict[str, Any]:
    counts = Counter(row["status"] for row in rows)
    matched, missed, extra = counts["matched"], counts["missed"], counts["extra"]
    compared = matched + missed + extra
    reasons: Counter[str] = Counter(
        r["code"] for row in rows if row["status"] != "matched" for r in row["reasons"]
    )
    unexplained = sum(1 for row in rows if row["status"] != "matched" and not row["reasons"])
    pairs = [row for row in rows if row["status"] == "matched"]
    session_start = dt.datetime.combine(
        day_date(start),
        dt.time(parse_hhmm(params["ib_start"]) // 60, parse_hhmm(params["ib_start"]) % 60),
        ZoneInfo(spec.timezone),
    ).astimezone(dt.UTC)
    deal_times = [d.time_ns for d in history.deals] or [p.entry_time_ns for p in positions]
    return {
        "counts": {
            "backtest": len(bt.trades),
            "live": len(positions),
            "matched": matched,
            "missed": missed,
            "extra": extra,
        },
        "match_rate": rounded(matched / compared, 6) if compared else None,
        "slippage": slippage_summary(rows, spec),
        "r_per_trade": {
            "backtest": _mean([float(r) for r in bt.r]),
            "live": _mean([row["live_r"] for row in rows if row["status"] != "missed"]),
            "matched_backtest": _mean([row["bt_r"] for row in pairs]),
            "matched_live": _mean([row["live_r"] for row in pairs]),
            "matched_diff": _mean([row["r_diff"] for row in pairs]),
        },
        "reasons": dict(sorted(reasons.items())),
        "unexplained": unexplained,
        "server_time_offset": shift,
        "period": {
            "start_date": day_date(start).isoformat(),
            "end_date": day_date(end).isoformat(),
            "trading_days": len(np.unique(period.day)),
            "session_start": session_start.isoformat(),
            "first_deal": iso_utc(min(deal_times)) if deal_times else None,
            "last_deal": iso_utc(max(deal_times)) if deal_times else None,
        },
    }
