"""The picks put on one prop account and the account built from them (``invoke account``;
docs/ANALYSIS.md, "Account and challenge").

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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.challenge import Days, combine, symbol_days
from backtest.analysis.panel import PanelError, group_daily
from backtest.analysis.rerun import RerunError, pick, rerun
from backtest.analysis.table import RunTable
from backtest.core.config import ConfigError
from backtest.core.programs import Program
from backtest.runner.outputs import ResultsError, combos_count
from backtest.runner.rundir import daily_path
from backtest.strategy.trades import trade_adverse, trade_values


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
    path = daily_path(spec.out_dir, spec.group_id)
    if path.exists():
        try:
            compact, days = group_daily(path)
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
