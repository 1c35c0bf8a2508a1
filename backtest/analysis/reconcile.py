"""Close the loop with the live bot: what it did against what the backtest says it should
have done (``invoke reconcile``; docs/ANALYSIS.md, "Reconcile").

The bot's deals (:mod:`backtest.data.deals`: the terminal's HTML account history report or
a ``history_deals_get`` CSV) are turned into positions. The deployed parameters (a
combination of a finished run, ``--from``, or what ``invoke promote`` wrote into the bot
folder, ``--bot-dir``) are re-run with the deployment's recorded settings over the days
the deals cover, on bars the user exported for those days. Each backtest trade is matched
to a live position (same direction, entries within the tolerance; closest pairs first):

- **matched**: entry and exit time and price differences (points, positive = the live
  price was worse), the slippage of each fill against the level the backtest's model
  fills at before slippage (entry, and the exit by its kind: SL, TP, close), R and lots
  differences;
- **missed** by the bot (a backtest trade without a live position) and **extra** in the
  bot (a live position without a backtest trade), each with the reasons this module can
  name: a news block, a stop level already passed (or within the spread) when the order
  was placed, a day without any position of the bot, a server time zone that is off
  (the matches improve when every time is shifted by whole hours), a second position
  opened for one signal, an entry outside the parameters' window, a skipped IB.

The summary gives the match rate, the median and 95th percentile slippage per side
beside the configured ``slippage`` (spec section 8) with a one-line suggestion, R per
trade live and backtest, the reasons counted, and a server-time offset when one explains
the mismatches. :func:`write_outputs` writes ``reconcile_{SYMBOL}.csv``, ``.json`` (with
provenance) and ``.html``; :func:`reconcile_evidence` is what a promotion check can ask:
is there a reconcile of these parameters, of a session that started after a moment, with
a match rate at or above a minimum (PASS / FAIL / MISSING, with the reason).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from backtest.core.config import SymbolSpec, symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, day_date, day_number
from backtest.data.deal_records import HOUR_NS, SECOND_NS, LiveHistory, Position
from backtest.data.deals import read_deals
from backtest.data.loaders import MAX_ROWS, load_bars
from backtest.data.server_tz import broker_offset_hours, check_server_tz
from backtest.strategy.params import compile_params, distance_points, parse_hhmm
from backtest.strategy.trades import REASONS, trade_values

DEFAULT_TOLERANCE = "2m"
DEFAULT_BROKER_TZ = "broker:NY+7"  # as backtest.analysis.rerun: the usual MT5 server clock
SHIFT_HOURS = (-3, -2, -1, 1, 2, 3)  # whole-hour server-clock offsets tried on a mismatch
MIN_MATCH = 0.9
BOT_OUTPUT_DIR = "ibsweep_reconcile"  # inside the bot folder, one sub-folder per account
PASS, FAIL, MISSING = "PASS", "FAIL", "MISSING"
FORMAT_VERSION = 1
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


class ReconcileError(ValueError):
    """Bad input to a reconcile (exit code 2): one line naming the file or option."""


# --- options ----------------------------------------------------------------------------


def parse_tolerance(text: str | int | float) -> int:
    """``2m``, ``90s``, ``1h`` or a number of minutes as ns; ReconcileError otherwise."""
    value = str(text).strip().lower()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", value)
    if not match or float(match.group(1)) <= 0:
        raise ReconcileError(f"--tolerance: {text!r} is not a duration such as 2m, 90s or 1h")
    unit = {"s": 1, "m": 60, "h": 3600, "": 60}[match.group(2)]
    seconds = float(match.group(1)) * unit
    if seconds > 24 * 3600:
        raise ReconcileError(f"--tolerance: {text!r} is longer than a day")
    return int(round(seconds * SECOND_NS))


def parameter_set_sha256(symbol: str, params: dict[str, Any], risk: float) -> str:
    """The identity of a parameter set as ``invoke promote`` records it (sha256 of the
    canonical JSON of symbol, resolved parameters and risk per trade)."""
    body = json.dumps(
        {"symbol": symbol, "params": params, "risk": float(risk)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


# --- what is deployed -------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """The parameters to reconcile against and the settings the backtest runs them with."""

    symbol: str
    params: dict[str, Any]
    spec: SymbolSpec
    settings: RunSettings  # risk, account and limits (news added by :func:`reconcile`)
    news_file: str | None
    server_tz: str | None  # the run's recorded broker clock, if any
    engine: str
    account: str | None  # demo / real when known
    source: dict[str, Any]  # provenance: where the parameters and settings come from
    params_sha256: str


def from_run(out_dir: Path, group_id: str, combo: int, symbol: str | None, cfg: dict) -> Deployment:
    """Combination ``combo`` of group ``group_id`` of the run in ``out_dir``, with the run's
    recorded symbol settings, risk, account, limits, news file and engine."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.panel import settings_of
    from backtest.analysis.rerun import pick, recorded_spec
    from backtest.analysis.table import RunTable

    out_dir = Path(out_dir)
    sym = detect_symbol([out_dir], symbol)
    table = RunTable.read(out_dir, sym, checkpoint_fallback=False)
    meta = table.results["metadata"]
    chosen = pick(table, group_id, combo)
    spec = recorded_spec(meta, cfg)
    settings = settings_of(meta)
    return Deployment(
        symbol=sym,
        params=chosen.params,
        spec=spec,
        settings=settings,
        news_file=meta.get("news_file"),
        server_tz=meta.get("server_tz"),
        engine=str(meta.get("engine") or "fast"),
        account=None,
        source={
            "kind": "run",
            "dir": str(out_dir.resolve()),
            "group_id": group_id,
            "combo": combo,
            "period": meta.get("period"),
            "code_version": meta.get("code_version"),
            "symbol_settings": "recorded by the run"
            if isinstance(meta.get("symbol_settings"), dict)
            else "today's config (the run recorded none)",
        },
        params_sha256=parameter_set_sha256(sym, chosen.params, settings.risk),
    )


