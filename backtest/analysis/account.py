"""The prop account as the firm sees it: the chosen combinations of several symbols traded
on one account, every rule of a prop program evaluated on it, the challenge replayed and
simulated, the risk per trade sized (``invoke account``; docs/ANALYSIS.md, "Account and
challenge").

The picks and the account they make: :mod:`backtest.analysis.account_picks`; the account
against the program's rules over its history: :mod:`backtest.analysis.account_rules`; the
files written: :mod:`backtest.analysis.account_files`.

The numbers of the rules, the replay and the bootstrap are in
:mod:`backtest.analysis.challenge`. :func:`account_check` is the library entry that
``invoke promote`` calls for checklist step 5 on the whole account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.account_picks import (
    Account,
    AccountError,
    PickData,
    PickSpec,
    load_account,
    parse_levels,
)
from backtest.analysis.account_rules import breaches, calendar_dates, history, rules_table
from backtest.analysis.challenge import (
    CLOSED_ONLY,
    Days,
    Outcomes,
    Rules,
    optimal_block_length,
    pass_curve,
    replay,
    simulate,
    summary,
)
from backtest.core.programs import DEFAULT_PROGRAM, Program, load_program
from backtest.data.bars import day_date
from backtest.strategy.risk_manager import LIMIT_TOLERANCE_PCT

DEFAULT_LEVELS = "0.25:5:0.25"  # risk per trade, % of the account: 20 levels
DEFAULT_MAX_BREACH = 0.10  # the bound on P(breach) the sizing and promote's check use
DEFAULT_PATHS = 10_000
COMBINED_LOW = (
    "the account's intraday low on a day several symbols trade is the sum of their lows "
    "(worst case: the compact trades do not order exits across symbols)"
)
ALIGNMENT = (
    "days aligned by calendar date: each symbol's trades on their local trading date "
    "(its session time zone); the firm's day boundary (00:00 server time) is not modelled"
)


@dataclass(frozen=True)
class Settings:
    """How the challenge is simulated and the risk sized."""

    n_paths: int = DEFAULT_PATHS
    seed: int = 0
    levels: tuple[float, ...] = tuple(parse_levels(DEFAULT_LEVELS))
    max_breach: float = DEFAULT_MAX_BREACH
    horizon: int | None = None  # days per bootstrap path (None: the history's length)
    block: float | None = None  # mean block length (None: chosen from the data)

    def __post_init__(self) -> None:
        if self.n_paths < 1 or self.n_paths > 1_000_000:
            raise AccountError(f"--samples {self.n_paths}: 1 to 1,000,000")
        if not 0 <= self.max_breach <= 1:
            raise AccountError(f"--max-breach {self.max_breach}: a probability in [0, 1]")
        if self.horizon is not None and not 1 <= self.horizon <= 100_000:
            raise AccountError(f"--horizon {self.horizon}: 1 to 100,000 trading days")
        if self.block is not None and not self.block >= 1:
            raise AccountError(f"block {self.block}: a mean block length >= 1")


def block_length(account: Account, risks: Sequence[float]) -> dict[str, Any]:
    """The stationary bootstrap's mean block length: the largest of the automatic choices
    (:func:`backtest.analysis.challenge.optimal_block_length`) for each symbol's daily P&L
    and for the account's, so the dependence of none of them is cut shorter."""
    series = {p.symbol: d.net for p, d in zip(account.picks, account.days)}
    series["account"] = account.at(risks).net
    each = {
        name: (optimal_block_length(values) if len(values) >= 2 else 1.0)
        for name, values in series.items()
    }
    return {"mean_block": max(each.values()), "by_series": each}


# What each risk level keeps of a simulation's or a replay's summary (the risk CSV's columns).
LEVEL_KEYS = (
    "p_pass",
    "p_breach",
    "p_time_limit",
    "p_unfinished",
    "median_days_to_pass",
    "p90_days_to_pass",
)


def _lite(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in (*LEVEL_KEYS, "se_p_pass", "se_p_breach")}


