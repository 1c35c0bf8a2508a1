"""Items 2-6 of the checklist: what the bot folder and the prop firm's limits say about
a :class:`Deployment` (promote evaluates them for what it is about to write, preflight
for what is deployed). One small function per line, taking plain values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from backtest.core.config import symbol_spec
from backtest.promotion.botfolder import BotFolder, NewsFile
from backtest.promotion.checklist import (
    FAIL,
    MANUAL,
    PASS,
    PCT_TOLERANCE,
    Check,
    Deployment,
)
from backtest.strategy.params import distance_points, parse_hhmm

# --- trading sessions ------------------------------------------------------------------


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


# --- the lines ------------------------------------------------------------------------


def check_demo_first(
    account: str,
    log: list[dict[str, Any]],
    symbol: str,
    sha: str,
    params: dict[str, Any],
    timezone: str,
    now: dt.datetime,
) -> Check:
    """(2) DEMO first: REAL only when the promotion log shows this parameter set promoted
    to DEMO before a whole trading session that has ended by ``now``."""
    name = "DEMO first"
    if account == "demo":
        return Check("2", name, PASS, "DEMO account (REAL needs one DEMO session first)")
    demos = [
        e
        for e in log
        if e.get("event") == "promote"
        and e.get("symbol") == symbol
        and e.get("account") == "demo"
        and e.get("params_sha256") == sha
    ]
    if not demos:
        return Check(
            "2",
            name,
            FAIL,
            f"the promotion log has no DEMO promotion of this "
            f"parameter set (sha256 {sha[:12]}): promote to DEMO and run one session",
        )
    since = min(dt.datetime.fromisoformat(e["time"]) for e in demos)
    start, end = next(sessions(params, timezone, since))
    when = f"{_local(start, timezone)}..{_local(end, timezone)[-5:]} {timezone}"
    if end <= now:
        return Check("2", name, PASS, f"on DEMO since {since.isoformat()}; session {when} is over")
    return Check(
        "2",
        name,
        FAIL,
        f"on DEMO since {since.isoformat()}, but its first whole session {when} has not ended yet",
    )


def check_env_account(account: str, env: dict[str, str], variable: str, env_path: Path) -> Check:
    """(3) The bot's ``.env`` says the account this promotion is for."""
    name = ".env account"
    value = env.get(variable)
    if value is None:
        return Check("3", name, FAIL, f"{env_path}: {variable} is not set (DEMO or REAL)")
    said = value.strip().upper()
    if said not in ("DEMO", "REAL"):
        return Check("3", name, FAIL, f"{env_path}: {variable}={value!r} is neither DEMO nor REAL")
    if said == account.upper():
        return Check("3", name, PASS, f"{env_path.name}: {variable}={value}")
    if said == "REAL":
        return Check(
            "3",
            name,
            FAIL,
            f"{env_path.name}: {variable}={value} but this promotion is "
            "for DEMO: give --account real (after a DEMO session) or fix the .env",
        )
    return Check("3", name, FAIL, f"{env_path.name}: {variable}={value} but --account real")


def check_news_filter(params: dict[str, Any], prop: dict[str, Any]) -> Check:
    """(4) ``news_filter`` on (mandatory for The5ers in production), blocking at least the
    firm's window before and after each event (``prop_firm.news_window_min``)."""
    name, window = "news filter on", int(prop["news_window_min"])
    if not params["news_filter"]:
        return Check(
            "4",
            name,
            FAIL,
            "news_filter is off (mandatory in production): choose a "
            "combination swept with news_filter on",
        )
    reason = (
        f"news_filter on, {params['news_before']} min before / {params['news_after']} min "
        f"after (the firm's window: {window} min)"
    )
    short = min(params["news_before"], params["news_after"]) < window
    return Check("4", name, FAIL if short else PASS, reason)


