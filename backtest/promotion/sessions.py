"""The bot's trading sessions and what the live bot did in them: checklist items 2 (a
DEMO session, reconciled, before REAL) and 6 (the first session, watched; the first REAL
session, reconciled).

A session is an allowed weekday's ``ib_start``..``close_time`` in the symbol's time zone
(holidays unknown). The evidence of a session is a reconcile of it
(``invoke reconcile --bot-dir BOT``, which writes ``BOT/ibsweep_reconcile/{account}/``):
:func:`backtest.analysis.reconcile_evidence.reconcile_evidence` says PASS (this parameter
set, that account, a period whose first session started after a moment, a match rate at or above
``--min-match``), FAIL (below it) or MISSING. Missing evidence is never a PASS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from backtest.analysis.reconcile_evidence import MIN_MATCH, Evidence, reconcile_evidence
from backtest.promotion.checklist import FAIL, MANUAL, MISSING, PASS, Check
from backtest.strategy.params import parse_hhmm


def sessions(params: dict[str, Any], timezone: str, after: dt.datetime) -> Iterator[tuple]:
    """``(start, end)`` (aware, UTC) of the bot's sessions that start after ``after``: the
    allowed weekdays, from ``ib_start`` to ``close_time`` local time (holidays unknown)."""
    zone = ZoneInfo(timezone)
    begin_at, end_at = (parse_hhmm(params[k]) for k in ("ib_start", "close_time"))
    day = after.astimezone(zone).date()
    weekdays = set(params["weekdays"])
    for offset in range(0, 366 * 2):
        date = day + dt.timedelta(days=offset)
        if date.weekday() not in weekdays:
            continue
        begin, end = (
            dt.datetime.combine(date, dt.time(m // 60, m % 60), zone).astimezone(dt.UTC)
            for m in (begin_at, end_at)
        )
        if begin > after:
            yield begin, end


def _local(moment: dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M")


def session_text(start: dt.datetime, end: dt.datetime, timezone: str) -> str:
    """``Mon 2026-11-30 09:00..22:00 Europe/Berlin``."""
    return f"{_local(start, timezone)}..{_local(end, timezone)[-5:]} {timezone}"


@dataclass(frozen=True)
class LiveSessions:
    """Where the bot folder's reconciles are, of which parameter set, and the match rate
    a session needs (``--min-match``)."""

    bot_dir: Path
    symbol: str
    params_sha256: str
    min_match: float = MIN_MATCH

    def evidence(self, account: str, after: dt.datetime) -> Evidence:
        """The reconcile of an ``account`` session of this parameter set that started
        after ``after``: PASS, FAIL or MISSING with the reason."""
        return reconcile_evidence(
            self.bot_dir, self.symbol, self.params_sha256, account, after, self.min_match
        )

    def command(self, account: str) -> str:
        """The command that makes that evidence (the deals and bars are the user's)."""
        return (
            f"invoke reconcile --deals DEALS --data-file BARS --symbol {self.symbol} "
            f"--bot-dir {self.bot_dir} --account {account}"
        )


def demo_since(log: list[dict[str, Any]], symbol: str, sha: str) -> dt.datetime | None:
    """When the promotion log first shows this parameter set promoted to DEMO (None:
    never)."""
    times = [
        dt.datetime.fromisoformat(e["time"])
        for e in log
        if e.get("event") == "promote"
        and e.get("symbol") == symbol
        and e.get("account") == "demo"
        and e.get("params_sha256") == sha
    ]
    return min(times) if times else None


def _found(ev: Evidence, prefix: str) -> str:
    where = f"{ev.path.name}: " if ev.path is not None else ""
    return f"{prefix}{where}{ev.reason}"


def check_demo_first(
    account: str,
    log: list[dict[str, Any]],
    params: dict[str, Any],
    timezone: str,
    now: dt.datetime,
    live: LiveSessions,
    deployed_at: dt.datetime,
) -> Check:
    """(2) DEMO first. REAL: the promotion log shows this parameter set promoted to DEMO,
    the first whole session after that has ended by ``now``, and a reconcile of a DEMO
    session that started after the DEMO promotion has a match rate >= ``live.min_match``
    (no reconcile: MISSING naming ``invoke reconcile``). DEMO (deployed, or promoted, at
    ``deployed_at``): that reconcile's verdict once there is one, else a MANUAL reminder."""
    name, sha = "DEMO first", live.params_sha256
    needed = f"a match rate >= {live.min_match:.0%}"
    if account == "demo":
        ev = live.evidence("demo", deployed_at)
        if ev.status in (PASS, FAIL):
            return Check("2", name, ev.status, _found(ev, "DEMO session reconciled: "))
        return Check(
            "2",
            name,
            MANUAL,
            f"DEMO account: run one whole DEMO session, then {live.command('demo')} "
            f"(REAL needs {needed})",
        )
    since = demo_since(log, live.symbol, sha)
    if since is None:
        return Check(
            "2",
            name,
            FAIL,
            f"the promotion log has no DEMO promotion of this "
            f"parameter set (sha256 {sha[:12]}): promote to DEMO and run one session",
        )
    start, end = next(sessions(params, timezone, since))
    when = session_text(start, end, timezone)
    if end > now:
        return Check(
            "2",
            name,
            FAIL,
            f"on DEMO since {since.isoformat()}, but its first whole session {when} has not "
            "ended yet",
        )
    ev = live.evidence("demo", since)
    if ev.status == MISSING:
        return Check(
            "2",
            name,
            MISSING,
            f"on DEMO since {since.isoformat()}, session {when} is over, but {ev.reason}: "
            f"run {live.command('demo')} (REAL needs {needed})",
        )
    return Check("2", name, ev.status, _found(ev, f"on DEMO since {since.isoformat()}; "))


def check_first_session(params: dict[str, Any], timezone: str, now: dt.datetime) -> Check:
    """(6) MANUAL: the first session to watch by hand, with the time it starts."""
    start, end = next(sessions(params, timezone, now))
    return Check(
        "6",
        "watch the first session",
        MANUAL,
        f"{session_text(start, end, timezone)} (starts {start:%Y-%m-%d %H:%M} UTC): "
        "watch it by hand",
    )


def check_first_live_session(
    params: dict[str, Any],
    timezone: str,
    now: dt.datetime,
    live: LiveSessions,
    promoted_at: dt.datetime,
) -> Check:
    """(6) The first REAL session after the REAL promotion at ``promoted_at``: MANUAL
    (watch it) until it has ended, then a reconcile of a REAL session that started after
    the promotion with a match rate >= ``live.min_match`` (no reconcile: MISSING naming
    ``invoke reconcile``)."""
    name = "first live session"
    start, end = next(sessions(params, timezone, promoted_at))
    when = session_text(start, end, timezone)
    if end > now:
        return Check(
            "6",
            name,
            MANUAL,
            f"{when} (starts {start:%Y-%m-%d %H:%M} UTC): watch it by hand, then "
            f"{live.command('real')}",
        )
    ev = live.evidence("real", promoted_at)
    if ev.status == MISSING:
        return Check(
            "6",
            name,
            MISSING,
            f"REAL since {promoted_at.isoformat()}, session {when} is over, but {ev.reason}: "
            f"run {live.command('real')}",
        )
    return Check("6", name, ev.status, _found(ev, f"REAL since {promoted_at.isoformat()}; "))
