"""From a finished sweep to the live bot: the production checklist as code.

:func:`promote` gathers the evidence for one combination of a finished in-sample run (its
recorded results, its control-period results, the run's robustness verdict if any, the
bot folder's ``.env``, news file and promotion log), evaluates the checklist of
docs/PRODUCTION.md as :class:`Check` lines (PASS / FAIL / MANUAL, each with its reason)
and, only when nothing FAILs, writes the bot's parameter files atomically: the previous
ones go to a dated backup first and a line is appended to the promotion log.
:func:`rollback` restores the newest backup; :func:`preflight` re-evaluates what is
deployed without writing anything.

Every checklist item is a small pure function of plain values (``check_*``); the
functions that read files (``load_*``, ``read_*``) raise :class:`PromoteError` (one line
naming the file and the field) on bad input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from backtest.core.atomic import atomic_write
from backtest.core.config import symbol_spec
from backtest.strategy.params import PARAM_NAMES, distance_points, parse_hhmm

PASS, FAIL, MANUAL = "PASS", "FAIL", "MANUAL"
ACCOUNTS = ("demo", "real")
LOG_FILE = "ibsweep_promotions.jsonl"
BACKUP_DIR = "ibsweep_backups"
ROLLED_BACK_DIR = "rolled_back"
PROMOTE_CONTROL_DIR = "promote_control"
FORMAT_VERSION = 1
# Percentage comparisons allow the prop view's tolerance (docs/ARCHITECTURE.md, reading 6).
PCT_TOLERANCE = 1e-9
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_BACKUP_NAME = re.compile(
    r"^ibsweep_params_(?P<symbol>.+)\.(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.(json|set)$"
)
_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


class PromoteError(ValueError):
    """Bad input to a promotion (exit code 2): the message names the file and field."""


@dataclass(frozen=True)
class Check:
    """One line of the checklist: its item number (docs/PRODUCTION.md), what, the result."""

    item: str
    name: str
    status: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "name": self.name, "status": self.status, "reason": self.reason}


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]


def format_table(checks: list[Check]) -> str:
    """The checklist as an aligned text table (item, status, check, reason)."""
    width = max(len(c.name) for c in checks)
    lines = [f"{'#':<2} {'status':<6} {'check':<{width}} reason"]
    lines += [f"{c.item:<2} {c.status:<6} {c.name:<{width}} {c.reason}" for c in checks]
    return "\n".join(lines)


# --- file names in the bot folder ------------------------------------------------------


def params_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.json"


def set_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.set"


def stamp(now: dt.datetime) -> str:
    """A sortable UTC time stamp for backup names (``20261201T083000.123456Z``)."""
    return now.astimezone(dt.UTC).strftime(_STAMP)


def params_sha256(symbol: str, params: dict[str, Any], risk: float) -> str:
    """The identity of a parameter set: symbol, resolved parameters and risk per trade
    (everything the ``.set`` file carries), as sha256 of canonical JSON."""
    body = json.dumps(
        {"symbol": symbol, "params": params, "risk": float(risk)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


# --- reading the inputs ----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """The combination to promote, as the in-sample run recorded it."""

    directory: Path
    symbol: str
    group_id: str
    combo: int
    params: dict[str, Any]
    metrics: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def settings(self) -> dict[str, float]:
        """Risk, account and limits of the run (what the metrics were scored with)."""
        keys = ("risk", "account_size", "daily_loss_limit_pct", "max_loss_limit_pct")
        missing = [k for k in keys if k not in self.metadata]
        if missing:
            raise PromoteError(f"{self.directory}: results metadata has no '{missing[0]}'")
        return {k: float(self.metadata[k]) for k in keys}


def load_candidate(directory: Path, group_id: str, combo: int, symbol: str | None) -> Candidate:
    """Group ``group_id``'s combination ``combo`` of the committed in-sample results in
    ``directory``; unknown group or combination, or control results: PromoteError."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.table import RunTable
    from backtest.runner.outputs import combos_count

    directory = Path(directory)
    symbol = detect_symbol([directory], symbol)
    table = RunTable.read(directory, symbol, checkpoint_fallback=False)
    meta = table.results["metadata"]
    if meta.get("period") == "control":
        raise PromoteError(
            f"{directory}: --from: these are control-period results; give the in-sample run"
        )
    groups = {g["group_id"]: g for g in table.results["groups"]}
    if group_id not in groups:
        known = ", ".join(list(groups)[:5]) + (", ..." if len(groups) > 5 else "")
        raise PromoteError(f"{directory}: --group: no group '{group_id}' (known: {known})")
    group = groups[group_id]
    if group.get("status") != "ok":
        raise PromoteError(f"{directory}: --group: group '{group_id}' failed: {group.get('error')}")
    count = combos_count(group)
    if not 0 <= combo < count:
        raise PromoteError(
            f"{directory}: --combo: group '{group_id}' has combinations 0..{count - 1}, not {combo}"
        )
    row = table.row(group_id, combo)
    assert row is not None, "the combination index was checked above"
    (record,) = table.records([row])
    return Candidate(directory, symbol, group_id, combo, record["params"], record["metrics"], meta)


