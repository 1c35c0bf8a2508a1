"""Items 2-6 of the checklist: what the bot folder and the prop firm's limits say about
a :class:`Deployment` (promote evaluates them for what it is about to write, preflight
for what is deployed). One small function per line, taking plain values; the session
lines (items 2 and 6) are in :mod:`backtest.promotion.sessions`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.analysis.reconcile_evidence import MIN_MATCH
from backtest.core.config import symbol_spec
from backtest.promotion.botfolder import BotFolder, NewsFile
from backtest.promotion.checklist import (
    FAIL,
    MISSING,
    PASS,
    PCT_TOLERANCE,
    Check,
    Config,
    Deployment,
)
from backtest.promotion.evidence import AccountEvidence
from backtest.promotion.sessions import (
    LiveSessions,
    check_demo_first,
    check_first_live_session,
    check_first_session,
)
from backtest.strategy.params import distance_points

# --- the lines ------------------------------------------------------------------------


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
        f"news_filter on, {params['news_before']:g} min before / {params['news_after']:g} min "
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


def check_account(account: AccountEvidence) -> Check:
    """(5) The whole account: the promoted combination together with what is deployed
    for the other symbols (:func:`backtest.analysis.account.account_check`). FAIL when the
    combined P(breach) exceeds ``--max-breach`` or a pick's risk exceeds the program's risk
    per position; MISSING when the account cannot be evaluated (the reason says why; the
    ``invoke account`` command shows every figure)."""
    name = "whole account"
    if account.result is None:
        return Check("5", name, MISSING, f"{account.problem}: see {account.command}")
    alone = (
        ""
        if account.others
        else f"; {account.symbol} alone: nothing deployed for another symbol in the bot folder"
    )
    return Check("5", name, account.result.status, "; ".join(account.result.reasons) + alone)


def bot_checks(
    deployment: Deployment,
    bot: BotFolder,
    cfg: Config,
    now: dt.datetime,
    min_match: float = MIN_MATCH,
    account_line: Check | None = None,
    promoted_at: dt.datetime | None = None,
) -> list[Check]:
    """Items 2-6: what the bot folder and the prop-firm limits say about a deployment.
    ``promoted_at``: when it was deployed (preflight; None: it is being promoted now);
    ``account_line``: the whole-account line of item 5, when there is one."""
    spec = symbol_spec(deployment.symbol, cfg)
    prop, settings = cfg["prop_firm"], cfg["promote"]
    p = deployment.params
    live = LiveSessions(bot.path, deployment.symbol, deployment.sha256, min_match)
    deployed_at = promoted_at or now
    last = (
        check_first_live_session(p, spec.timezone, now, live, promoted_at)
        if promoted_at is not None and deployment.account == "real"
        else check_first_session(p, spec.timezone, now)
    )
    return [
        check_demo_first(deployment.account, bot.log, p, spec.timezone, now, live, deployed_at),
        check_env_account(deployment.account, bot.env, settings["env_account"], bot.env_path),
        check_news_filter(p, prop),
        check_news_fresh(bot.news, spec.currencies, now, int(settings["news_horizon_days"])),
        check_risk(deployment.settings, prop),
        check_loss_limits(deployment.settings, prop),
        check_stop_distance(p, spec, prop),
        *([account_line] if account_line is not None else []),
        last,
    ]