def analyse(account: Account, settings: Settings | None = None) -> dict[str, Any]:
    """Everything ``invoke account`` reports (JSON-ready): the picks, the rules on the
    history, the breaches with dates, the replay, the simulation at the chosen risk, the
    risk sizing and its recommendation."""
    settings = settings or Settings()
    program = account.program
    rules = Rules.of(program)
    risks = account.risks
    block: dict[str, Any] = (
        {"mean_block": settings.block, "by_series": {}}
        if settings.block is not None
        else block_length(account, risks)
    )
    level_risks = [risks] + [account.risks_at_level(x) for x in settings.levels]
    at_levels = [account.at(r) for r in level_risks]
    replayed = replay(at_levels, rules)
    simulated = simulate(
        at_levels, rules, settings.n_paths, settings.seed, block["mean_block"], settings.horizon
    )
    chosen_days = at_levels[0]
    h = history(chosen_days, rules)
    levels = []
    for i, level in enumerate(settings.levels, start=1):
        levels.append(
            {
                "risk_pct": level,
                "risks": dict(zip(account.symbols, level_risks[i])),
                "simulation": _lite(summary(simulated, i, rules)),
                "replay": _lite(summary(replayed, i, rules)),
                "within_position_limit": program.max_risk_per_position_pct is None
                or level <= program.max_risk_per_position_pct + LIMIT_TOLERANCE_PCT,
            }
        )
    dates = calendar_dates(account.calendar)
    return {
        "program": program.as_dict(),
        "rules_line": program.rules_line(),
        "picks": [_pick_record(p, r, program) for p, r in zip(account.picks, risks)],
        "calendar": {
            "days": len(dates),
            "first": dates[0] if dates else None,
            "last": dates[-1] if dates else None,
            "alignment": ALIGNMENT,
            "warnings": span_warnings(account),
        },
        "equity": {
            "available": account.has_equity,
            "note": None if account.has_equity else CLOSED_ONLY,
        },
        "combined_low": COMBINED_LOW if len(account.picks) > 1 else None,
        "risk_pct": max(risks) * 100.0 / program.account_size,
        "rules": rules_table(account, risks, rules),
        "breaches": breaches(account, risks, rules),
        "history": _history_record(h, chosen_days, account, risks, dates),
        "replay": {**summary(replayed, 0, rules), **_replay_extra(replayed, dates)},
        "simulation": {
            **summary(simulated, 0, rules),
            "paths": settings.n_paths,
            "seed": settings.seed,
            "horizon": int(settings.horizon or len(dates)),
            "block": block,
            "method": "stationary bootstrap (Politis & Romano 1994), joint days, mean block "
            "length by Politis & White (2004) with the Patton, Politis & White (2009) correction",
            "pass_curve": pass_curve(simulated, 0, int(settings.horizon or len(dates))),
        },
        "risk_sizing": {
            "levels": levels,
            "max_breach": settings.max_breach,
            "best": _best(levels, settings.max_breach),
            "rule": "the level with the highest P(pass) among those with P(breach) <= "
            f"{settings.max_breach:g} and within the program's risk per position "
            "(ties: the lower risk)",
            "proportions": "each level is the risk per trade of the pick with the largest "
            "chosen risk; the others keep their proportion to it",
        },
    }


SPAN_GAP_DAYS = 5  # calendar days by which the picks' data may start or end apart unremarked


def span_warnings(account: Account) -> list[str]:
    """A line for each pick whose data starts or ends more than :data:`SPAN_GAP_DAYS`
    calendar days after / before the account's calendar: its days there count as 0."""
    out: list[str] = []
    if len(account.calendar) == 0:
        return out
    first, last = int(account.calendar[0]), int(account.calendar[-1])
    for p in account.picks:
        if len(p.trading_days) == 0:
            out.append(f"{p.symbol}: no trading day in its run")
            continue
        lo, hi = int(p.trading_days.min()), int(p.trading_days.max())
        if lo - first > SPAN_GAP_DAYS:
            out.append(f"{p.symbol}'s data starts {day_date(lo)}: the days before count as 0")
        if last - hi > SPAN_GAP_DAYS:
            out.append(f"{p.symbol}'s data ends {day_date(hi)}: the days after count as 0")
    return out


def _best(levels: list[dict[str, Any]], bound: float) -> dict[str, Any] | None:
    ok = [
        lv
        for lv in levels
        if lv["simulation"]["p_breach"] <= bound + 1e-12 and lv["within_position_limit"]
    ]
    if not ok:
        return None
    top = max(lv["simulation"]["p_pass"] for lv in ok)
    return min(
        (lv for lv in ok if lv["simulation"]["p_pass"] == top), key=lambda lv: lv["risk_pct"]
    )


def _replay_extra(replayed: Outcomes, dates: list[str]) -> dict[str, Any]:
    """Per start day of the replay at the chosen risk: outcome and days (for the page)."""
    o = replayed.outcome[0]
    total = replayed.phase_days[0].sum(axis=1)
    passed = total[o == 0]
    return {
        "starts": {"date": dates, "outcome": o.tolist(), "days": total.tolist()},
        "days_to_pass_histogram": np.bincount(passed).tolist() if len(passed) else [],
    }


def _pick_record(p: PickData, risk: float, program: Program) -> dict[str, Any]:
    meta = p.metadata
    return {
        "symbol": p.symbol,
        "pick": p.spec.text or f"{p.spec.out_dir}:{p.spec.group_id}:{p.spec.combo}",
        "out_dir": str(p.spec.out_dir.resolve()),
        "group_id": p.spec.group_id,
        "combo": p.spec.combo,
        "params": p.params,
        "recorded_metrics": p.metrics,
        "risk": risk,
        "risk_pct": risk * 100.0 / program.account_size,
        "recorded_risk": p.recorded_risk,
        "source": p.source,
        "trades": int(len(p.trade_pnl)),
        "trading_days": int(len(p.trading_days)),
        "skipped_days": int(len(p.skip_days)),
        "timezone": (meta.get("symbol_settings") or {}).get("timezone"),
        "period": {k: meta.get(k) for k in ("period", "start_date", "end_date")},
        "data": meta.get("data") or {"path": meta.get("data_file")},
        "data_checksum": meta.get("data_checksum"),
        "code_version": meta.get("code_version"),
        "warnings": list(p.warnings),
    }


