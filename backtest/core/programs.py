"""Prop-firm programs as data: ``programs.yaml`` (repository root), read strictly.

A program is what a prop firm's challenge asks of one account: its size, the phases
(a profit target each), the daily loss limit and its base, the overall loss limit (static,
from the initial balance), the minimum number of profitable days (and what counts as
one), the news window in which no order may be placed, the maximum risk per position and
the time limit of a phase. ``invoke account --programs FILE`` reads another file of the
same format. Every key is checked before anything runs: an unknown key is refused with
the nearest known one, numbers must be finite and in range, a program names when its
rules were read (the firms change them: docs/ANALYSIS.md, "Account and challenge").

Percentages are percent (5 = 5 %), of the program's ``account_size`` (the initial
balance) unless the key says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backtest.core.config import (
    REPO_ROOT,
    ConfigError,
    check_number,
    did_you_mean,
    read_yaml_mapping,
    shown,
)

PROGRAMS_FILE = REPO_ROOT / "programs.yaml"
DEFAULT_PROGRAM = "the5ers_high_stakes"
# The bases a daily loss limit can be measured from.
DAILY_BASES = ("day_start_balance", "initial_balance")
# The only overall-loss base modelled: a floor fixed at the initial balance minus the limit.
OVERALL_BASES = ("initial_balance",)
PROGRAM_KEYS = (
    "name",
    "firm",
    "rules_read",
    "sources",
    "notes",
    "account_size",
    "phases",
    "daily_loss",
    "overall_loss",
    "profitable_days",
    "news_window_min",
    "max_risk_per_position_pct",
    "time_limit_days",
)
REQUIRED_KEYS = (
    "name",
    "rules_read",
    "account_size",
    "phases",
    "overall_loss",
    "profitable_days",
)
PHASE_KEYS = ("name", "profit_target_pct")
DAILY_KEYS = ("limit_pct", "base")
OVERALL_KEYS = ("limit_pct", "base")
PROFITABLE_KEYS = ("min_days", "min_profit_pct")
_PROGRAM_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
CHECK_RULES = "check your program's current rules on the firm's site: they change"


class ProgramError(ConfigError):
    """A programs file or program that cannot be used; the message names the file and field."""


@dataclass(frozen=True)
class Phase:
    name: str
    profit_target_pct: float  # of the initial balance; the closed balance must reach it


@dataclass(frozen=True)
class Program:
    """One prop-firm program (see the module doc for the meaning of each field)."""

    program_id: str
    name: str
    firm: str
    rules_read: str  # ISO date the rules were read
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    account_size: float
    phases: tuple[Phase, ...]
    daily_loss_pct: float | None  # None: no daily loss limit
    daily_loss_base: str  # one of DAILY_BASES
    overall_loss_pct: float
    overall_loss_base: str  # "initial_balance": static floor
    min_profitable_days: int
    profitable_day_pct: float  # a day whose closed P&L is at least this % of the initial
    news_window_min: float  # minutes before and after high-impact news: no order (0: none)
    max_risk_per_position_pct: float | None  # of the initial balance; None: no rule
    time_limit_days: int | None  # trading days per phase; None: no limit
    source_file: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as recorded in every output of ``invoke account``."""
        out = asdict(self)
        out["phases"] = [asdict(p) for p in self.phases]
        out["sources"] = list(self.sources)
        out["notes"] = list(self.notes)
        return out

    def rules_line(self) -> str:
        """One line naming the program and when its rules were read, with the warning."""
        return f"{self.name}: rules as read on {self.rules_read}; {CHECK_RULES}"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProgramError(f"{where}: must be a mapping (got {shown(value)})")
    return value


def _known(section: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in section:
        if key not in known:
            raise ProgramError(
                f"{where}.{key}: unknown key{did_you_mean(str(key), known)}; "
                f"known: {', '.join(known)}"
            )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ProgramError(f"{where}: {shown(value)} must be a text of 1 to 200 characters")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProgramError(f"{where}: must be a list of texts (got {shown(value)})")
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))


def _pct(value: Any, where: str, *, zero_ok: bool = False) -> float:
    try:
        return check_number(value, where, 0.0, low_open=not zero_ok, high=100.0)
    except ConfigError as exc:
        raise ProgramError(str(exc)) from None


def _whole(value: Any, where: str, low: int, high: int) -> int:
    try:
        return int(check_number(value, where, low, low_open=False, high=high, whole=True))
    except ConfigError as exc:
        raise ProgramError(str(exc)) from None


def _date(value: Any, where: str) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ProgramError(
        f"{where}: {shown(value)} is not a date YYYY-MM-DD (when the rules were read)"
    )


