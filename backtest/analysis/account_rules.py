"""The account over its whole history against every rule of its prop program: the days'
balances and losses (:func:`history`), the days that breach a loss limit (:func:`breaches`)
and the rules table (:func:`rules_table`), per-pick rules included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtest.analysis.account_picks import Account, PickData
from backtest.analysis.challenge import CLOSED_ONLY, Days, Rules
from backtest.core.programs import Program
from backtest.data.bars import day_date
from backtest.strategy.risk_manager import LIMIT_TOLERANCE_PCT


def calendar_dates(calendar: np.ndarray) -> list[str]:
    return [day_date(int(d)).isoformat() for d in calendar]


def history(days: Days, rules: Rules) -> dict[str, np.ndarray]:
    """One account run through the whole history without stopping (every breach shown):
    per day the start and end balance, the lowest balance (closed and, when known,
    equity), the daily loss % (of the program's base) closed and equity, the overall loss
    % below the initial balance, the drawdown % from the running peak and whether the day
    was profitable."""
    a = rules.account_size
    end = a + np.cumsum(days.net)
    start = np.concatenate(([a], end[:-1]))
    base = np.full(len(start), a) if rules.daily_base_initial else start
    closed_loss = -days.closed_low * 100.0 / base
    equity_loss = None if days.equity_low is None else -days.equity_low * 100.0 / base
    lowest = start + days.low()
    peak = np.maximum.accumulate(np.maximum(start, a))
    return {
        "start": start,
        "end": end,
        "lowest_closed": start + days.closed_low,
        "lowest_equity": None if days.equity_low is None else start + days.equity_low,
        "daily_loss_closed_pct": closed_loss,
        "daily_loss_equity_pct": equity_loss,
        "overall_loss_pct": np.maximum((a - lowest) * 100.0 / a, 0.0),
        "drawdown_pct": np.maximum((peak - lowest) * 100.0 / peak, 0.0),
        "profitable": days.net * 100.0 / a >= rules.profitable_day_pct - LIMIT_TOLERANCE_PCT,
    }


def _over(values: np.ndarray | None, limit: float | None) -> np.ndarray:
    if values is None or limit is None:
        return np.zeros(0 if values is None else len(values), dtype=bool)
    return values > limit + LIMIT_TOLERANCE_PCT


def breaches(account: Account, risks: Sequence[float], rules: Rules) -> list[dict[str, Any]]:
    """Every day of the history that breaches a loss limit on the account: date, rule,
    value, limit, and whether no symbol alone breaches that rule that day
    (``only_combined``)."""
    dates = calendar_dates(account.calendar)
    combined = history(account.at(risks), rules)
    alone = [history(d.scaled(f), rules) for d, f in zip(account.days, account.factors(risks))]
    out = []
    checks = [
        ("daily loss (closed)", "daily_loss_closed_pct", rules.daily_loss_pct),
        ("daily loss (equity)", "daily_loss_equity_pct", rules.daily_loss_pct),
        ("overall loss", "overall_loss_pct", rules.overall_loss_pct),
    ]
    for rule, key, limit in checks:
        hit = _over(combined[key], limit)
        if not hit.any():
            continue
        single = np.zeros(len(hit), dtype=bool)
        for h in alone:
            if h[key] is not None:
                single |= _over(h[key], limit)
        for i in np.flatnonzero(hit):
            out.append(
                {
                    "date": dates[i],
                    "rule": rule,
                    "value_pct": float(combined[key][i]),
                    "limit_pct": limit,
                    "only_combined": bool(len(account.days) > 1 and not single[i]),
                }
            )
    return sorted(out, key=lambda b: (b["date"], b["rule"]))


def _status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def rules_table(account: Account, risks: Sequence[float], rules: Rules) -> list[dict[str, Any]]:
    """Every rule of the program on the account over its history, and the per-pick rules
    (news window, risk per position): rule, status (PASS / FAIL / UNKNOWN / INFO), value,
    limit, detail."""
    program = account.program
    h = history(account.at(risks), rules)
    dates = calendar_dates(account.calendar)
    rows: list[dict[str, Any]] = []

    def worst(key: str) -> tuple[float, str | None]:
        values = h[key]
        if values is None or len(values) == 0:
            return 0.0, None
        i = int(np.argmax(values))
        return float(values[i]), dates[i]

    def days_over(key: str, limit: float | None) -> int:
        return int(_over(h[key], limit).sum())

    limit = rules.daily_loss_pct
    base = "of the initial balance" if rules.daily_base_initial else "of the day's start balance"
    for name, key in (("closed", "daily_loss_closed_pct"), ("equity", "daily_loss_equity_pct")):
        if h[key] is None:
            rows.append(
                {
                    "rule": f"max daily loss ({name})",
                    "status": "UNKNOWN",
                    "value_pct": None,
                    "limit_pct": limit,
                    "detail": CLOSED_ONLY,
                }
            )
            continue
        value, when = worst(key)
        over = days_over(key, limit)
        rows.append(
            {
                "rule": f"max daily loss ({name})",
                "status": "INFO" if limit is None else _status(over == 0),
                "value_pct": value,
                "limit_pct": limit,
                "detail": f"worst day {when} ({base}); {over} days over"
                if limit is not None
                else f"worst day {when}; the program has no daily loss limit",
            }
        )
    value, when = worst("overall_loss_pct")
    over = days_over("overall_loss_pct", rules.overall_loss_pct)
    rows.append(
        {
            "rule": "max loss below the initial balance (static)",
            "status": _status(over == 0),
            "value_pct": value,
            "limit_pct": rules.overall_loss_pct,
            "detail": f"lowest on {when}; {over} days below the floor"
            + (" (equity)" if account.has_equity else " (closed-trade balance only)"),
        }
    )
    value, when = worst("drawdown_pct")
    rows.append(
        {
            "rule": "max drawdown from the running peak",
            "status": "INFO",
            "value_pct": value,
            "limit_pct": None,
            "detail": f"deepest on {when} (the spec's prop view; the program's limit is static)",
        }
    )
    profitable = int(h["profitable"].sum())
    rows.append(
        {
            "rule": "profitable days",
            "status": "INFO",
            "value_pct": None,
            "limit_pct": None,
            "detail": f"{profitable} of {len(dates)} days with closed P&L >= "
            f"{rules.profitable_day_pct:g} % of the initial balance; each phase needs "
            f"{rules.min_profitable_days}",
        }
    )
    for p, risk in zip(account.picks, risks):
        rows.append(_news_rule(p, program))
        rows.append(_risk_rule(p, risk, program))
    return rows


def _news_rule(p: PickData, program: Program) -> dict[str, Any]:
    window = program.news_window_min
    params = p.params
    before, after = params.get("news_before", 0), params.get("news_after", 0)
    if window <= 0:
        status, detail = "INFO", "the program has no news window"
    else:
        ok = bool(params.get("news_filter")) and before >= window and after >= window
        status = _status(ok)
        detail = (
            f"news_filter {'on' if params.get('news_filter') else 'off'}, {before:g} min before, "
            f"{after:g} after; no entry within {window:g} min of high-impact news is needed "
            "(exits by SL/TP inside the window are not checked)"
        )
    return {
        "rule": f"news window ({p.symbol})",
        "status": status,
        "value_pct": None,
        "limit_pct": None,
        "detail": detail,
    }


def _risk_rule(p: PickData, risk: float, program: Program) -> dict[str, Any]:
    pct = risk * 100.0 / program.account_size
    limit = program.max_risk_per_position_pct
    scale = risk / p.recorded_risk
    worst = float(p.trade_pnl.min() * scale) if len(p.trade_pnl) else 0.0
    detail = (
        f"{risk:g} per trade = {pct:.3g} % of {program.account_size:g}; the worst single "
        f"trade lost {-worst:.2f} ({-worst * 100.0 / program.account_size:.3g} %: costs and "
        "slippage beyond the stop)"
    )
    if len(p.skip_days) and risk > p.recorded_risk:
        detail += (
            f"; {len(p.skip_days)} days skipped at the run's risk (lots below volume_min) "
            "might trade at this risk: not modelled"
        )
    return {
        "rule": f"risk per position ({p.symbol})",
        "status": "INFO" if limit is None else _status(pct <= limit + LIMIT_TOLERANCE_PCT),
        "value_pct": pct,
        "limit_pct": limit,
        "detail": detail,
    }