def _history_record(
    h: dict[str, Any], days: Days, account: Account, risks: Sequence[float], dates: list[str]
) -> dict[str, Any]:
    """The history's daily columns (for the page and the CSV)."""
    per_symbol = {
        p.symbol: (d.net * f).tolist()
        for p, d, f in zip(account.picks, account.days, account.factors(risks))
    }

    def listed(a: np.ndarray | None) -> list[Any] | None:
        return None if a is None else a.tolist()

    return {
        "date": dates,
        "net": days.net.tolist(),
        "net_by_symbol": per_symbol,
        "trades": [] if days.trades is None else days.trades.tolist(),
        **{key: listed(value) for key, value in h.items()},
    }


# --- for invoke promote ----------------------------------------------------------------


@dataclass(frozen=True)
class AccountCheck:
    """Checklist step 5 on the whole account (:func:`account_check`)."""

    status: str  # "PASS" or "FAIL"
    reasons: tuple[str, ...]  # why, one line each (FAIL reasons first)
    figures: dict[str, Any]  # JSON-ready, for the promote log

    def line(self) -> str:
        return f"{self.status}: {'; '.join(self.reasons)}"


def account_check(
    picks: Sequence[PickSpec],
    program: Program | str = DEFAULT_PROGRAM,
    risks: Sequence[float] | None = None,
    max_breach: float = DEFAULT_MAX_BREACH,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    programs_file: str | Path | None = None,
    cfg: dict[str, Any] | None = None,
) -> AccountCheck:
    """Checklist step 5 on the whole account, for ``invoke promote``: the combination being
    promoted together with what is deployed for the other symbols (one :class:`PickSpec`
    each, e.g. from the deployed ``ibsweep_params_{SYMBOL}.json``'s
    ``provenance.in_sample`` dir, group_id and combo, with ``settings.risk`` in ``risks``).

    FAIL when the bootstrap's P(breach) at these risks exceeds ``max_breach``, or when a
    pick's risk per trade exceeds the program's maximum risk per position; else PASS. The
    figures (program, rules date, risks, P(pass), P(breach), median days to pass, block
    length, the history's breaches, equity availability) are for the promote log. Bad
    input (unknown program, a pick that cannot be read, two picks of one symbol, different
    periods or account sizes) raises :class:`AccountError` / ``ProgramError`` (ValueError:
    exit 2). No risk sizing is run (one level: these risks)."""
    prog = program if isinstance(program, Program) else load_program(program, programs_file)
    account = load_account(picks, prog, None if risks is None else list(risks), cfg)
    rules = Rules.of(prog)
    block = block_length(account, account.risks)
    days = account.at(account.risks)
    simulated = simulate([days], rules, n_paths, seed, block["mean_block"])
    sim = summary(simulated, 0, rules)
    table = rules_table(account, account.risks, rules)
    fails = []
    if sim["p_breach"] > max_breach + 1e-12:
        fails.append(
            f"combined P(breach) {sim['p_breach']:.1%} > {max_breach:.1%} ({prog.name}, "
            f"{', '.join(account.symbols)})"
        )
    fails += [
        f"{row['rule']}: {row['value_pct']:.3g} % > {row['limit_pct']:g} %"
        for row in table
        if row["rule"].startswith("risk per position") and row["status"] == "FAIL"
    ]
    ok_line = (
        f"combined P(breach) {sim['p_breach']:.1%} <= {max_breach:.1%}, P(pass) "
        f"{sim['p_pass']:.1%} ({prog.name}, {', '.join(account.symbols)}"
        + ("; equity" if account.has_equity else "; closed-trade balance only")
        + ")"
    )
    figures = {
        "program": prog.program_id,
        "rules_read": prog.rules_read,
        "symbols": account.symbols,
        "picks": [_pick_record(p, r, prog) for p, r in zip(account.picks, account.risks)],
        "p_pass": sim["p_pass"],
        "p_breach": sim["p_breach"],
        "median_days_to_pass": sim["median_days_to_pass"],
        "max_breach": max_breach,
        "paths": n_paths,
        "seed": seed,
        "block": block["mean_block"],
        "equity": account.has_equity,
        "breaches": breaches(account, account.risks, rules),
        "rules": table,
    }
    return AccountCheck("FAIL" if fails else "PASS", tuple(fails or [ok_line]), figures)