@dataclass(frozen=True)
class ControlResult:
    """The control-period row of the candidate and the control run's provenance."""

    path: Path
    metadata: dict[str, Any]
    row: dict[str, Any]
    ran_now: bool = False

    @property
    def metrics(self) -> dict[str, Any]:
        return {k[4:]: v for k, v in self.row.items() if k.startswith("ctl_")}


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PromoteError(f"{path}: not a readable {what}: {' '.join(str(exc).split())}") from None


def control_row(path: Path, candidate: Candidate) -> ControlResult | None:
    """The candidate's row of a ``control_vs_in_sample_{SYMBOL}.json``, None without one.

    The file must be a control run of this in-sample run (same in-sample data checksum and
    code version) and the row's parameters the candidate's, else PromoteError."""
    document = _read_json(path, "control comparison")
    try:
        meta, rows = document["metadata"], document["rows"]
        ins = meta["in_sample"]
    except (KeyError, TypeError):
        raise PromoteError(f"{path}: field 'metadata.in_sample' or 'rows' missing") from None
    for key in ("data_checksum", "code_version"):
        if ins.get(key) != candidate.metadata.get(key):
            raise PromoteError(
                f"{path}: field 'metadata.in_sample.{key}': {ins.get(key)!r} is not the "
                f"in-sample run's {candidate.metadata.get(key)!r} (a control of another run)"
            )
    for row in rows:
        if row.get("group_id") == candidate.group_id and row.get("combo") == candidate.combo:
            if any(row.get(n) != candidate.params.get(n) for n in PARAM_NAMES):
                raise PromoteError(
                    f"{path}: row {candidate.group_id} combo {candidate.combo}: parameters "
                    "differ from the in-sample run's"
                )
            return ControlResult(Path(path), meta, row)
    return None


def load_control(
    candidate: Candidate,
    control_from: Path | None,
    cfg: dict[str, Any],
    data_file: str | None = None,
) -> ControlResult:
    """The candidate's control result: from ``control_from`` (which must hold it), else
    from the in-sample folder or an earlier promotion's control run, else a control run of
    just this combination into ``OUT/promote_control/{group}_combo{K}/``."""
    from backtest.analysis.control import compare_control, control_json_path

    name = control_json_path(Path("."), candidate.symbol).name
    if control_from is not None:
        path = Path(control_from) / name
        if not path.is_file():
            raise PromoteError(f"{path}: --control-from: control comparison not found")
        found = control_row(path, candidate)
        if found is None:
            raise PromoteError(
                f"{path}: --control-from: no row for {candidate.group_id} combo "
                f"{candidate.combo} (leave out --control-from to run control for it)"
            )
        return found
    own = candidate.directory / PROMOTE_CONTROL_DIR / f"{candidate.group_id}_combo{candidate.combo}"
    for folder in (candidate.directory, own):
        if (folder / name).is_file():
            found = control_row(folder / name, candidate)
            if found is not None:
                return found
    compare_control(
        candidate.directory,
        output_dir=own,
        data_file=data_file,
        cfg=cfg,
        symbol=candidate.symbol,
        only=[(candidate.group_id, candidate.combo)],
    )
    found = control_row(own / name, candidate)
    assert found is not None  # compare_control wrote exactly this row
    return ControlResult(found.path, found.metadata, found.row, ran_now=True)