def check_news_fresh(
    news: NewsFile, currencies: tuple[str, ...], now: dt.datetime, horizon_days: int
) -> Check:
    """(4) The bot's news file covers the next ``horizon_days`` days: its last event of
    the symbol's currencies is at least that far ahead, and it has a high-impact one of
    them in that span."""
    name = "news file up to date"
    if news.events is None:
        return Check("4", name, FAIL, news.problem or f"{news.path}: no news")
    events = news.events[news.events["currency"].isin(list(currencies))]
    codes = "/".join(currencies)
    if events.empty:
        return Check("4", name, FAIL, f"{news.path}: no {codes} events")
    last = events["time"].max().to_pydatetime()
    until = now + dt.timedelta(days=horizon_days)
    ahead = (last - now).total_seconds() / 86400
    high = events[
        (events["impact"] == "high")
        & (events["time"] >= pd.Timestamp(now))
        & (events["time"] <= pd.Timestamp(until))
    ]
    reason = (
        f"{news.path.name if news.path else ''}: last {codes} event {last:%Y-%m-%d %H:%M} UTC "
        f"({ahead:+.1f} days), {len(high)} high-impact in the next {horizon_days} days"
    )
    if last < until:
        return Check("4", name, FAIL, f"{reason}: needs events up to {until:%Y-%m-%d} at least")
    if high.empty:
        return Check("4", name, FAIL, f"{reason}: no high-impact {codes} event ahead")
    return Check("4", name, PASS, reason)


def check_risk(settings: dict[str, float], prop: dict[str, Any]) -> Check:
    """(5) Money risked per trade, as a share of the account, within the firm's limit."""
    pct = settings["risk"] / settings["account_size"] * 100
    limit = float(prop["risk_per_trade_max_pct"])
    reason = (
        f"risk {settings['risk']:g} of {settings['account_size']:g} = {pct:.2f}% per trade "
        f"(limit {limit:g}%, {prop['name']})"
    )
    return Check("5", "risk per trade", PASS if pct <= limit + PCT_TOLERANCE else FAIL, reason)


def check_loss_limits(settings: dict[str, float], prop: dict[str, Any]) -> Check:
    """(5) The backtests' daily-loss and max-loss limits are no looser than the firm's."""
    daily, total = settings["daily_loss_limit_pct"], settings["max_loss_limit_pct"]
    ok = daily <= prop["daily_loss_pct"] + PCT_TOLERANCE and total <= prop["max_loss_pct"] + (
        PCT_TOLERANCE
    )
    reason = (
        f"daily loss {daily:g}% (limit {prop['daily_loss_pct']:g}%), max loss {total:g}% "
        f"(limit {prop['max_loss_pct']:g}%)"
    )
    return Check("5", "loss limits", PASS if ok else FAIL, reason)


def check_stop_distance(params: dict[str, Any], spec: Any, prop: dict[str, Any]) -> Check:
    """(5) The smallest stop the parameters allow (``sl_mult`` x the smallest IB that
    trades) is at least ``stop_min_cost_multiple`` x the round-trip costs."""
    ib_min = max(1, spec.to_points(params["min_ib"]))
    stop = max(1, int(distance_points(params["sl_mult"], ib_min)))
    costs = spec.spread_points + spec.commission_points
    need = float(prop["stop_min_cost_multiple"]) * costs
    reason = (
        f"smallest stop {stop} points = sl_mult {params['sl_mult']:g} x smallest IB {ib_min} "
        f"points (min_ib {params['min_ib']:g}); costs {costs} points, needs >= "
        f"{prop['stop_min_cost_multiple']:g} x costs = {need:g} (a stopped trade loses "
        f"{1 + costs / stop:.2f} x risk)"
    )
    return Check("5", "stop distance", PASS if stop >= need - PCT_TOLERANCE else FAIL, reason)


def check_first_session(params: dict[str, Any], timezone: str, now: dt.datetime) -> Check:
    """(6) MANUAL: the first session to watch by hand, with the time it starts."""
    start, end = next(sessions(params, timezone, now))
    return Check(
        "6",
        "watch the first session",
        MANUAL,
        f"{_local(start, timezone)}..{_local(end, timezone)[-5:]} {timezone} "
        f"(starts {start:%Y-%m-%d %H:%M} UTC): watch it by hand",
    )


def bot_checks(
    deployment: Deployment, bot: BotFolder, cfg: dict[str, Any], now: dt.datetime
) -> list[Check]:
    """Items 2-6: what the bot folder and the prop-firm limits say about a deployment."""
    spec = symbol_spec(deployment.symbol, cfg)
    prop, settings = cfg["prop_firm"], cfg["promote"]
    p = deployment.params
    return [
        check_demo_first(
            deployment.account,
            bot.log,
            deployment.symbol,
            deployment.sha256,
            p,
            spec.timezone,
            now,
        ),
        check_env_account(deployment.account, bot.env, settings["env_account"], bot.env_path),
        check_news_filter(p, prop),
        check_news_fresh(bot.news, spec.currencies, now, int(settings["news_horizon_days"])),
        check_risk(deployment.settings, prop),
        check_loss_limits(deployment.settings, prop),
        check_stop_distance(p, spec, prop),
        check_first_session(p, spec.timezone, now),
    ]
