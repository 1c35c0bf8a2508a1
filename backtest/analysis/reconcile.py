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
the mismatches. :func:`backtest.analysis.reconcile_outputs.write_outputs` writes
``reconcile_{SYMBOL}.csv``, ``.json`` (with provenance) and ``.html``;
:func:`backtest.analysis.reconcile_evidence.reconcile_evidence` is what a promotion check can
ask: is there a reconcile of these parameters, of a session that started after a moment, with
a match rate at or above a minimum (PASS / FAIL / MISSING, with the reason).

This module runs one reconcile (:func:`reconcile`); its parts: ``reconcile_deploy`` (what is
deployed), ``reconcile_match`` (the backtest side, the pairing), ``reconcile_rows`` (rows and
reasons), ``reconcile_summary``, ``reconcile_outputs`` (the result and its files),
``reconcile_evidence`` (for promote).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backtest.analysis.reconcile_deploy import Deployment, ReconcileError
from backtest.analysis.reconcile_match import (
    Backtest,
    iso_utc,
    match_pairs,
    run_backtest,
    shifted_bars,
    trading_day_of,
)
from backtest.analysis.reconcile_outputs import Reconciliation
from backtest.analysis.reconcile_rows import mark_shift, table_rows
from backtest.analysis.reconcile_summary import offset_text, summarise
from backtest.core.config import SymbolSpec
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars, day_date, day_number
from backtest.data.deal_records import HOUR_NS, SECOND_NS, Position
from backtest.data.deals import read_deals
from backtest.data.files import DataError
from backtest.data.loaders import MAX_ROWS, load_bars
from backtest.data.readers import is_mt5_export
from backtest.data.server_tz import check_server_tz

DEFAULT_TOLERANCE = "2m"
DEFAULT_BROKER_TZ = "broker:NY+7"  # as backtest.analysis.rerun: the usual MT5 server clock
SHIFT_HOURS = (-3, -2, -1, 1, 2, 3)  # whole-hour server-clock offsets tried on a mismatch


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


def _date_option(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return day_number(dt.date.fromisoformat(str(value)))
    except ValueError:
        raise ReconcileError(f"{option}: {value!r} is not a date YYYY-MM-DD") from None


def _is_server_clock(path: Path) -> bool:
    """Whether a bars file is an MT5 export (its times on the server clock), as the
    loader decides (:func:`backtest.data.readers.is_mt5_export`); a file that cannot be
    read is not (loading it says why)."""
    try:
        return is_mt5_export(path)
    except (OSError, DataError):
        return False


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
        if (first_day is None or trading_day_of(p.entry_time_ns, tz) >= first_day)
        and (last_day is None or trading_day_of(p.entry_time_ns, tz) <= last_day)
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
    days = [trading_day_of(t, tz) for t in times]
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
        when = iso_utc(outside[0]) if outside else f"{day_date(start)}..{day_date(end)}"
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
    rows = table_rows(bt, positions, pairs, settings, tolerance_ns)
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
            shift["text"] = offset_text(best, server_tz, counts)
            mark_shift(rows, rematched[best], best)
    summary = summarise(rows, bt, positions, spec, start, end, period, shift, history, params)
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
            "first_bar": iso_utc(int(period.time_ns[0])) if len(period) else None,
            "last_bar": iso_utc(int(period.time_ns[-1])) if len(period) else None,
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