def load_robustness(directory: Path, symbol: str) -> tuple[Path, dict[str, Any] | None]:
    """``OUT/robustness_{SYMBOL}.json`` and its content (None when there is none)."""
    path = Path(directory) / f"robustness_{symbol}.json"
    if not path.is_file():
        return path, None
    document = _read_json(path, "robustness file")
    if not isinstance(document, dict) or not isinstance(document.get("verdict"), dict):
        raise PromoteError(f"{path}: field 'verdict' missing")
    return path, document


def read_env(path: Path) -> dict[str, str]:
    """The variables of a ``.env`` file: ``KEY=VALUE`` lines (``export`` allowed), blank
    lines and ``#`` comments; values may be quoted ('...' or "..."), an unquoted value
    ends at `` #``. A line that is none of these, an unclosed quote or a key set twice:
    PromoteError naming the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromoteError(f"{path}: .env file not found (the bot's account settings)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromoteError(f"{path}: cannot read: {exc}") from None
    found: dict[str, str] = {}
    where: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            raise PromoteError(f"{path}: line {number}: not KEY=VALUE: {stripped[:40]!r}")
        key, value = match.group(1), match.group(2).strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            rest = value[end + 1 :].strip() if end > 0 else ""
            if end < 0 or (rest and not rest.startswith("#")):
                raise PromoteError(f"{path}: line {number}: {key}: unclosed or trailing quote")
            value = value[1:end]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        if key in found:
            raise PromoteError(f"{path}: line {number}: {key} set twice (also line {where[key]})")
        found[key], where[key] = value, number
    return found


def read_log(path: Path) -> list[dict[str, Any]]:
    """The promotion log (one JSON object a line); none yet: ``[]``."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PromoteError(f"{path}: cannot read the promotion log: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise PromoteError(f"{path}: line {number}: not a JSON log entry") from None
        if not isinstance(entry, dict) or "time" not in entry or "event" not in entry:
            raise PromoteError(f"{path}: line {number}: field 'time' or 'event' missing")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class NewsFile:
    """The news file a bot reads: the ``.env`` variable naming it, where it is, its
    events (None when it could not be read; ``problem`` says why)."""

    variable: str
    path: Path | None
    events: pd.DataFrame | None
    problem: str | None = None


def read_news(bot_dir: Path, env: dict[str, str], variable: str) -> NewsFile:
    """The bot's news file as its ``.env`` names it (relative: to the bot folder)."""
    from backtest.data.news import NewsError, load_news

    value = env.get(variable)
    if not value:
        return NewsFile(variable, None, None, f"{variable} is not set in the bot's .env")
    path = Path(value) if Path(value).is_absolute() else Path(bot_dir) / value
    try:
        return NewsFile(variable, path, load_news(path))
    except NewsError as exc:
        return NewsFile(variable, path, None, str(exc))


@dataclass(frozen=True)
class BotFolder:
    """The live bot's folder: its ``.env`` variables, promotion log and news file."""

    path: Path
    env_path: Path
    env: dict[str, str]
    log: list[dict[str, Any]]
    news: NewsFile


def can_create_files(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, then removed: permission bits
    do not tell for root, nor for a read-only mount)."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".ibsweep-probe-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def open_bot_folder(bot_dir: Path, cfg: dict[str, Any], writable: bool) -> BotFolder:
    """Read the bot folder; missing, not a folder, or (when ``writable``) not writable:
    PromoteError."""
    path = Path(bot_dir)
    if not path.exists():
        raise PromoteError(f"{path}: --bot-dir: bot folder does not exist")
    if not path.is_dir():
        raise PromoteError(f"{path}: --bot-dir: not a folder")
    if writable and not can_create_files(path):
        raise PromoteError(f"{path}: --bot-dir: bot folder is not writable")
    settings = cfg["promote"]
    env_path = path / settings["env_file"]
    env = read_env(env_path)
    log = read_log(path / LOG_FILE)
    return BotFolder(path, env_path, env, log, read_news(path, env, settings["env_news_file"]))


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