def _env_value(path: Path, key: str) -> str | None:
    """``key``'s value in a ``.env`` file (``KEY=VALUE``, ``export``, quotes, comments);
    None when the file or the key is not there. Only this one value is read."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if not match or match.group(1) != key:
            continue
        value = match.group(2).strip()
        if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
            return value[1 : value.find(value[0], 1)]
        return re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return None


def from_bot(bot_dir: Path, symbol: str, cfg: dict) -> Deployment:
    """What ``invoke promote`` deployed for ``symbol`` in ``bot_dir``: the parameters and
    settings of ``ibsweep_params_{SYMBOL}.json``; the symbol settings the in-sample run
    recorded when its folder is here (else today's config, said in the provenance); the
    news file the bot's ``.env`` names."""
    bot = Path(bot_dir)
    if not bot.is_dir():
        raise ReconcileError(f"{bot}: --bot-dir: not a folder")
    path = bot / f"ibsweep_params_{symbol}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        params, settings = document["params"], document["settings"]
        run_settings = RunSettings(
            risk=float(settings["risk"]),
            account_size=float(settings["account_size"]),
            daily_loss_limit_pct=float(settings["daily_loss_limit_pct"]),
            max_loss_limit_pct=float(settings["max_loss_limit_pct"]),
        )
    except FileNotFoundError:
        raise ReconcileError(
            f"{path}: no promoted parameters of {symbol} in the bot folder (invoke promote)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReconcileError(f"{path}: not a readable parameter file: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise ReconcileError(f"{path}: field {exc} missing") from None
    ins = (document.get("provenance") or {}).get("in_sample") or {}
    spec, recorded = symbol_spec(symbol, cfg), "today's config (the in-sample run is not here)"
    server_tz, engine = None, "fast"
    run_dir = Path(str(ins.get("dir") or ""))
    if ins.get("dir") and (run_dir / f"results_full_{symbol}.json").is_file():
        from backtest.analysis.rerun import recorded_spec
        from backtest.runner.outputs import read_results

        try:
            meta = read_results(run_dir, symbol, combos=False)["metadata"]
        except (ValueError, OSError):
            meta = None
        if meta is not None:
            spec, recorded = recorded_spec(meta, cfg), f"recorded by the run {run_dir}"
            server_tz, engine = meta.get("server_tz"), str(meta.get("engine") or "fast")
    promote_cfg = cfg.get("promote", {})
    env = bot / str(promote_cfg.get("env_file", ".env"))
    news = _env_value(env, str(promote_cfg.get("env_news_file", "NEWS_FILE")))
    if news and not Path(news).is_absolute():
        news = str(bot / news)
    account = _env_value(env, str(promote_cfg.get("env_account", "ACCOUNT_TYPE")))
    sha = parameter_set_sha256(symbol, params, run_settings.risk)
    return Deployment(
        symbol=symbol,
        params=params,
        spec=spec,
        settings=run_settings,
        news_file=news,
        server_tz=server_tz,
        engine=engine,
        account=(account or str(document.get("account") or "")).lower() or None,
        source={
            "kind": "bot",
            "dir": str(bot.resolve()),
            "params_file": str(path.resolve()),
            "promoted_at": document.get("promoted_at"),
            "promoted_for": document.get("account"),
            "params_sha256_recorded": document.get("params_sha256"),
            "in_sample": {k: ins.get(k) for k in ("dir", "group_id", "combo")},
            "symbol_settings": recorded,
        },
        params_sha256=sha,
    )


# --- the result -------------------------------------------------------------------------


@dataclass
class Reconciliation:
    """One reconcile: its rows, summary and provenance (the JSON document's parts)."""

    symbol: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "reconcile",
            "symbol": self.symbol,
            "summary": self.summary,
            "notes": self.notes,
            "provenance": self.provenance,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class Request:
    """Everything one reconcile reads (the task's options, resolved)."""

    deals: Path
    data_file: Path
    deployment: Deployment
    server_tz: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    tolerance: str = DEFAULT_TOLERANCE
    deal_symbols: tuple[str, ...] = ()
    magics: tuple[int, ...] = ()
    account: str | None = None
    news_file: str | None = None
    engine: str | None = None


# --- times ------------------------------------------------------------------------------


def _iso(ns: int | None) -> str | None:
    return None if ns is None else pd.Timestamp(int(ns), tz="UTC").isoformat()


def _day_of(ns: int, timezone: str) -> int:
    """The trading day (days since 1970) of a UTC ns time in the session time zone."""
    local = pd.Timestamp(int(ns), tz="UTC").tz_convert(timezone)
    return day_number(local.date())


def _local(ns: int, timezone: str) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz="UTC").tz_convert(timezone)


def _date_option(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return day_number(dt.date.fromisoformat(str(value)))
    except ValueError:
        raise ReconcileError(f"{option}: {value!r} is not a date YYYY-MM-DD") from None


def _is_server_clock(path: Path) -> bool:
    """Whether a bars file is an MT5 export (its times on the server clock), as the
    loader decides (the ``<DATE>`` header)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if head.startswith(b"PAR1"):
        return False
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    lines = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()
    return bool(lines) and "<DATE>" in lines[0].upper()


def shifted_bars(bars: Bars, hours: int) -> Bars:
    """``bars`` with every time ``hours`` later (the local day, minute and weekday
    recomputed): the bars as a server clock off by that many hours would have given."""
    ns = bars.time_ns + np.int64(hours) * HOUR_NS
    local = pd.DatetimeIndex(ns.astype("datetime64[ns]"), tz="UTC").tz_convert(bars.symbol.timezone)
    naive = local.tz_localize(None)
    day = ((naive.normalize() - pd.Timestamp("1970-01-01")).days).to_numpy(np.int32)
    return replace(
        bars,
        time_ns=ns,
        day=day,
        minute=(local.hour * 60 + local.minute).to_numpy(np.int16),
        weekday=local.dayofweek.to_numpy(np.int8),
    )


# --- matching ---------------------------------------------------------------------------


def match_pairs(
    bt_entry_ns: list[int],
    bt_direction: list[int],
    live_entry_ns: list[int],
    live_direction: list[int],
    tolerance_ns: int,
) -> list[tuple[int, int]]:
    """``(backtest index, live index)`` pairs: same direction, entries at most
    ``tolerance_ns`` apart, each trade in at most one pair; the closest pairs first
    (ties: the earlier backtest trade, then the earlier live position)."""
    candidates = sorted(
        (abs(live - bt), i, j)
        for i, (bt, b_dir) in enumerate(zip(bt_entry_ns, bt_direction))
        for j, (live, l_dir) in enumerate(zip(live_entry_ns, live_direction))
        if b_dir == l_dir and abs(live - bt) <= tolerance_ns
    )
    used_bt: set[int] = set()
    used_live: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i in used_bt or j in used_live:
            continue
        used_bt.add(i)
        used_live.add(j)
        pairs.append((i, j))
    return sorted(pairs)


# --- the backtest side ------------------------------------------------------------------


@dataclass
class Backtest:
    """The re-run's trades over the reconciled days, with what the reasons need."""

    bars: Bars
    trades: np.ndarray  # TRADE_DTYPE
    r: np.ndarray
    spec: SymbolSpec
    params: dict[str, Any]

    def entry_ns(self) -> list[int]:
        return [int(t) for t in self.bars.time_ns[self.trades["entry_bar"]]]

    def exit_ns(self) -> list[int]:
        return [int(t) for t in self.bars.time_ns[self.trades["exit_bar"]]]

    def directions(self) -> list[int]:
        return [int(d) for d in self.trades["direction"]]

    def days(self) -> list[int]:
        return [int(d) for d in self.bars.day[self.trades["entry_bar"]]]


def run_backtest(
    bars: Bars, params: dict[str, Any], settings: RunSettings, engine: str
) -> Backtest:
    from backtest.engines.run import raw_trades

    ((trades, _skipped),) = raw_trades(bars, [params], settings, engine)
    r = trade_values(trades, bars)["r"] if len(trades) else np.zeros(0)
    return Backtest(bars, trades, np.asarray(r, dtype=np.float64), bars.symbol, params)


def day_levels(bars: Bars, day: int, params: dict[str, Any]) -> dict[str, Any] | None:
    """The IB of trading day ``day`` and its entry levels in points (spec section 3):
    ``{"ibh", "ibl", "ib", "long", "short", "first_bar"}``; None without IB bars."""
    cp = compile_params(params, bars.symbol)
    lo = int(np.searchsorted(bars.day, day, side="left"))
    hi = int(np.searchsorted(bars.day, day, side="right"))
    minutes = bars.minute[lo:hi]
    walk = np.flatnonzero(minutes >= cp.ib_end)
    first = lo + int(walk[0]) if len(walk) else hi
    ib = np.arange(lo, first)[minutes[: first - lo] >= cp.ib_start]
    if not len(ib):
        return None
    ibh, ibl = int(bars.high[ib].max()), int(bars.low[ib].min())
    size = ibh - ibl
    buffer = int(distance_points(cp.entry_buffer, size))
    return {
        "ibh": ibh,
        "ibl": ibl,
        "ib": size,
        "long": ibh + buffer,
        "short": ibl - buffer,
        "first_bar": first if first < hi else None,
    }


# --- one row ----------------------------------------------------------------------------


def _pts(price: float | None, point: float) -> float | None:
    return None if price is None else price / point


def _rounded(value: float | None, digits: int = 4) -> float | None:
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
        "live_entry_time": _iso(p.entry_time_ns),
        "live_entry_server_time": p.entry_server_time,
        "live_exit_time": _iso(p.exit_time_ns),
        "live_entry_price": _rounded(p.entry_price, 8),
        "live_exit_price": _rounded(exit_price, 8),
        "live_sl_initial": p.sl_initial,
        "live_sl": p.sl_final,
        "live_tp": p.tp_final,
        "live_exit_reason": p.exit_reason,
        "live_exit_deals": len(p.exits),
        "live_sl_moved": p.sl_moved,
        "live_lots": p.volume,
        "live_r": _rounded(r),
        "live_money": _rounded(p.net_money, 2),
        "live_comment": p.comment,
    }


def _bt_fields(bt: Backtest, i: int) -> dict[str, Any]:
    t = bt.trades[i]
    bars = bt.bars
    return {
        "trading_day": day_date(int(bars.day[t["entry_bar"]])).isoformat(),
        "direction": "long" if t["direction"] > 0 else "short",
        "bt_entry_time": _iso(int(bars.time_ns[t["entry_bar"]])),
        "bt_exit_time": _iso(int(bars.time_ns[t["exit_bar"]])),
        "bt_entry_price": float(bars.price(t["entry"])),
        "bt_exit_price": float(bars.price(t["exit"])),
        "bt_sl": float(bars.price(t["sl"])),
        "bt_tp": float(bars.price(t["tp"])) if t["has_tp"] else None,
        "bt_exit_reason": REASONS[int(t["reason"])],
        "bt_lots": float(t["lots"]),
        "bt_r": _rounded(float(bt.r[i]), 6),
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
    row["entry_diff_points"] = _rounded(entry_diff, 2)
    row["entry_slippage_points"] = _rounded(entry_diff + spec.slippage_points, 2)
    exit_price = p.exit_price
    if exit_price is not None and p.exit_time_ns is not None:
        row["exit_time_diff_s"] = (p.exit_time_ns - int(bt.bars.time_ns[t["exit_bar"]])) / 1e9
        row["exit_diff_points"] = _rounded(
            p.direction * (float(t["exit"]) - exit_price / spec.point), 2
        )
        slip, side = _exit_slippage(p, bt, i)
        row["exit_slippage_points"], row["exit_side"] = _rounded(slip, 2), side
        if row["live_r"] is not None:
            row["r_diff"] = _rounded(row["live_r"] - float(bt.r[i]), 6)
    row["lots_diff"] = _rounded(p.volume - float(t["lots"]), 8)
    return row


# --- reasons ----------------------------------------------------------------------------


def _reason(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def _hhmm(ns: int, timezone: str) -> str:
    return _local(ns, timezone).strftime("%H:%M")


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
    same_day = [p for p in positions if _day_of(p.entry_time_ns, tz) == day]
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
                    f"{_hhmm(bar_open, tz)} (event at {_iso(int(near))}, "
                    f"{params['news_before']} min before to {params['news_after']} min after)",
                )
            )
    local = _local(p.entry_time_ns, tz)
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
    day = _day_of(p.entry_time_ns, tz)
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


# --- summary ----------------------------------------------------------------------------


SIDES = ("entry", "exit_sl", "exit_tp", "exit_close")


def _stats(values: list[float], point: float) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median_points": None, "p95_points": None, "median": None, "p95": None}
    arr = np.asarray(values, dtype=np.float64)
    median, p95 = float(np.median(arr)), float(np.percentile(arr, 95))
    return {
        "n": len(values),
        "median_points": _rounded(median, 2),
        "p95_points": _rounded(p95, 2),
        "median": _rounded(median * point, 8),
        "p95": _rounded(p95 * point, 8),
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
    return _rounded(float(np.mean(clean)), 6) if clean else None


def _offset_text(best: int, server_tz: str, counts: dict[int, int]) -> str:
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


# --- the reconcile ----------------------------------------------------------------------


def _news_settings(
    request: Request, settings: RunSettings, params: dict, spec: SymbolSpec
) -> tuple[RunSettings, str | None]:
    news = request.news_file or request.deployment.news_file
    if not params.get("news_filter"):
        return settings, news
    if not news or not Path(news).is_file():
        raise ReconcileError(
            f"{news or '--news-file'}: news_filter is on and the news file is not there: "
            "give --news-file"
        )
    from backtest.data.news import NewsError, event_times, load_news

    try:
        events = event_times(load_news(news), spec.currencies)
    except NewsError as exc:
        raise ReconcileError(str(exc)) from None
    return replace(settings, news_ns=events), news


def reconcile(request: Request, cfg: dict[str, Any] | None = None) -> Reconciliation:
    """The reconcile of ``request`` (module doc); ReconcileError, DealsError or DataError
    on bad input, before anything is written."""
    deployment = request.deployment
    spec, params, symbol = deployment.spec, deployment.params, deployment.symbol
    tz = spec.timezone
    notes: list[str] = []
    tolerance_ns = parse_tolerance(request.tolerance)
    server_tz = request.server_tz or deployment.server_tz
    if server_tz is None:
        server_tz = DEFAULT_BROKER_TZ
        notes.append(f"server time zone {DEFAULT_BROKER_TZ} (the default: give --server-tz)")
    check_server_tz(server_tz, "--server-tz")
    engine = request.engine or deployment.engine
    history = read_deals(
        request.deals, server_tz, request.deal_symbols or (symbol,), request.magics
    )
    notes += history.notes
    first_day = _date_option(request.start_date, "--start-date")
    last_day = _date_option(request.end_date, "--end-date")
    positions = [
        p
        for p in history.positions
        if (first_day is None or _day_of(p.entry_time_ns, tz) >= first_day)
        and (last_day is None or _day_of(p.entry_time_ns, tz) <= last_day)
    ]
    dropped = len(history.positions) - len(positions)
    if dropped:
        notes.append(f"{dropped} position(s) outside --start-date..--end-date left out")
    times = [p.entry_time_ns for p in positions] + [e.time_ns for p in positions for e in p.exits]
    if not times and (first_day is None or last_day is None):
        raise ReconcileError(
            f"{request.deals}: no position of {symbol} to reconcile (between the dates "
            "given): give --start-date and --end-date to reconcile days without trades"
        )
    days = [_day_of(t, tz) for t in times]
    start = first_day if first_day is not None else min(days)
    end = last_day if last_day is not None else max(days)
    if start > end:
        raise ReconcileError(f"--start-date {request.start_date} is after --end-date")
    server_clock = _is_server_clock(Path(request.data_file))
    max_rows = int(((cfg or {}).get("run") or {}).get("max_data_rows", MAX_ROWS))
    loaded = load_bars(
        request.data_file, spec, server_tz if server_clock else None, False, notes.append, max_rows
    )
    if not len(loaded):
        raise ReconcileError(f"{request.data_file}: no bars")
    bar_first, bar_last = int(loaded.day[0]), int(loaded.day[-1])
    outside = [t for t, d in zip(times, days) if not bar_first <= d <= bar_last]
    if outside or start < bar_first or end > bar_last:
        when = _iso(outside[0]) if outside else f"{day_date(start)}..{day_date(end)}"
        raise ReconcileError(
            f"{request.deals}: deals outside the bars' dates: {when} is not in "
            f"{request.data_file} ({day_date(bar_first)}..{day_date(bar_last)}): export the "
            "bars of the days the deals cover"
        )
    settings, news = _news_settings(request, deployment.settings, params, spec)
    period = loaded.between(day_date(start), day_date(end))
    bt = run_backtest(period, params, settings, engine)
    live_entries = [p.entry_time_ns for p in positions]
    live_dirs = [p.direction for p in positions]
    pairs = match_pairs(bt.entry_ns(), bt.directions(), live_entries, live_dirs, tolerance_ns)
    rows = _rows(bt, positions, pairs, settings, tolerance_ns)
    shift: dict[str, Any] = {"tried": False}
    if len(pairs) < max(len(positions), len(bt.trades)):
        counts, rematched = _shift_scan(
            loaded, start, end, bt, positions, settings, engine, tolerance_ns,
            server_clock,
        )  # fmt: skip
        best = max(counts, key=lambda h: (counts[h], -abs(h)))
        shift = {"tried": True, "matches_by_hours": {f"{h:+d}": n for h, n in counts.items()}}
        if counts[best] > counts[0]:
            shift["best_hours"] = best
            shift["text"] = _offset_text(best, server_tz, counts)
            _mark_shift(rows, rematched[best], best)
    summary = _summary(rows, bt, positions, spec, start, end, period, shift, history, params)
    account = (request.account or deployment.account or "unknown").lower()
    summary["account"] = account
    from backtest.core.version import code_version

    provenance = {
        "deals": history.provenance(),
        "bars": {
            "path": str(request.data_file),
            "sha256": loaded.checksum,
            "server_clock": server_clock,
            "bars": len(period),
            "first_bar": _iso(int(period.time_ns[0])) if len(period) else None,
            "last_bar": _iso(int(period.time_ns[-1])) if len(period) else None,
        },
        "params": params,
        "params_sha256": deployment.params_sha256,
        "settings": {
            "risk": settings.risk,
            "account_size": settings.account_size,
            "daily_loss_limit_pct": settings.daily_loss_limit_pct,
            "max_loss_limit_pct": settings.max_loss_limit_pct,
            "news_file": news if params.get("news_filter") else None,
            "symbol_settings": spec.as_dict(),
        },
        "source": deployment.source,
        "server_tz": server_tz,
        "tolerance_s": tolerance_ns / SECOND_NS,
        "engine": engine,
        "code_version": code_version(),
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Reconciliation(symbol, rows, summary, provenance, notes)


def _rows(
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
            "trading_day": day_date(_day_of(p.entry_time_ns, bt.spec.timezone)).isoformat(),
        }
        row["reasons"] = _extra_reasons(p, j, positions, by_live, bt, settings, tolerance_ns)
        rows.append((p.entry_time_ns, row))
    rows.sort(key=lambda item: item[0])
    return [{k: row.get(k) for k in CSV_COLUMNS} for _, row in rows]


def _shift_scan(
    loaded: Bars,
    start: int,
    end: int,
    bt: Backtest,
    positions: list[Position],
    settings: RunSettings,
    engine: str,
    tolerance_ns: int,
    server_clock: bool,
) -> tuple[dict[int, int], dict[int, set[str]]]:
    """Matches when every server-clock time is ``h`` hours later, for each whole ``h``
    of :data:`SHIFT_HOURS` (0: as given), and the live positions matched at each ``h``.
    Bars on the server clock (an MT5 export) are shifted with the deals and re-run;
    bars in UTC stay, only the deals move."""
    counts: dict[int, int] = {}
    matched: dict[int, set[str]] = {}
    # the days around the reconciled ones are enough to shift (a few hours either way)
    near = loaded.between(day_date(start - 1), day_date(end + 1)) if server_clock else loaded
    for hours in (0, *SHIFT_HOURS):
        shift_ns = hours * HOUR_NS
        trades = bt
        if server_clock and hours:
            period = shifted_bars(near, hours).between(day_date(start), day_date(end))
            trades = run_backtest(period, bt.params, settings, engine)
        pairs = match_pairs(
            trades.entry_ns(),
            trades.directions(),
            [p.entry_time_ns + shift_ns for p in positions],
            [p.direction for p in positions],
            tolerance_ns,
        )
        counts[hours] = len(pairs)
        matched[hours] = {positions[j].position_id for _, j in pairs}
    return counts, matched


def _mark_shift(rows: list[dict[str, Any]], matched_ids: set[str], hours: int) -> None:
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


def _summary(
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
        "match_rate": _rounded(matched / compared, 6) if compared else None,
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
            "first_deal": _iso(min(deal_times)) if deal_times else None,
            "last_deal": _iso(max(deal_times)) if deal_times else None,
        },
    }


# --- outputs ----------------------------------------------------------------------------


def output_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    stem = Path(out_dir) / f"reconcile_{symbol}"
    return {kind: Path(f"{stem}.{kind}") for kind in ("csv", "json", "html")}


def default_output_dir(from_dir: Path | None, bot_dir: Path | None, account: str) -> Path:
    """``--from`` OUT itself; a bot folder's ``ibsweep_reconcile/{account}/``."""
    if from_dir is not None:
        return Path(from_dir)
    assert bot_dir is not None, "either --from or --bot-dir"
    return Path(bot_dir) / BOT_OUTPUT_DIR / account


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(r["text"] for r in value)
    if isinstance(value, bool):
        return str(value).lower()
    return value


def rows_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(row.get(k)) for k in CSV_COLUMNS])
    return buffer.getvalue()