def parse_program(program_id: str, raw: Any, where: str, source_file: str = "") -> Program:
    """One program's mapping, checked key by key (ProgramError naming ``where.key``)."""
    if not (isinstance(program_id, str) and _PROGRAM_ID.match(program_id)):
        raise ProgramError(
            f"{where}: program id {shown(program_id)} must be 1 to 64 of a-z 0-9 _ "
            "(starting with a letter or digit)"
        )
    raw = _mapping(raw, where)
    _known(raw, PROGRAM_KEYS, where)
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise ProgramError(f"{where}: missing {', '.join(missing)}")
    try:
        account = check_number(raw["account_size"], f"{where}.account_size", 0.0, high=1e12)
    except ConfigError as exc:
        raise ProgramError(str(exc)) from None
    phases_raw = raw["phases"]
    if not isinstance(phases_raw, list) or not 1 <= len(phases_raw) <= 10:
        raise ProgramError(f"{where}.phases: must be a list of 1 to 10 phases")
    phases = []
    for i, phase in enumerate(phases_raw):
        at = f"{where}.phases[{i}]"
        phase = _mapping(phase, at)
        _known(phase, PHASE_KEYS, at)
        if "profit_target_pct" not in phase:
            raise ProgramError(f"{at}: missing profit_target_pct")
        phases.append(
            Phase(
                name=_text(phase.get("name", f"Phase {i + 1}"), f"{at}.name"),
                profit_target_pct=_pct(phase["profit_target_pct"], f"{at}.profit_target_pct"),
            )
        )
    daily_pct: float | None = None
    daily_base = DAILY_BASES[0]
    if raw.get("daily_loss") is not None:
        daily = _mapping(raw["daily_loss"], f"{where}.daily_loss")
        _known(daily, DAILY_KEYS, f"{where}.daily_loss")
        if "limit_pct" not in daily:
            raise ProgramError(f"{where}.daily_loss: missing limit_pct (or daily_loss: null)")
        daily_pct = _pct(daily["limit_pct"], f"{where}.daily_loss.limit_pct")
        daily_base = daily.get("base", DAILY_BASES[0])
        if daily_base not in DAILY_BASES:
            raise ProgramError(
                f"{where}.daily_loss.base: {shown(daily_base)} is not one of "
                f"{', '.join(DAILY_BASES)}{did_you_mean(str(daily_base), DAILY_BASES)}"
            )
    overall = _mapping(raw["overall_loss"], f"{where}.overall_loss")
    _known(overall, OVERALL_KEYS, f"{where}.overall_loss")
    if "limit_pct" not in overall:
        raise ProgramError(f"{where}.overall_loss: missing limit_pct")
    overall_base = overall.get("base", OVERALL_BASES[0])
    if overall_base not in OVERALL_BASES:
        raise ProgramError(
            f"{where}.overall_loss.base: {shown(overall_base)} is not one of "
            f"{', '.join(OVERALL_BASES)} (a static floor from the initial balance is the "
            "only one modelled)"
        )
    profitable = _mapping(raw["profitable_days"], f"{where}.profitable_days")
    _known(profitable, PROFITABLE_KEYS, f"{where}.profitable_days")
    for key in PROFITABLE_KEYS:
        if key not in profitable:
            raise ProgramError(f"{where}.profitable_days: missing {key}")
    risk = raw.get("max_risk_per_position_pct")
    limit = raw.get("time_limit_days")
    return Program(
        program_id=program_id,
        name=_text(raw["name"], f"{where}.name"),
        firm=_text(raw.get("firm", "unnamed"), f"{where}.firm"),
        rules_read=_date(raw["rules_read"], f"{where}.rules_read"),
        sources=_texts(raw.get("sources"), f"{where}.sources"),
        notes=_texts(raw.get("notes"), f"{where}.notes"),
        account_size=account,
        phases=tuple(phases),
        daily_loss_pct=daily_pct,
        daily_loss_base=str(daily_base),
        overall_loss_pct=_pct(overall["limit_pct"], f"{where}.overall_loss.limit_pct"),
        overall_loss_base=str(overall_base),
        min_profitable_days=_whole(
            profitable["min_days"], f"{where}.profitable_days.min_days", 0, 1000
        ),
        profitable_day_pct=_pct(
            profitable["min_profit_pct"], f"{where}.profitable_days.min_profit_pct", zero_ok=True
        ),
        news_window_min=_minutes(raw.get("news_window_min", 0), f"{where}.news_window_min"),
        max_risk_per_position_pct=None
        if risk is None
        else _pct(risk, f"{where}.max_risk_per_position_pct"),
        time_limit_days=None
        if limit is None
        else _whole(limit, f"{where}.time_limit_days", 1, 100_000),
        source_file=source_file,
    )


def _minutes(value: Any, where: str) -> float:
    try:
        return check_number(value, where, 0.0, low_open=False, high=1440.0)
    except ConfigError as exc:
        raise ProgramError(str(exc)) from None


def load_programs(path: str | Path | None = None) -> dict[str, Program]:
    """Every program of the file (default :data:`PROGRAMS_FILE`), checked; ProgramError
    naming the file and field."""
    file = Path(path) if path is not None else PROGRAMS_FILE
    if not file.is_file():
        problem = "is a directory, not a programs file" if file.is_dir() else "not found"
        raise ProgramError(f"--programs {file}: {problem}")
    raw = read_yaml_mapping(file, ProgramError)
    _known(raw, ("programs",), str(file))
    programs = raw.get("programs")
    if not isinstance(programs, dict) or not programs:
        raise ProgramError(f"{file}: 'programs' must be a mapping of program id to program")
    return {
        str(pid): parse_program(pid, body, f"{file}: programs.{pid}", str(file))
        for pid, body in programs.items()
    }


def load_program(name: str = DEFAULT_PROGRAM, path: str | Path | None = None) -> Program:
    """The program ``name`` of the programs file; an unknown name is a ProgramError
    naming ``--program`` and the known ones."""
    programs = load_programs(path)
    if name not in programs:
        raise ProgramError(
            f"--program {name}: unknown program{did_you_mean(name, programs)} "
            f"(known: {', '.join(programs)})"
        )
    return programs[name]