# --- the checklist: one small pure function per line -----------------------------------


def check_positive(in_sample: dict[str, Any], control: dict[str, Any]) -> Check:
    """(1) Both periods gain after costs (spread and commission are in every trade's R)."""
    losing = [
        name
        for name, m in (("in-sample", in_sample), ("control", control))
        if not (m["total_r"] > 0 and m["total_pnl"] > 0)
    ]
    reason = (
        f"in-sample total_r {in_sample['total_r']:+.2f}, pnl {in_sample['total_pnl']:+.2f}; "
        f"control total_r {control['total_r']:+.2f}, pnl {control['total_pnl']:+.2f}"
    )
    if losing:
        return Check(
            "1", "positive after costs", FAIL, f"{' and '.join(losing)} not positive: {reason}"
        )
    return Check("1", "positive after costs", PASS, reason)


def check_trades(
    in_sample: dict[str, Any], control: dict[str, Any], min_in_sample: int, min_control: int
) -> Check:
    """(1) At least N trades in each period (promote.min_trades_in_sample / _control)."""
    reason = (
        f"in-sample {in_sample['trades']} (>= {min_in_sample} needed), "
        f"control {control['trades']} (>= {min_control} needed)"
    )
    few = in_sample["trades"] < min_in_sample or control["trades"] < min_control
    return Check(
        "1", "enough trades", FAIL if few else PASS, f"too few: {reason}" if few else reason
    )


def check_prop_view(
    in_sample: dict[str, Any], control: dict[str, Any], settings: dict[str, float]
) -> Check:
    """(1) The prop-firm view is OK in both periods (spec section 6)."""

    def text(name: str, m: dict[str, Any]) -> str:
        return (
            f"{name} daily loss {m['max_daily_loss_pct']:.2f}% / drawdown "
            f"{m['max_drawdown_pct']:.2f}% {'ok' if m['prop_ok'] else 'BROKEN'}"
        )

    reason = (
        f"{text('in-sample', in_sample)}; {text('control', control)} (limits "
        f"{settings['daily_loss_limit_pct']:g}% / {settings['max_loss_limit_pct']:g}%)"
    )
    ok = bool(in_sample["prop_ok"]) and bool(control["prop_ok"])
    return Check("1", "prop view OK", PASS if ok else FAIL, reason)


def check_robustness(
    robustness: dict[str, Any] | None, path: Path, group_id: str, combo: int
) -> Check:
    """(1) When the run has a robustness file: its verdict is "distinguishable from luck"
    and about this combination."""
    if robustness is None:
        return Check(
            "1",
            "robustness verdict",
            PASS,
            f"no {path.name} in the run folder (the "
            "verdict is checked when there is one: invoke robustness)",
        )
    selected = robustness.get("selected") or {}
    about = f"{selected.get('group_id')} combo {selected.get('combo')}"
    verdict = robustness["verdict"]
    other = (selected.get("group_id"), selected.get("combo")) != (group_id, combo)
    note = (
        f"; the promoted {group_id} combo {combo} is not the combination it judged" if other else ""
    )
    text = f"{path.name}: {about}: {verdict.get('text')} ({verdict.get('rule')}){note}"
    ok = bool(verdict.get("distinguishable_from_luck")) and not other
    return Check("1", "robustness verdict", PASS if ok else FAIL, text)


def check_real_data(in_sample_sample: bool, control_source: str | None, paths: tuple) -> Check:
    """(1) Both runs on real data, never the built-in sample data."""
    sample = [
        n
        for n, s in (("in-sample", in_sample_sample), ("control", control_source == "sample"))
        if s
    ]
    reason = f"in-sample {paths[0]}; control {paths[1]}"
    if sample:
        return Check(
            "1",
            "real data",
            FAIL,
            f"{' and '.join(sample)} ran on built-in SAMPLE data (a random walk): {reason}",
        )
    return Check("1", "real data", PASS, reason)