def write_outputs(result: Reconciliation, out_dir: Path) -> dict[str, Path]:
    """``reconcile_{SYMBOL}.csv``, ``.html`` and, last (what evidence reads), ``.json``."""
    from backtest.analysis.reconcile_page import page
    from backtest.core.atomic import atomic_write_text

    paths = output_paths(out_dir, result.symbol)
    document = result.document()
    atomic_write_text(paths["csv"], rows_csv(result.rows))
    atomic_write_text(paths["html"], page(document))
    atomic_write_text(
        paths["json"], json.dumps(document, indent=1, allow_nan=False, default=str) + "\n"
    )
    return paths


def summary_lines(result: Reconciliation) -> list[str]:
    """What ``invoke reconcile`` prints."""
    s = result.summary
    c = s["counts"]
    rate = "n/a" if s["match_rate"] is None else f"{s['match_rate']:.1%}"
    period = s["period"]
    lines = [
        f"reconcile {result.symbol} ({s['account']}) {period['start_date']}..{period['end_date']}"
        f": {c['backtest']} backtest trades, {c['live']} live positions",
        f"matched {c['matched']}, missed by the bot {c['missed']}, extra in the bot "
        f"{c['extra']}: match rate {rate}",
    ]
    slip = s["slippage"]
    for side, stats in slip["sides"].items():
        if stats["n"]:
            lines.append(
                f"  slippage {side:<10} n={stats['n']:<3} median {stats['median_points']:g} "
                f"points, p95 {stats['p95_points']:g} points"
            )
    lines.append(f"  {slip['suggestion']}")
    r = s["r_per_trade"]
    lines.append(
        f"R per trade: backtest {_fmt(r['backtest'])}, live {_fmt(r['live'])}; matched "
        f"pairs backtest {_fmt(r['matched_backtest'])}, live {_fmt(r['matched_live'])}, "
        f"difference {_fmt(r['matched_diff'])}"
    )
    if s["reasons"]:
        lines.append(
            "reasons named: "
            + ", ".join(f"{k} {n}" for k, n in s["reasons"].items())
            + (f"; {s['unexplained']} mismatch(es) without a reason" if s["unexplained"] else "")
        )
    offset = s["server_time_offset"]
    if offset.get("text"):
        lines.append(f"server clock: {offset['text']}")
    for note in result.notes:
        lines.append(f"note: {note}")
    return lines


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


