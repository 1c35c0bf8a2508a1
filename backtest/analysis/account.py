"""The prop account as the firm sees it: the chosen combinations of several symbols traded
on one account, every rule of a prop program evaluated on it, the challenge replayed and
simulated, the risk per trade sized (``invoke account``; docs/ANALYSIS.md, "Account and
challenge").

A pick is one combination of a finished run, ``OUT:GROUP:COMBO`` (``OUT:GROUP:COMBO:SYMBOL``
when OUT holds several symbols). Its trades come from the run's compact trades
(``OUT/daily/GROUP.npz``, runs made with ``--save-daily``), else from a re-run with the
run's recorded data and settings (:func:`backtest.analysis.rerun.rerun`, refused when the
data file changed). Each trade's money is the run's, scaled to the risk per trade chosen
for the account (``risk / the run's risk``: lots scale with risk, their volume steps are not
re-rounded).

**Days of two calendars.** The symbols' trading days are local dates in their session time
zones (GER40 Europe/Berlin, XAUUSD Europe/London); the account's days are the calendar
dates that are a trading day of at least one pick, and a symbol's trades count on their
own local date. A date one symbol does not trade (its holiday) is 0 for it. The firm's day
(00:00 server time, UTC+2/+3) is not modelled: a position closed after midnight server time
belongs to the firm's next day.

The numbers of the rules, the replay and the bootstrap are in
:mod:`backtest.analysis.challenge`. :func:`account_check` is the library entry that
``invoke promote`` calls for checklist step 5 on the whole account.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.challenge import (
    CLOSED_ONLY,
    Days,
    Outcomes,
    Rules,
    combine,
    optimal_block_length,
    pass_curve,
    replay,
    simulate,
    summary,
    symbol_days,
)
from backtest.analysis.panel import DAILY_DIR, PanelError, _read_daily
from backtest.analysis.rerun import RerunError, pick, rerun
from backtest.analysis.table import RunTable
from backtest.core.atomic import atomic_write_text
from backtest.core.config import REPO_ROOT, ConfigError, load_config
from backtest.core.programs import DEFAULT_PROGRAM, Program, load_program
from backtest.data.bars import day_date
from backtest.runner.outputs import ResultsError, combos_count
from backtest.strategy.risk_manager import LIMIT_TOLERANCE_PCT
from backtest.strategy.trades import trade_adverse, trade_values

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


class AccountError(ValueError):
    """Bad input to an account analysis (exit 2); the message names the option or field."""


@dataclass(frozen=True)
class PickSpec:
    """One combination to put on the account: a run folder, group, combination."""

    out_dir: Path
    group_id: str
    combo: int
    symbol: str | None = None
    text: str = ""  # as the user wrote it (for messages)

    @property
    def where(self) -> str:
        return f"--pick {self.text or f'{self.out_dir}:{self.group_id}:{self.combo}'}"


def parse_pick(text: str) -> PickSpec:
    """``OUT:GROUP:COMBO`` or ``OUT:GROUP:COMBO:SYMBOL`` (OUT may itself hold ':')."""
    parts = text.rsplit(":", 3)
    symbol = None
    if len(parts) == 4 and not parts[3].isdigit():
        symbol = parts[3]
        parts = parts[:3]
    elif len(parts) == 4:
        parts = [f"{parts[0]}:{parts[1]}", parts[2], parts[3]]
    if len(parts) != 3 or not all(parts) or not parts[2].isdigit():
        raise AccountError(
            f"--pick {text}: expected OUT:GROUP:COMBO (a results folder, a group id and a "
            "combination number), or OUT:GROUP:COMBO:SYMBOL"
        )
    return PickSpec(Path(parts[0]), parts[1], int(parts[2]), symbol, text)


@dataclass
class PickData:
    """A pick with its run's metadata and its trades (money at the run's risk)."""

    spec: PickSpec
    symbol: str
    metadata: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, Any]
    recorded_risk: float
    group_count: int = 0  # combinations of the pick's group
    source: str = ""
    trade_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    trade_r: np.ndarray = field(default_factory=lambda: np.zeros(0))
    trade_pnl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    trade_adverse: np.ndarray | None = None  # worst open P&L per trade (money), when known
    trading_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    skip_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.spec.group_id} combo {self.spec.combo}"


def _symbol_of(spec: PickSpec) -> str:
    from backtest.analysis.merge import result_symbols

    if not spec.out_dir.is_dir():
        raise AccountError(f"{spec.where}: {spec.out_dir} is not a results folder")
    symbols = result_symbols(spec.out_dir)
    if spec.symbol is not None:
        if spec.symbol not in symbols:
            raise AccountError(
                f"{spec.where}: no results_full_{spec.symbol}.json in {spec.out_dir} "
                f"(found: {', '.join(symbols) or 'none'})"
            )
        return spec.symbol
    if len(symbols) != 1:
        found = ", ".join(symbols) or "none"
        raise AccountError(
            f"{spec.where}: {spec.out_dir} holds results of {found}: "
            + ("name one as OUT:GROUP:COMBO:SYMBOL" if symbols else "no results_full_{SYMBOL}.json")
        )
    return symbols[0]


def read_pick(spec: PickSpec) -> PickData:
    """The pick's run metadata and recorded row (no trades yet); AccountError naming the
    pick and what is missing."""
    symbol = _symbol_of(spec)
    try:
        table = RunTable.read(spec.out_dir, symbol)
        chosen = pick(table, spec.group_id, spec.combo)
    except (ResultsError, RerunError, OSError) as exc:
        raise AccountError(f"{spec.where}: {exc}") from None
    meta = table.results["metadata"]
    for key in ("risk", "account_size", "start_date", "end_date"):
        if meta.get(key) is None:
            raise AccountError(f"{spec.where}: the run's metadata has no {key}")
    risk = float(meta["risk"])
    if not risk > 0:
        raise AccountError(f"{spec.where}: the run's risk {risk} is not > 0")
    count = combos_count(table.group(spec.group_id))
    return PickData(spec, symbol, meta, chosen.params, chosen.metrics, risk, count)


def load_trades(data: PickData, cfg: dict[str, Any] | None = None) -> PickData:
    """The pick's trades: from ``OUT/daily/GROUP.npz`` when the run saved it, else re-run
    with the recorded data (AccountError when neither can be had)."""
    spec = data.spec
    path = spec.out_dir / DAILY_DIR / f"{spec.group_id}.npz"
    if path.exists():
        try:
            compact, days = _read_daily(path)
        except PanelError as exc:
            raise AccountError(f"{spec.where}: {exc}") from None
        if len(compact) != data.group_count:
            raise AccountError(
                f"{spec.where}: {path} holds {len(compact)} combinations, the group "
                f"{data.group_count}"
            )
        lo, hi = int(compact.offsets[spec.combo]), int(compact.offsets[spec.combo + 1])
        s_lo, s_hi = (
            int(compact.skip_offsets[spec.combo]),
            int(compact.skip_offsets[spec.combo + 1]),
        )
        data.trade_day = compact.day[lo:hi].astype(np.int64)
        data.trade_r = compact.r[lo:hi].astype(np.float64)
        data.trade_pnl = compact.pnl[lo:hi].astype(np.float64)
        # equity: each trade's worst open P&L (absent from files older than it: None)
        if compact.adverse is not None:
            data.trade_adverse = compact.adverse[lo:hi].astype(np.float64)
        data.trading_days = np.asarray(days, dtype=np.int64)
        data.skip_days = compact.skip_day[s_lo:s_hi].astype(np.int64)
        data.source = f"compact trades {path}"
        return data
    try:
        (again,), bars = rerun(spec.out_dir, data.symbol, [(spec.group_id, spec.combo)], cfg=cfg)
    except (RerunError, ResultsError, ConfigError, OSError) as exc:
        raise AccountError(
            f"{spec.where}: the run has no compact trades ({path}: made without --save-daily) "
            f"and cannot be re-run: {exc}"
        ) from None
    values = trade_values(again.result.trades, bars)
    data.trade_day = values["day"].astype(np.int64)
    data.trade_r = values["r"].astype(np.float64)
    data.trade_pnl = values["pnl_money"].astype(np.float64)
    data.trade_adverse = trade_adverse(again.result.trades, bars.symbol)
    data.trading_days = bars.trading_days().astype(np.int64)
    skips = again.result.skip_days
    data.skip_days = np.zeros(0, np.int64) if skips is None else skips.astype(np.int64)
    data.source = "re-run with the run's recorded data and settings (no compact trades)"
    if again.differences:
        names = ", ".join(sorted(again.differences))
        data.warnings.append(f"the re-run's metrics differ from the recorded ones ({names})")
    return data


def check_picks(picks: list[PickData], program: Program) -> None:
    """Bad input across picks: two picks of one symbol, other data periods, account sizes
    that differ from each other or from the program's."""
    seen: dict[str, PickData] = {}
    for p in picks:
        if p.symbol in seen:
            raise AccountError(
                f"{p.spec.where}: symbol {p.symbol} twice ({seen[p.symbol].spec.where}): one "
                "pick per symbol"
            )
        seen[p.symbol] = p
    first = picks[0]
    for p in picks[1:]:
        for key in ("start_date", "end_date"):
            if str(p.metadata[key]) != str(first.metadata[key]):
                raise AccountError(
                    f"{p.spec.where}: {key} {p.metadata[key]} is not {first.symbol}'s "
                    f"{first.metadata[key]}: the runs cover different data periods"
                )
    for p in picks:
        size = float(p.metadata["account_size"])
        if not math.isclose(size, program.account_size, rel_tol=1e-12):
            raise AccountError(
                f"{p.spec.where}: account_size {size:g} of the run is not the program's "
                f"account_size {program.account_size:g} ({program.program_id}): incompatible "
                "account sizes (re-run with --account-size, or a --programs file for it)"
            )