def check_code_version(in_sample: str | None, control: str | None) -> Check:
    """(1) Both runs by the same code version."""
    if in_sample and in_sample == control:
        return Check("1", "same code version", PASS, f"{in_sample}")
    return Check(
        "1",
        "same code version",
        FAIL,
        f"in-sample {in_sample}, control {control}: re-run both with one version",
    )


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


# --- the whole checklist ---------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What goes (or went) live: symbol, parameters, risk settings, account."""

    symbol: str
    params: dict[str, Any]
    settings: dict[str, float]
    account: str

    @property
    def sha256(self) -> str:
        return params_sha256(self.symbol, self.params, self.settings["risk"])


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


@dataclass(frozen=True)
class Evidence:
    """Everything the promotion checklist looks at."""

    candidate: Candidate
    control: ControlResult
    robustness_path: Path
    robustness: dict[str, Any] | None
    bot: BotFolder
    account: str


def backtest_checks(evidence: Evidence, cfg: dict[str, Any]) -> list[Check]:
    """Item 1: the recorded in-sample and control results, robustness, data, code."""
    from backtest.analysis.control import in_sample_was_sample

    cand, ctl = evidence.candidate, evidence.control
    settings = cfg["promote"]
    ctl_data = ctl.metadata.get("control", {}).get("data", {})
    in_data = cand.metadata.get("data") or {}
    return [
        check_positive(cand.metrics, ctl.metrics),
        check_trades(
            cand.metrics,
            ctl.metrics,
            int(settings["min_trades_in_sample"]),
            int(settings["min_trades_control"]),
        ),
        check_prop_view(cand.metrics, ctl.metrics, cand.settings),
        check_robustness(evidence.robustness, evidence.robustness_path, cand.group_id, cand.combo),
        check_real_data(
            in_sample_was_sample(cand.metadata, cfg),
            ctl_data.get("source"),
            (in_data.get("path") or cand.metadata.get("data_file"), ctl_data.get("path")),
        ),
        check_code_version(cand.metadata.get("code_version"), ctl.metadata.get("code_version")),
    ]


def evaluate(evidence: Evidence, cfg: dict[str, Any], now: dt.datetime) -> list[Check]:
    """The whole checklist for a promotion, in the order of docs/PRODUCTION.md."""
    cand = evidence.candidate
    deployment = Deployment(cand.symbol, cand.params, cand.settings, evidence.account)
    return backtest_checks(evidence, cfg) + bot_checks(deployment, evidence.bot, cfg, now)


# --- the bot's files -------------------------------------------------------------------