# --- evidence for the production checklist ----------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What a reconcile says for a promotion check: PASS, FAIL or MISSING, and why."""

    status: str
    reason: str
    path: Path | None = None


def find_reconcile(where: Path, symbol: str, account: str | None = None) -> Path | None:
    """The ``reconcile_{SYMBOL}.json`` that ``where`` names: the file itself, a folder
    holding it, or a bot folder (its ``ibsweep_reconcile/{account}/``)."""
    where = Path(where)
    name = f"reconcile_{symbol}.json"
    if where.is_file():
        return where
    candidates = [where / name]
    if account:
        candidates.append(where / BOT_OUTPUT_DIR / account.lower() / name)
    return next((c for c in candidates if c.is_file()), None)


def reconcile_evidence(
    where: Path,
    symbol: str,
    params_sha256: str,
    account: str = "demo",
    after: dt.datetime | None = None,
    min_match: float = MIN_MATCH,
) -> Evidence:
    """Whether a reconcile in ``where`` (a file, an output folder or a bot folder) is
    evidence for the parameter set ``params_sha256`` (:func:`parameter_set_sha256`, the
    ``params_sha256`` of ``ibsweep_params_{SYMBOL}.json``) on an ``account`` session
    that started after ``after``: PASS with a match rate at or above ``min_match``, FAIL
    below it (or when the file cannot be read), MISSING when there is no such reconcile
    (none, other parameters, another account, a session before ``after``, nothing to
    compare). Missing evidence is never a PASS."""
    path = find_reconcile(Path(where), symbol, account)
    if path is None:
        return Evidence(MISSING, f"no reconcile_{symbol}.json of a {account} session in {where}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        summary, provenance = document["summary"], document["provenance"]
        rate = summary["match_rate"]
        got_sha, got_account = provenance["params_sha256"], summary["account"]
        started = dt.datetime.fromisoformat(summary["period"]["session_start"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return Evidence(FAIL, f"{path}: not a readable reconcile ({exc})", path)
    if got_sha != params_sha256:
        return Evidence(
            MISSING, f"{path.name} reconciles another parameter set ({str(got_sha)[:12]})", path
        )
    if str(got_account).lower() != account.lower():
        return Evidence(MISSING, f"{path.name} reconciles a {got_account} session", path)
    if after is not None and started < after:
        return Evidence(
            MISSING,
            f"{path.name}: its first session started {started.isoformat()}, before "
            f"{after.isoformat()}",
            path,
        )
    counts = summary.get("counts", {})
    if rate is None:
        return Evidence(MISSING, f"{path.name}: no trade on either side to compare", path)
    text = (
        f"match rate {rate:.1%} ({counts.get('matched')} matched, {counts.get('missed')} "
        f"missed, {counts.get('extra')} extra) {summary['period']['start_date']}.."
        f"{summary['period']['end_date']}"
    )
    if rate < min_match:
        return Evidence(FAIL, f"{text} below {min_match:.0%}", path)
    return Evidence(PASS, text, path)