def parse_risks(text: str | Sequence[float] | None, picks: list[PickData]) -> list[float]:
    """``--risk-per-symbol 1000,800``: money per trade for each pick in order (default:
    each run's recorded risk)."""
    if text is None or text == "":
        return [p.recorded_risk for p in picks]
    items = text.split(",") if isinstance(text, str) else list(text)
    if len(items) != len(picks):
        raise AccountError(
            f"--risk-per-symbol {text}: {len(items)} values for {len(picks)} picks (one each, "
            "in pick order)"
        )
    risks = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise AccountError(f"--risk-per-symbol {text}: {item!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise AccountError(f"--risk-per-symbol {text}: {item!r} must be a number > 0")
        risks.append(value)
    return risks


def parse_levels(text: str | Sequence[float]) -> list[float]:
    """``--risk-levels``: ``START:STOP:STEP`` (inclusive, % of the account) or ``a,b,c``."""
    where = f"--risk-levels {text}"
    try:
        if isinstance(text, str) and ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if not (step > 0 and stop >= start):
                raise AccountError(f"{where}: need STEP > 0 and STOP >= START")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if count > 200:
                raise AccountError(f"{where}: {count} levels; at most 200")
            levels = [round(start + i * step, 10) for i in range(count)]
        else:
            items = text.split(",") if isinstance(text, str) else list(text)
            levels = [float(x) for x in items]
    except ValueError as exc:
        if isinstance(exc, AccountError):
            raise
        raise AccountError(f"{where}: not START:STOP:STEP nor a list of numbers") from None
    if not levels or len(levels) > 200:
        raise AccountError(f"{where}: 1 to 200 levels")
    for level in levels:
        if not (math.isfinite(level) and 0 < level <= 100):
            raise AccountError(f"{where}: {level:g} is not a percentage in (0, 100]")
    return sorted(set(levels))


@dataclass
class Account:
    """The picks on one account: the calendar and each pick's days at its run's money."""

    picks: list[PickData]
    program: Program
    risks: list[float]  # money per trade on the account, per pick
    calendar: np.ndarray  # int64 day numbers (calendar dates)
    days: list[Days]  # per pick, at the run's recorded money

    @property
    def symbols(self) -> list[str]:
        return [p.symbol for p in self.picks]

    def factors(self, risks: Sequence[float]) -> list[float]:
        return [r / p.recorded_risk for r, p in zip(risks, self.picks)]

    def at(self, risks: Sequence[float]) -> Days:
        """The account's days with ``risks`` money per trade per pick."""
        return combine(self.days, self.factors(risks))

    def risks_at_level(self, level_pct: float) -> list[float]:
        """Money per trade at ``level_pct`` % of the account for the pick with the largest
        chosen risk, the others in proportion to their chosen risk."""
        top = max(self.risks)
        return [level_pct / 100.0 * self.program.account_size * r / top for r in self.risks]

    @property
    def has_equity(self) -> bool:
        return all(d.has_equity for d in self.days)


def build_account(
    picks: list[PickData], program: Program, risks: list[float] | None = None
) -> Account:
    """Align the picks' days on one calendar (module doc)."""
    calendar = np.unique(np.concatenate([p.trading_days for p in picks])).astype(np.int64)
    days = [symbol_days(p.trade_day, p.trade_pnl, calendar, p.trade_adverse) for p in picks]
    return Account(picks, program, risks or [p.recorded_risk for p in picks], calendar, days)


def load_account(
    specs: Sequence[PickSpec],
    program: Program,
    risks: str | Sequence[float] | None = None,
    cfg: dict[str, Any] | None = None,
) -> Account:
    """Read, check and load every pick (bad input: AccountError, before any trade is read
    or re-run), then align them."""
    if not specs:
        raise AccountError("--pick: give at least one OUT:GROUP:COMBO")
    picks = [read_pick(s) for s in specs]
    check_picks(picks, program)
    chosen = parse_risks(risks, picks)
    picks = [load_trades(p, cfg) for p in picks]
    return build_account(picks, program, chosen)


# --- the account over its history ------------------------------------------------------


def _dates(calendar: np.ndarray) -> list[str]:
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
    dates = _dates(account.calendar)
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
    dates = _dates(account.calendar)
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
            f"news_filter {'on' if params.get('news_filter') else 'off'}, {before} min before, "
            f"{after} after; no entry within {window:g} min of high-impact news is needed "
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


# --- the analysis ----------------------------------------------------------------------


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


def _lite(s: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "p_pass",
        "p_breach",
        "p_time_limit",
        "p_unfinished",
        "median_days_to_pass",
        "p90_days_to_pass",
        "se_p_pass",
        "se_p_breach",
    )
    return {k: s[k] for k in keys}


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
    dates = _dates(account.calendar)
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


# --- files -----------------------------------------------------------------------------


def output_paths(out_dir: Path, symbols: Sequence[str], program: Program) -> dict[str, Path]:
    tag = f"{'_'.join(symbols)}_{program.program_id}"
    return {
        "json": out_dir / f"account_{tag}.json",
        "days_csv": out_dir / f"account_days_{tag}.csv",
        "risk_csv": out_dir / f"account_risk_{tag}.csv",
        "html": out_dir / f"account_{tag}.html",
    }


def default_output_dir(symbols: Sequence[str], cfg: dict[str, Any] | None = None) -> Path:
    root = Path((cfg or load_config())["run"]["output_root"])
    root = root if root.is_absolute() else REPO_ROOT / root
    return root / f"account_{'_'.join(symbols)}"


def days_csv(result: dict[str, Any]) -> str:
    """The account's days: date, each symbol's P&L, the account's P&L, balances, losses."""
    h = result["history"]
    symbols = list(h["net_by_symbol"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [
        "start",
        "end",
        "lowest_closed",
        "lowest_equity",
        "daily_loss_closed_pct",
        "daily_loss_equity_pct",
        "overall_loss_pct",
        "drawdown_pct",
    ]
    writer.writerow(
        ["date", *(f"net_{s}" for s in symbols), "net", "trades", *columns, "profitable"]
    )
    for i, date in enumerate(h["date"]):
        row = [date, *(h["net_by_symbol"][s][i] for s in symbols), h["net"][i]]
        row.append(h["trades"][i] if h["trades"] else "")
        for c in columns:
            row.append("" if h[c] is None else h[c][i])
        row.append(int(h["profitable"][i]))
        writer.writerow(row)
    return buffer.getvalue()


def risk_csv(result: dict[str, Any]) -> str:
    """The risk sizing table: one row per level."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    levels = result["risk_sizing"]["levels"]
    symbols = list(levels[0]["risks"]) if levels else []
    keys = [
        "p_pass",
        "p_breach",
        "p_time_limit",
        "p_unfinished",
        "median_days_to_pass",
        "p90_days_to_pass",
    ]
    writer.writerow(
        [
            "risk_pct",
            *(f"risk_{s}" for s in symbols),
            *(f"sim_{k}" for k in keys),
            *(f"replay_{k}" for k in keys),
            "within_position_limit",
        ]
    )
    for lv in levels:
        writer.writerow(
            [
                lv["risk_pct"],
                *(lv["risks"][s] for s in symbols),
                *("" if lv["simulation"][k] is None else lv["simulation"][k] for k in keys),
                *("" if lv["replay"][k] is None else lv["replay"][k] for k in keys),
                lv["within_position_limit"],
            ]
        )
    return buffer.getvalue()


def write_account(
    out_dir: Path, account: Account, result: dict[str, Any], provenance: dict[str, Any]
) -> dict[str, Path]:
    """The JSON (everything, with provenance), the two CSVs and the HTML page, each
    written atomically."""
    from backtest.analysis.account_page import render_account

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = output_paths(out_dir, account.symbols, account.program)
    document = {**result, "provenance": provenance}
    atomic_write_text(paths["json"], json.dumps(document, indent=1, allow_nan=False) + "\n")
    atomic_write_text(paths["days_csv"], days_csv(result))
    atomic_write_text(paths["risk_csv"], risk_csv(result))
    atomic_write_text(paths["html"], render_account(document))
    return paths


def provenance(settings: Settings, command: str | None = None) -> dict[str, Any]:
    from backtest.core.version import code_version

    return {
        "code_version": code_version(),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "samples": settings.n_paths,
            "seed": settings.seed,
            "risk_levels": list(settings.levels),
            "max_breach": settings.max_breach,
            "horizon": settings.horizon,
        },
        "command": command,
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