def set_value(value: Any) -> str:
    """One input value as MT5 reads it: true/false, whole numbers, floats at full
    precision, lists comma-separated, text (times ``HH:MM``) as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(set_value(v) for v in value)
    return str(value)


def set_text(inputs: dict[str, Any], names: dict[str, str], comments: list[str]) -> str:
    """The ``.set`` lines: ``; comment`` lines, then ``InputName=value`` per input (the
    EA's names from ``promote.set_inputs``), CRLF line ends."""
    lines = [f"; {c}" for c in comments]
    lines += [f"{names[key]}={set_value(value)}" for key, value in inputs.items()]
    return "\r\n".join(lines) + "\r\n"


def encode_set(text: str) -> bytes:
    """UTF-16 little endian with a byte-order mark: how MT5 terminals save .set files."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def read_set_file(path: Path) -> dict[str, str]:
    """``name -> value`` of a ``.set`` file (UTF-16 with BOM, or UTF-8); comments skipped."""
    data = Path(path).read_bytes()
    text = data[2:].decode("utf-16-le") if data[:2] == b"\xff\xfe" else data.decode("utf-8-sig")
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith(";") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.split("||")[0].strip()
    return values


def set_inputs(deployment: Deployment) -> dict[str, Any]:
    """The inputs of the ``.set`` file: every parameter, then the risk per trade."""
    return {**{n: deployment.params[n] for n in PARAM_NAMES}, "risk": deployment.settings["risk"]}


@dataclass
class Written:
    """What a promotion or rollback wrote."""

    files: dict[str, Path] = field(default_factory=dict)
    backup: str | None = None
    log_entry: dict[str, Any] = field(default_factory=dict)


def _backups(bot_dir: Path, symbol: str) -> dict[str, list[Path]]:
    folder = Path(bot_dir) / BACKUP_DIR
    found: dict[str, list[Path]] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            match = _BACKUP_NAME.match(path.name)
            if match and match["symbol"] == symbol:
                found.setdefault(match["stamp"], []).append(path)
    return found


def _copy(source: Path, target: Path) -> None:
    data = source.read_bytes()
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def _append_log(bot_dir: Path, entry: dict[str, Any]) -> None:
    with open(Path(bot_dir) / LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _backup_current(bot_dir: Path, symbol: str, folder: Path, when: str) -> list[Path]:
    saved = []
    for current in (params_path(bot_dir, symbol), set_path(bot_dir, symbol)):
        if current.exists():
            target = folder / f"{current.stem}.{when}{current.suffix}"
            _copy(current, target)
            saved.append(target)
    return saved


def write_promotion(
    bot_dir: Path,
    symbol: str,
    document: dict[str, Any],
    set_bytes: bytes,
    log_entry: dict[str, Any],
    now: dt.datetime,
) -> Written:
    """Back up the current parameter files (``ibsweep_backups/NAME.{stamp}.ext``), write
    the ``.set`` file and then the JSON atomically, append ``log_entry`` to the log."""
    when = stamp(now)
    saved = _backup_current(bot_dir, symbol, Path(bot_dir) / BACKUP_DIR, when)
    paths = {"set": set_path(bot_dir, symbol), "json": params_path(bot_dir, symbol)}
    atomic_write(paths["set"], lambda tmp: tmp.write_bytes(set_bytes))
    text = json.dumps(document, indent=1, sort_keys=False) + "\n"
    atomic_write(paths["json"], lambda tmp: tmp.write_text(text, encoding="utf-8"))
    entry = {**log_entry, "backup": when if saved else None}
    _append_log(bot_dir, entry)
    return Written(paths, when if saved else None, entry)


def rollback(bot_dir: Path, symbol: str, now: dt.datetime) -> Written:
    """Restore the newest backup of ``symbol``'s parameter files byte for byte; the files
    it replaces are kept under ``ibsweep_backups/rolled_back/``; log it."""
    bot_dir = Path(bot_dir)
    if not bot_dir.is_dir():
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder does not exist")
    if not can_create_files(bot_dir):
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder is not writable")
    backups = _backups(bot_dir, symbol)
    if not backups:
        raise PromoteError(
            f"{bot_dir / BACKUP_DIR}: no backup of ibsweep_params_{symbol} to roll back to"
        )
    restored = max(backups)
    when = stamp(now)
    kept = _backup_current(bot_dir, symbol, bot_dir / BACKUP_DIR / ROLLED_BACK_DIR, when)
    files: dict[str, Path] = {}
    suffixes = {p.suffix for p in backups[restored]}
    for current in (params_path(bot_dir, symbol), set_path(bot_dir, symbol)):
        if current.suffix in suffixes:
            _copy(bot_dir / BACKUP_DIR / f"{current.stem}.{restored}{current.suffix}", current)
            files[current.suffix[1:]] = current
        else:
            current.unlink(missing_ok=True)  # it did not exist at that time
    for path in backups[restored]:
        path.unlink()
    entry = {
        "time": now.astimezone(dt.UTC).isoformat(),
        "event": "rollback",
        "symbol": symbol,
        "restored": restored,
        "replaced_kept_as": [str(p.relative_to(bot_dir)) for p in kept],
    }
    _append_log(bot_dir, entry)
    return Written(files, restored, entry)


# --- promote, preflight ----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """The options of ``invoke promote``."""

    from_dir: Path
    group_id: str
    combo: int
    bot_dir: Path
    control_from: Path | None = None
    account: str = "demo"
    dry_run: bool = False
    symbol: str | None = None
    control_data_file: str | None = None


@dataclass
class Outcome:
    """A promotion's checklist, and what it wrote (nothing unless every line passed)."""

    evidence: Evidence
    checks: list[Check]
    written: Written | None = None


def gather(request: Request, cfg: dict[str, Any]) -> Evidence:
    """Read every input of a promotion (PromoteError, ValueError or OSError on bad input);
    runs control for the combination when no control result exists."""
    if request.account not in ACCOUNTS:
        raise PromoteError(f"--account: {request.account!r} must be demo or real")
    bot = open_bot_folder(request.bot_dir, cfg, writable=not request.dry_run)
    candidate = load_candidate(request.from_dir, request.group_id, request.combo, request.symbol)
    control = load_control(candidate, request.control_from, cfg, request.control_data_file)
    rob_path, rob = load_robustness(candidate.directory, candidate.symbol)
    return Evidence(candidate, control, rob_path, rob, bot, request.account)


def promotion_document(
    evidence: Evidence,
    checks: list[Check],
    cfg: dict[str, Any],
    now: dt.datetime,
    set_bytes: bytes,
) -> dict[str, Any]:
    """The bot's ``ibsweep_params_{SYMBOL}.json``: parameters, settings, provenance of
    both periods, the checklist."""
    from backtest.core.version import code_version

    cand, ctl = evidence.candidate, evidence.control
    deployment = Deployment(cand.symbol, cand.params, cand.settings, evidence.account)
    ctl_meta = ctl.metadata.get("control", {})
    rob = evidence.robustness
    return {
        "format": FORMAT_VERSION,
        "symbol": cand.symbol,
        "account": evidence.account,
        "promoted_at": now.astimezone(dt.UTC).isoformat(),
        "params": cand.params,
        "params_sha256": deployment.sha256,
        "settings": cand.settings,
        "prop_firm": dict(cfg["prop_firm"]),
        "set_file": {
            "name": set_path(Path("."), cand.symbol).name,
            "sha256": hashlib.sha256(set_bytes).hexdigest(),
            "encoding": "UTF-16 LE with BOM, CRLF",
            "inputs": {k: cfg["promote"]["set_inputs"][k] for k in set_inputs(deployment)},
        },
        "provenance": {
            "in_sample": {
                "dir": str(cand.directory.resolve()),
                "group_id": cand.group_id,
                "combo": cand.combo,
                **{k: cand.metadata.get(k) for k in ("period", "start_date", "end_date")},
                "data": cand.metadata.get("data") or {"path": cand.metadata.get("data_file")},
                "data_checksum": cand.metadata.get("data_checksum"),
                "code_version": cand.metadata.get("code_version"),
                "metrics": cand.metrics,
            },
            "control": {
                "file": str(ctl.path.resolve()),
                "ran_by_promote": ctl.ran_now,
                **{k: ctl_meta.get(k) for k in ("start_date", "end_date", "trading_days")},
                "data": ctl_meta.get("data"),
                "code_version": ctl.metadata.get("code_version"),
                "metrics": ctl.metrics,
            },
            "robustness": None
            if rob is None
            else {
                "file": str(evidence.robustness_path.resolve()),
                "selected": rob.get("selected"),
                "verdict": rob.get("verdict"),
            },
            "promoted_by": code_version(),
        },
        "checklist": [c.as_dict() for c in checks],
    }


def promote(request: Request, cfg: dict[str, Any], now: dt.datetime | None = None) -> Outcome:
    """Evaluate the checklist; when nothing FAILs and it is not a dry run, write the bot's
    files (see :func:`write_promotion`)."""
    now = now or dt.datetime.now(dt.UTC)
    evidence = gather(request, cfg)
    checks = evaluate(evidence, cfg, now)
    outcome = Outcome(evidence, checks)
    if failed(checks) or request.dry_run:
        return outcome
    cand = evidence.candidate
    deployment = Deployment(cand.symbol, cand.params, cand.settings, request.account)
    comments = [
        f"ibsweep {cand.symbol} {cand.group_id} combo {cand.combo} for {request.account.upper()}, "
        f"promoted {now.astimezone(dt.UTC).isoformat()}",
        f"parameter set sha256 {deployment.sha256}",
        f"provenance: {params_path(Path(), cand.symbol).name}",
    ]
    set_bytes = encode_set(set_text(set_inputs(deployment), cfg["promote"]["set_inputs"], comments))
    document = promotion_document(evidence, checks, cfg, now, set_bytes)
    entry = {
        "time": now.astimezone(dt.UTC).isoformat(),
        "event": "promote",
        "symbol": cand.symbol,
        "account": request.account,
        "params_sha256": deployment.sha256,
        "from": str(cand.directory.resolve()),
        "group_id": cand.group_id,
        "combo": cand.combo,
        "code_version": cand.metadata.get("code_version"),
    }
    outcome.written = write_promotion(request.bot_dir, cand.symbol, document, set_bytes, entry, now)
    return outcome


def deployed_symbols(bot_dir: Path) -> list[str]:
    """The symbols with a deployed ``ibsweep_params_{SYMBOL}.json`` in the bot folder."""
    names = sorted(Path(bot_dir).glob("ibsweep_params_*.json"))
    return [p.name[len("ibsweep_params_") : -len(".json")] for p in names]


def check_deployed_files(document: dict[str, Any], bot_dir: Path, symbol: str) -> Check:
    """The ``.set`` file is the one the JSON was promoted with (nobody edited it)."""
    path = set_path(bot_dir, symbol)
    if not path.is_file():
        return Check("-", "deployed files", FAIL, f"{path.name} is missing")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if sha != document.get("set_file", {}).get("sha256"):
        return Check(
            "-",
            "deployed files",
            FAIL,
            f"{path.name} differs from the one promoted "
            f"{document.get('promoted_at')} (edited by hand?): promote again",
        )
    return Check(
        "-", "deployed files", PASS, f"{path.name} as promoted {document.get('promoted_at')}"
    )


def check_recorded_backtests(document: dict[str, Any]) -> Check:
    """(1) At promotion every backtest line passed (the run folders may not be here)."""
    lines = [c for c in document.get("checklist", []) if c.get("item") == "1"]
    bad = [c["name"] for c in lines if c.get("status") != PASS]
    if not lines or bad:
        return Check(
            "1",
            "backtests (at promotion)",
            FAIL,
            f"recorded checklist {'lacks item 1' if not lines else 'FAILED: ' + ', '.join(bad)}",
        )
    prov = document.get("provenance", {})
    ins = prov.get("in_sample", {})
    return Check(
        "1",
        "backtests (at promotion)",
        PASS,
        f"{len(lines)} lines passed at "
        f"{document.get('promoted_at')} ({ins.get('group_id')} combo {ins.get('combo')})",
    )


def preflight(
    bot_dir: Path, cfg: dict[str, Any], symbol: str | None = None, now: dt.datetime | None = None
) -> dict[str, list[Check]]:
    """The checklist of what is deployed in ``bot_dir`` (per symbol), writing nothing."""
    now = now or dt.datetime.now(dt.UTC)
    bot = open_bot_folder(bot_dir, cfg, writable=False)
    symbols = [symbol] if symbol else deployed_symbols(bot.path)
    if not symbols:
        raise PromoteError(f"{bot.path}: no deployed ibsweep_params_{{SYMBOL}}.json")
    result = {}
    for sym in symbols:
        path = params_path(bot.path, sym)
        if not path.is_file():
            raise PromoteError(f"{path}: --symbol: no deployed parameters for {sym}")
        document = _read_json(path, "parameter file")
        try:
            deployment = Deployment(
                document["symbol"], document["params"], document["settings"], document["account"]
            )
        except (KeyError, TypeError) as exc:
            raise PromoteError(f"{path}: field {exc} missing") from None
        result[sym] = [
            check_deployed_files(document, bot.path, sym),
            check_recorded_backtests(document),
            *bot_checks(deployment, bot, cfg, now),
        ]
    return result
