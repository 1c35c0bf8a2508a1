"""From a finished sweep to the live bot: the production checklist as code.

:func:`promote` gathers the evidence for one combination of a finished in-sample run (its
recorded results, its control-period results and trades, the run's robustness verdict,
the bot folder's ``.env``, news file and promotion log), evaluates the checklist of
docs/PRODUCTION.md as :class:`Check` lines (PASS / FAIL / MISSING / MANUAL, each with its
reason; MISSING names the command that makes the evidence) and, only when no line FAILs
or is MISSING, writes the bot's files as one unit under the bot folder's lock: staged in
the folder, the previous files kept as a restore point (its manifest written last), then
renamed into place; a failure on the way puts back what was there.
:func:`rollback` restores the newest complete restore point the same way;
:func:`preflight` re-evaluates what is deployed without writing anything.

Every checklist line is a small pure function returning one :class:`Check`: the item-1
lines take the whole :class:`Evidence` (:data:`BACKTEST_CHECKS`: adding a line is adding
a function there), items 2-6 plain values (preflight evaluates them for what is
deployed). The functions that read files (``load_*``, ``read_*``) raise
:class:`PromoteError` (one line naming the file and the field) on bad input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from backtest.core.atomic import _fsync_dir, atomic_write
from backtest.core.config import SymbolSpec, symbol_spec
from backtest.strategy.params import PARAM_NAMES, distance_points, parse_hhmm

PASS, FAIL, MISSING, MANUAL = "PASS", "FAIL", "MISSING", "MANUAL"
BLOCKING = (FAIL, MISSING)
ACCOUNTS = ("demo", "real")
LOG_FILE = "ibsweep_promotions.jsonl"
BACKUP_DIR = "ibsweep_backups"
ROLLED_BACK_DIR = "rolled_back"
PROMOTE_CONTROL_DIR = "promote_control"
STAGING_PREFIX = ".ibsweep-staging-"
FORMAT_VERSION = 1
# Percentage comparisons allow the prop view's tolerance (docs/ARCHITECTURE.md, reading 6).
PCT_TOLERANCE = 1e-9
# The control figures the checklist reads, recomputed from the control trades.
CONTROL_FIGURES = (
    "trades",
    "total_r",
    "total_pnl",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "prop_ok",
)
# Settings that change a backtest's numbers, besides the symbol's costs and execution
# model (SymbolSpec.as_dict): scored by every source; recorded by the runs only.
SCORING_SETTINGS = ("risk", "account_size", "daily_loss_limit_pct", "max_loss_limit_pct")
RUN_SETTINGS = ("news_file", "server_tz", "engine", "drop_invalid")
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_MANIFEST_NAME = re.compile(
    r"^ibsweep_params_(?P<symbol>.+)\.(?P<stamp>\d{8}T\d{6}\.\d{6}Z)\.manifest\.json$"
)
_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")

Config = dict[str, Any]


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


def blocking(checks: list[Check]) -> list[Check]:
    """The lines that stop a promotion: FAIL, and MISSING (no evidence is no pass)."""
    return [c for c in checks if c.status in BLOCKING]


def format_table(checks: list[Check]) -> str:
    """The checklist as an aligned text table (item, status, check, reason)."""
    width = max(len(c.name) for c in checks)
    status = max(len("status"), *(len(c.status) for c in checks))
    lines = [f"{'#':<2} {'status':<{status}} {'check':<{width}} reason"]
    lines += [f"{c.item:<2} {c.status:<{status}} {c.name:<{width}} {c.reason}" for c in checks]
    return "\n".join(lines)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- file names in the bot folder ------------------------------------------------------


def params_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.json"


def set_path(bot_dir: Path, symbol: str) -> Path:
    return Path(bot_dir) / f"ibsweep_params_{symbol}.set"


def live_files(bot_dir: Path, symbol: str) -> dict[str, Path]:
    """The parameter files the bot reads, by extension: the ``.set`` first (a JSON always
    describes a complete ``.set``), then the JSON."""
    return {"set": set_path(bot_dir, symbol), "json": params_path(bot_dir, symbol)}


def own_paths(bot_dir: Path, symbol: str | None = None) -> list[Path]:
    """Every path promote writes in the bot folder (the symbol's files when given)."""
    from backtest.runner.execute import LOCK_FILE

    backups = Path(bot_dir) / BACKUP_DIR
    paths = [Path(bot_dir) / LOG_FILE, backups, backups / ROLLED_BACK_DIR, backups / LOCK_FILE]
    return paths + (list(live_files(bot_dir, symbol).values()) if symbol else [])


def refuse_symlinks(paths: Iterable[Path]) -> None:
    """Promote reads and writes only real files inside the bot folder: a symbolic link
    among ``paths`` (it could lead anywhere) is bad input."""
    for path in paths:
        if path.is_symlink():
            raise PromoteError(
                f"{path}: a symbolic link (to {os.readlink(path)}); promote reads and writes "
                "only real files inside the bot folder: replace the link by the file or folder"
            )


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
    return sha256(body.encode())


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
        missing = [k for k in SCORING_SETTINGS if k not in self.metadata]
        if missing:
            raise PromoteError(f"{self.directory}: results metadata has no '{missing[0]}'")
        return {k: float(self.metadata[k]) for k in SCORING_SETTINGS}


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
class ControlTrades:
    """A control row's trades as the comparison's ``.npz`` holds them: the control
    trading days (day numbers), the figures recomputed from them, the file's sha256 and
    the one the comparison recorded for it."""

    path: Path
    days: np.ndarray
    figures: dict[str, Any]
    sha256: str
    recorded_sha256: str | None


@dataclass(frozen=True)
class ControlResult:
    """The control-period row of the candidate, the control run's provenance and the
    row's trades (None, ``problem`` saying why, when there are none to read)."""

    path: Path
    metadata: dict[str, Any]
    row: dict[str, Any]
    trades: ControlTrades | None
    problem: str | None = None
    ran_now: bool = False

    @property
    def recorded(self) -> dict[str, Any]:
        """The figures as the comparison's row states them."""
        return {k[4:]: v for k, v in self.row.items() if k.startswith("ctl_")}

    @property
    def metrics(self) -> dict[str, Any]:
        """The figures the checklist judges: recomputed from the trades when there are
        any (a MISSING line blocks the promotion when there are none)."""
        return self.trades.figures if self.trades is not None else self.recorded


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PromoteError(f"{path}: not a readable {what}: {' '.join(str(exc).split())}") from None


def _control_trades(path: Path, meta: dict[str, Any], index: int) -> ControlTrades | str:
    """Row ``index``'s trades and figures from the ``.npz`` beside the comparison
    ``path``, or why there are none."""
    from backtest.analysis.control import read_control_trades, row_figures
    from backtest.analysis.panel import settings_of

    trades_path = path.with_suffix(".npz")
    if not trades_path.is_file():
        return f"no {trades_path.name} (the control trades) beside it"
    recorded = (meta.get("control") or {}).get("trades") or {}
    try:
        compact, days = read_control_trades(trades_path)
        if not index < len(compact):
            return f"{trades_path.name} holds {len(compact)} rows, not row {index + 1}"
        figures = row_figures(compact, days, index, settings_of(meta.get("settings") or {}))
        digest = sha256(trades_path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{trades_path.name} is unreadable ({' '.join(str(exc).split())})"
    return ControlTrades(trades_path, days, figures, digest, recorded.get("sha256"))


def control_row(path: Path, candidate: Candidate) -> ControlResult | None:
    """The candidate's row of a ``control_vs_in_sample_{SYMBOL}.json`` with its trades,
    None without one.

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
    for index, row in enumerate(rows):
        if row.get("group_id") == candidate.group_id and row.get("combo") == candidate.combo:
            label = f"{path}: row {candidate.group_id} combo {candidate.combo}"
            if any(row.get(n) != candidate.params.get(n) for n in PARAM_NAMES):
                raise PromoteError(f"{label}: parameters differ from the in-sample run's")
            bad = [k for k in CONTROL_FIGURES if not isinstance(row.get(f"ctl_{k}"), int | float)]
            if bad:
                raise PromoteError(f"{label}: field 'ctl_{bad[0]}' is not a number")
            trades = _control_trades(Path(path), meta, index)
            if isinstance(trades, str):
                return ControlResult(Path(path), meta, row, None, trades)
            return ControlResult(Path(path), meta, row, trades)
    return None


@dataclass(frozen=True)
class ControlOptions:
    """What promote's own control run uses (``--control-data-file``,
    ``--control-start-date``, ``--control-end-date``; None: the config's)."""

    data_file: str | None = None
    start_date: str | None = None
    end_date: str | None = None

    def differences(self, found: ControlResult) -> list[str]:
        """The options given that an existing control result was not made with."""
        ctl = found.metadata.get("control") or {}
        path = (ctl.get("data") or {}).get("path")
        differ = []
        if self.data_file is not None and (
            path is None or Path(self.data_file).resolve() != Path(path).resolve()
        ):
            differ.append(f"--control-data-file {self.data_file} (it has {path})")
        for option, given, had in (
            ("--control-start-date", self.start_date, ctl.get("start_date")),
            ("--control-end-date", self.end_date, ctl.get("end_date")),
        ):
            if given is not None and given != had:
                differ.append(f"{option} {given} (it has {had})")
        return differ


def control_folders(candidate: Candidate) -> list[Path]:
    """Where promote looks for the candidate's control result without ``--control-from``:
    the run folder (``invoke control --from OUT``), then promote's own control run."""
    own = candidate.directory / PROMOTE_CONTROL_DIR / f"{candidate.group_id}_combo{candidate.combo}"
    return [candidate.directory, own]


def load_control(
    candidate: Candidate,
    control_from: Path | None,
    cfg: Config,
    options: ControlOptions = ControlOptions(),
) -> ControlResult:
    """The candidate's control result: from ``control_from`` (which must hold it), else
    the one result the run folder and an earlier promotion's control run hold (two:
    PromoteError, choose with ``--control-from``), else a control run of just this
    combination (``options``) into ``OUT/promote_control/{group}_combo{K}/``."""
    from backtest.analysis.control import ControlError, compare_control, control_json_path

    name = control_json_path(Path("."), candidate.symbol).name
    label = f"{candidate.group_id} combo {candidate.combo}"
    if control_from is not None:
        path = Path(control_from) / name
        if not path.is_file():
            raise PromoteError(f"{path}: --control-from: control comparison not found")
        found = control_row(path, candidate)
        if found is None:
            raise PromoteError(
                f"{path}: --control-from: no row for {label} (leave out --control-from to run "
                "control for it)"
            )
        return found
    folders = control_folders(candidate)
    results = [control_row(f / name, candidate) for f in folders if (f / name).is_file()]
    held = [r for r in results if r is not None]
    if len(held) > 1:
        raise PromoteError(
            f"{candidate.directory}: {len(held)} control results hold {label} "
            f"({', '.join(str(r.path.parent) for r in held)}): choose one with --control-from"
        )
    if held:
        differ = options.differences(held[0])
        if differ:
            raise PromoteError(
                f"{held[0].path}: the control result of {label} was made otherwise than "
                f"{'; '.join(differ)}: pass --control-from {held[0].path.parent} to use it, "
                "or move it away to run control again"
            )
        return held[0]
    try:
        compare_control(
            candidate.directory,
            output_dir=folders[-1],
            data_file=options.data_file,
            cfg=cfg,
            symbol=candidate.symbol,
            start_date=options.start_date,
            end_date=options.end_date,
            only=[(candidate.group_id, candidate.combo)],
        )
    except ControlError as exc:
        raise PromoteError(
            f"control for {label} cannot be run: {exc} (choose the control data and dates "
            "with --control-data-file, --control-start-date, --control-end-date, or run "
            "invoke control and pass --control-from)"
        ) from None
    found = control_row(folders[-1] / name, candidate)
    assert found is not None  # compare_control wrote exactly this row
    return ControlResult(found.path, found.metadata, found.row, found.trades, found.problem, True)


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
    """The live bot's folder: its ``.env`` variables, promotion log, news file, and the
    state of promote's own files when it was read (:func:`bot_state`)."""

    path: Path
    env_path: Path
    env: dict[str, str]
    log: list[dict[str, Any]]
    news: NewsFile
    state: dict[str, str] = field(default_factory=dict)


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


def bot_state(bot_dir: Path) -> dict[str, str]:
    """sha256 of the promotion log and of every deployed parameter file, by name: what a
    promotion's checks read from the bot folder and its writing replaces."""
    names = [LOG_FILE, *(p.name for p in Path(bot_dir).glob("ibsweep_params_*"))]
    return {
        name: sha256((Path(bot_dir) / name).read_bytes())
        for name in sorted(names)
        if (Path(bot_dir) / name).is_file() and not (Path(bot_dir) / name).is_symlink()
    }


def open_bot_folder(bot_dir: Path, cfg: Config, writable: bool) -> BotFolder:
    """Read the bot folder; missing, not a folder, (when ``writable``) not writable, or
    a symbolic link where promote keeps its files: PromoteError."""
    path = Path(bot_dir)
    if not path.exists():
        raise PromoteError(f"{path}: --bot-dir: bot folder does not exist")
    if not path.is_dir():
        raise PromoteError(f"{path}: --bot-dir: not a folder")
    if writable and not can_create_files(path):
        raise PromoteError(f"{path}: --bot-dir: bot folder is not writable")
    refuse_symlinks(own_paths(path))
    state = bot_state(path)  # first: a change after this is a change since the reading
    settings = cfg["promote"]
    env_path = path / settings["env_file"]
    env = read_env(env_path)
    log = read_log(path / LOG_FILE)
    news = read_news(path, env, settings["env_news_file"])
    return BotFolder(path, env_path, env, log, news, state)


@contextmanager
def bot_lock(bot_dir: Path) -> Iterator[None]:
    """Hold the bot folder's lock while writing: the runner's lock of its output folder,
    taken on ``ibsweep_backups/.lock``; a second promote or rollback of the folder at the
    same time is refused (PromoteError)."""
    from backtest.runner.execute import _lock_output
    from backtest.runner.plan import RunError

    refuse_symlinks(own_paths(bot_dir))
    try:
        fd = _lock_output(Path(bot_dir) / BACKUP_DIR)
    except RunError:
        raise PromoteError(
            f"{bot_dir}: --bot-dir: another promote or rollback is writing to it: nothing "
            "written; run this one again when it has finished"
        ) from None
    try:
        yield
    finally:
        os.close(fd)


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


def control_command(evidence: Evidence) -> str:
    """The command that makes the control evidence of the candidate's run."""
    return f"invoke control --from {evidence.candidate.directory}"


def robustness_command(evidence: Evidence) -> str:
    """The command that makes the robustness file (the run needs its compact trades)."""
    from backtest.runner.execute import DAILY_DIR

    folder = evidence.candidate.directory
    command = f"invoke robustness --from {folder}"
    if (folder / DAILY_DIR).is_dir():
        return command
    return f"the sweep again with --save-daily, then {command}"


def check_positive(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both periods gain after costs (spread and commission are in every trade's R)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
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


def check_trades(evidence: Evidence, cfg: Config) -> Check:
    """(1) At least N trades in each period (promote.min_trades_in_sample / _control)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
    min_in_sample = int(cfg["promote"]["min_trades_in_sample"])
    min_control = int(cfg["promote"]["min_trades_control"])
    reason = (
        f"in-sample {in_sample['trades']} (>= {min_in_sample} needed), "
        f"control {control['trades']} (>= {min_control} needed)"
    )
    few = in_sample["trades"] < min_in_sample or control["trades"] < min_control
    return Check(
        "1", "enough trades", FAIL if few else PASS, f"too few: {reason}" if few else reason
    )


def check_prop_view(evidence: Evidence, cfg: Config) -> Check:
    """(1) The prop-firm view is OK in both periods (spec section 6)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
    settings = evidence.candidate.settings

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


def _same_figure(recorded: Any, recomputed: Any) -> bool:
    if isinstance(recorded, bool) or isinstance(recomputed, bool):
        return recorded is recomputed
    try:
        return bool(np.isclose(float(recorded), float(recomputed), rtol=1e-9, atol=1e-9))
    except (TypeError, ValueError):
        return False


def check_control_figures(evidence: Evidence, cfg: Config) -> Check:
    """(1) The control figures judged are its trades': recomputed from the ``.npz``, and
    the comparison's row says the same (an edited summary is caught, not believed)."""
    name, ctl = "control figures", evidence.control
    where = ctl.path.name
    if ctl.trades is None:
        return Check("1", name, MISSING, f"{where}: {ctl.problem}: run {control_command(evidence)}")
    trades = ctl.trades
    if trades.recorded_sha256 != trades.sha256:
        return Check(
            "1",
            name,
            FAIL,
            f"{trades.path.name} is not the trades file {where} was written with "
            f"(sha256 {trades.sha256[:12]}, recorded {str(trades.recorded_sha256)[:12]}): "
            f"run {control_command(evidence)}",
        )
    differ = [
        f"{key} {ctl.recorded.get(key)!r} but its trades give {trades.figures[key]!r}"
        for key in CONTROL_FIGURES
        if not _same_figure(ctl.recorded.get(key), trades.figures[key])
    ]
    if differ:
        return Check("1", name, FAIL, f"{where} says {'; '.join(differ)} (edited?)")
    return Check(
        "1",
        name,
        PASS,
        f"{where}: recomputed from its {trades.figures['trades']} trades in {trades.path.name}",
    )


def check_control_period(evidence: Evidence, cfg: Config) -> Check:
    """(1) The control trading days lie outside the in-sample period (whatever the data
    files: a control inside it is in-sample data)."""
    from backtest.analysis.control import in_sample_days, overlap_text
    from backtest.data.bars import day_date

    name, ctl, meta = "control out of sample", evidence.control, evidence.candidate.metadata
    if ctl.trades is None:
        return Check(
            "1",
            name,
            MISSING,
            f"{ctl.path.name}: {ctl.problem} (its trading days): run {control_command(evidence)}",
        )
    days = ctl.trades.days
    if not len(days):
        return Check("1", name, FAIL, f"{ctl.trades.path.name}: no control trading day")
    inside = in_sample_days(meta, days)
    if len(inside):
        return Check("1", name, FAIL, f"{ctl.path}: {overlap_text(meta, inside)}")
    return Check(
        "1",
        name,
        PASS,
        f"{ctl.path}: {len(days)} trading days {day_date(int(days[0]))}.."
        f"{day_date(int(days[-1]))}, in-sample {meta['start_date']}..{meta['end_date']}",
    )


def setting_values(
    symbol: str, scoring: Any, symbol_settings: Any, run: dict[str, Any] | None
) -> dict[str, Any]:
    """Every setting that changes a number, by name, as one source records it: risk,
    account and limits (``scoring``), the symbol's costs and execution model, and for a
    run (``run``) its news file, server time zone, engine and ``drop_invalid``. A name
    left out: not recorded."""
    scoring = scoring if isinstance(scoring, dict) else {}
    values: dict[str, Any] = {k: float(scoring[k]) for k in SCORING_SETTINGS if k in scoring}
    if isinstance(symbol_settings, dict):
        try:
            values.update(SymbolSpec.from_dict(symbol, symbol_settings).as_dict())
        except (KeyError, TypeError, ValueError):
            pass  # not a readable record: every cost is then "not recorded"
    if run is not None:
        values.update({k: run[k] for k in RUN_SETTINGS if k in run})
        values["drop_invalid"] = bool(values.get("drop_invalid"))
    return values


def settings_by_source(evidence: Evidence, cfg: Config) -> dict[str, dict[str, Any]]:
    """:func:`setting_values` of the in-sample run, the control run and the deployment
    (its risk settings and the configured symbol the bot trades)."""
    cand, meta = evidence.candidate, evidence.control.metadata
    control = meta.get("control") or {}
    deployed = symbol_spec(cand.symbol, cfg).as_dict()
    return {
        "in-sample": setting_values(
            cand.symbol, cand.metadata, cand.metadata.get("symbol_settings"), cand.metadata
        ),
        "control": setting_values(
            cand.symbol, meta.get("settings"), meta.get("symbol_settings"), control
        ),
        "deployment": setting_values(cand.symbol, cand.settings, deployed, None),
    }


def check_same_settings(evidence: Evidence, cfg: Config) -> Check:
    """(1) The in-sample run, the control run and the deployment have the same settings
    wherever a setting changes a number (the news file only with the news filter on; the
    run-only settings are compared between the two runs)."""
    name = "same settings"
    sources = settings_by_source(evidence, cfg)
    news = bool(evidence.candidate.params.get("news_filter"))
    names = [*sources["deployment"], *(k for k in RUN_SETTINGS if k != "news_file" or news)]
    differ, unrecorded = [], []
    for key in names:
        holders = [s for s in sources if s != "deployment" or key not in RUN_SETTINGS]
        unrecorded += [f"{s} {key}" for s in holders if key not in sources[s]]
        values = {s: sources[s][key] for s in holders if key in sources[s]}
        if len({json.dumps(v, sort_keys=True, default=str) for v in values.values()}) > 1:
            differ.append(f"{key}: " + ", ".join(f"{s} {v!r}" for s, v in values.items()))
    if differ:
        return Check("1", name, FAIL, "; ".join(differ))
    if unrecorded:
        return Check(
            "1",
            name,
            MISSING,
            f"not recorded: {', '.join(unrecorded[:3])}{', ...' if len(unrecorded) > 3 else ''}"
            f": run {control_command(evidence)}",
        )
    deployed = sources["deployment"]
    return Check(
        "1",
        name,
        PASS,
        f"{len(names)} settings equal in-sample, control and deployment (risk "
        f"{deployed['risk']:g}, spread {deployed['spread']:g} {deployed['spread_model']}, "
        f"engine {sources['in-sample'].get('engine')})",
    )


def check_robustness(evidence: Evidence, cfg: Config) -> Check:
    """(1) The run's robustness verdict is "distinguishable from luck", about this
    combination and this run; MISSING without a robustness file."""
    name, robustness, path = "robustness verdict", evidence.robustness, evidence.robustness_path
    cand = evidence.candidate
    if robustness is None:
        return Check(
            "1",
            name,
            MISSING,
            f"no {path.name} in the run folder: run {robustness_command(evidence)}",
        )
    run = (robustness.get("metadata") or {}).get("run") or {}
    other_run = [k for k in ("data_checksum", "code_version") if run.get(k) != cand.metadata.get(k)]
    if other_run:
        return Check(
            "1",
            name,
            FAIL,
            f"{path.name} judged another run ({other_run[0]} {run.get(other_run[0])!r}, "
            f"this run's {cand.metadata.get(other_run[0])!r}): run {robustness_command(evidence)}",
        )
    selected = robustness.get("selected") or {}
    about = f"{selected.get('group_id')} combo {selected.get('combo')}"
    verdict = robustness["verdict"]
    other = (selected.get("group_id"), selected.get("combo")) != (cand.group_id, cand.combo)
    note = (
        f"; the promoted {cand.group_id} combo {cand.combo} is not the combination it judged"
        if other
        else ""
    )
    text = f"{path.name}: {about}: {verdict.get('text')} ({verdict.get('rule')}){note}"
    ok = bool(verdict.get("distinguishable_from_luck")) and not other
    return Check("1", name, PASS if ok else FAIL, text)


def check_real_data(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both runs on real data, never the built-in sample data."""
    from backtest.analysis.control import in_sample_was_sample

    cand, ctl = evidence.candidate, evidence.control
    ctl_data = (ctl.metadata.get("control") or {}).get("data") or {}
    in_data = cand.metadata.get("data") or {}
    sample = [
        n
        for n, s in (
            ("in-sample", in_sample_was_sample(cand.metadata, cfg)),
            ("control", ctl_data.get("source") == "sample"),
        )
        if s
    ]
    reason = (
        f"in-sample {in_data.get('path') or cand.metadata.get('data_file')}; "
        f"control {ctl_data.get('path')}"
    )
    if sample:
        return Check(
            "1",
            "real data",
            FAIL,
            f"{' and '.join(sample)} ran on built-in SAMPLE data (a random walk): {reason}",
        )
    return Check("1", "real data", PASS, reason)


def check_code_version(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both runs by the same code version."""
    in_sample = evidence.candidate.metadata.get("code_version")
    control = evidence.control.metadata.get("code_version")
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


# Item 1, in the order of docs/PRODUCTION.md: a new line is one more function here.
BACKTEST_CHECKS: tuple[Callable[[Evidence, Config], Check], ...] = (
    check_positive,
    check_trades,
    check_prop_view,
    check_control_figures,
    check_control_period,
    check_same_settings,
    check_robustness,
    check_real_data,
    check_code_version,
)


def backtest_checks(evidence: Evidence, cfg: Config) -> list[Check]:
    """Item 1: the in-sample and control results, robustness, settings, data, code."""
    return [check(evidence, cfg) for check in BACKTEST_CHECKS]


def evaluate(evidence: Evidence, cfg: Config, now: dt.datetime) -> list[Check]:
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


def _write(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _manifest_path(folder: Path, symbol: str, when: str) -> Path:
    return folder / f"ibsweep_params_{symbol}.{when}.manifest.json"


def _copy_path(folder: Path, live: Path, when: str) -> Path:
    return folder / f"{live.stem}.{when}{live.suffix}"


@dataclass(frozen=True)
class RestorePoint:
    """A complete backup of a symbol's parameter files: by extension the copy, or None
    where there was no such file (a rollback removes it)."""

    manifest: Path
    stamp: str
    files: dict[str, Path | None]

    def discard(self) -> None:
        """Remove it, the manifest first (a half-removed backup is no restore point)."""
        self.manifest.unlink(missing_ok=True)
        for path in self.files.values():
            if path is not None:
                path.unlink(missing_ok=True)


def save_restore_point(bot_dir: Path, symbol: str, folder: Path, when: str) -> RestorePoint | None:
    """Copy the live parameter files of ``symbol`` into ``folder`` (``NAME.{when}.ext``)
    and then, last, their manifest (sha256 of each copy): only a backup with a manifest
    that matches its files is a restore point. None when there is nothing to keep; a
    failure removes what it wrote."""
    live = live_files(bot_dir, symbol)
    if not any(path.exists() for path in live.values()):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path | None] = dict.fromkeys(live)
    manifest: dict[str, Any] = {"format": FORMAT_VERSION, "symbol": symbol, "stamp": when}
    try:
        for ext, path in live.items():
            if path.exists():
                data = path.read_bytes()
                copies[ext] = _write(_copy_path(folder, path, when), data)
                manifest[ext] = sha256(data)
            else:
                manifest[ext] = None
        point = RestorePoint(_manifest_path(folder, symbol, when), when, copies)
        _write(point.manifest, (json.dumps(manifest, indent=1) + "\n").encode())
    except BaseException:
        RestorePoint(_manifest_path(folder, symbol, when), when, copies).discard()
        raise
    return point


def restore_points(folder: Path, symbol: str) -> dict[str, RestorePoint]:
    """The restore points of ``symbol`` in ``folder`` by stamp: manifests whose every
    copy exists with the recorded sha256 (a backup cut short, by a full disk or a kill,
    has no manifest and is left alone)."""
    found: dict[str, RestorePoint] = {}
    if not folder.is_dir():
        return found
    live = live_files(Path("."), symbol)
    for manifest in sorted(folder.iterdir()):
        match = _MANIFEST_NAME.match(manifest.name)
        if match is None or match["symbol"] != symbol:
            continue
        when = match["stamp"]
        copies = {ext: _copy_path(folder, path, when) for ext, path in live.items()}
        refuse_symlinks([manifest, *copies.values()])
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
            files = {ext: copies[ext] if recorded[ext] else None for ext in live}
            complete = all(
                path is None or (path.is_file() and sha256(path.read_bytes()) == recorded[ext])
                for ext, path in files.items()
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            complete = False
        if complete and any(files.values()):
            found[when] = RestorePoint(manifest, when, files)
    return found


def _swap_in(moves: list[tuple[str, Path, Path | None]], point: RestorePoint | None) -> None:
    """Rename each staged file over its live one, in order (``(ext, live, staged)``;
    staged None: remove the live file). On a failure the files already moved get their
    previous versions back from ``point`` (or are removed: there was none) and ``point``
    is discarded. The last move, the log, is never undone: when it fails it changed
    nothing, and after it nothing can fail."""
    done: list[tuple[str, Path]] = []
    try:
        for ext, live, staged in moves:
            if staged is None:
                live.unlink(missing_ok=True)
            else:
                os.replace(staged, live)
            done.append((ext, live))
    except BaseException:
        previous = point.files if point is not None else {}
        if point is not None:
            point.manifest.unlink(missing_ok=True)
        for ext, live in done:
            copy = previous.get(ext)
            if copy is not None:
                os.replace(copy, live)
            else:
                live.unlink(missing_ok=True)
        if point is not None:
            point.discard()
        raise
    _fsync_dir(moves[-1][1].parent)


def replace_live_files(
    bot_dir: Path,
    symbol: str,
    new: Mapping[str, bytes | None],
    keep_in: Path,
    entry: dict[str, Any],
    when: str,
) -> RestorePoint | None:
    """Make ``new`` (extension -> content, None: no such file) the live parameter files
    of ``symbol`` and append ``entry`` to the promotion log, as one unit: all of it is
    staged in the bot folder, the live files are kept as a restore point in ``keep_in``
    (stamp ``when``), then everything is renamed into place, the log last. A failure on
    the way leaves the bot folder as it was. Call it holding :func:`bot_lock`."""
    bot_dir = Path(bot_dir)
    live = live_files(bot_dir, symbol)
    log = bot_dir / LOG_FILE
    refuse_symlinks(own_paths(bot_dir, symbol))
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(dir=bot_dir, prefix=STAGING_PREFIX))
        moves = [
            (ext, live[ext], None if data is None else _write(staging / live[ext].name, data))
            for ext, data in new.items()
        ]
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        old_log = log.read_bytes() if log.exists() else b""
        moves.append(("log", log, _write(staging / LOG_FILE, old_log + line)))
        point = save_restore_point(bot_dir, symbol, keep_in, when)
        _swap_in(moves, point)
        return point
    except OSError as exc:
        raise PromoteError(
            f"{bot_dir}: writing the bot's files failed ({' '.join(str(exc).split())}): "
            "nothing changed in the bot folder"
        ) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(bot_dir: Path) -> None:
    """Staging folders a killed promotion left behind (only under the lock: none is in use)."""
    for folder in Path(bot_dir).glob(f"{STAGING_PREFIX}*"):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def write_promotion(
    bot_dir: Path,
    symbol: str,
    document: dict[str, Any],
    set_bytes: bytes,
    log_entry: dict[str, Any],
    now: dt.datetime,
) -> Written:
    """Write the ``.set`` file and the JSON and append ``log_entry`` to the log as one unit
    (:func:`replace_live_files`), the previous files kept in ``ibsweep_backups/``."""
    bot_dir, when = Path(bot_dir), stamp(now)
    text = json.dumps(document, indent=1, sort_keys=False) + "\n"
    live = live_files(bot_dir, symbol)
    backup = when if any(path.exists() for path in live.values()) else None
    entry = {**log_entry, "backup": backup}
    new = {"set": set_bytes, "json": text.encode()}
    replace_live_files(bot_dir, symbol, new, bot_dir / BACKUP_DIR, entry, when)
    return Written(live, backup, entry)


def rollback(bot_dir: Path, symbol: str, now: dt.datetime) -> Written:
    """Restore the newest restore point of ``symbol``'s parameter files byte for byte as
    one unit (:func:`replace_live_files`); the files it replaces are kept under
    ``ibsweep_backups/rolled_back/``; the restore point is used up; log it."""
    bot_dir = Path(bot_dir)
    if not bot_dir.is_dir():
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder does not exist")
    if not can_create_files(bot_dir):
        raise PromoteError(f"{bot_dir}: --bot-dir: bot folder is not writable")
    refuse_symlinks(own_paths(bot_dir, symbol))
    backups = bot_dir / BACKUP_DIR

    def newest() -> RestorePoint:
        points = restore_points(backups, symbol)
        if not points:
            raise PromoteError(
                f"{backups}: no backup of ibsweep_params_{symbol} to roll back to (a "
                "backup is one with its manifest)"
            )
        return points[max(points)]

    newest()  # refused before anything is written, the lock file included
    with bot_lock(bot_dir):
        _remove_stale_staging(bot_dir)
        point = newest()
        when = stamp(now)
        live = live_files(bot_dir, symbol)
        kept = backups / ROLLED_BACK_DIR
        entry = {
            "time": now.astimezone(dt.UTC).isoformat(),
            "event": "rollback",
            "symbol": symbol,
            "restored": point.stamp,
            "replaced_kept_as": [
                str(_copy_path(kept, path, when).relative_to(bot_dir))
                for path in live.values()
                if path.exists()
            ],
        }
        new = {
            ext: None if copy is None else copy.read_bytes() for ext, copy in point.files.items()
        }
        replace_live_files(bot_dir, symbol, new, kept, entry, when)
        point.discard()
    return Written(
        {ext: live[ext] for ext, copy in point.files.items() if copy}, point.stamp, entry
    )


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
    control: ControlOptions = ControlOptions()


@dataclass
class Outcome:
    """A promotion's checklist, and what it wrote (nothing while a line FAILs or is
    MISSING)."""

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
    control = load_control(candidate, request.control_from, cfg, request.control)
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
            "sha256": sha256(set_bytes),
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
                "trades": None if ctl.trades is None else str(ctl.trades.path.resolve()),
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


def promote(request: Request, cfg: Config, now: dt.datetime | None = None) -> Outcome:
    """Evaluate the checklist; when no line FAILs or is MISSING and it is not a dry run,
    write the bot's files (:func:`write_promotion`) holding the bot folder's lock, after
    checking that nothing changed the folder since its files were read."""
    now = now or dt.datetime.now(dt.UTC)
    evidence = gather(request, cfg)
    checks = evaluate(evidence, cfg, now)
    outcome = Outcome(evidence, checks)
    if blocking(checks) or request.dry_run:
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
        "control": str(evidence.control.path.resolve()),
    }
    with bot_lock(request.bot_dir):
        if bot_state(request.bot_dir) != evidence.bot.state:
            raise PromoteError(
                f"{request.bot_dir}: --bot-dir: another promote or rollback changed the bot's "
                "files while this one was checked: nothing written; run it again"
            )
        _remove_stale_staging(request.bot_dir)
        outcome.written = write_promotion(
            request.bot_dir, cand.symbol, document, set_bytes, entry, now
        )
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
    bad = [f"{c['name']} {c.get('status')}" for c in lines if c.get("status") != PASS]
    if not lines or bad:
        problem = "lacks item 1" if not lines else "did not pass: " + ", ".join(bad)
        return Check("1", "backtests (at promotion)", FAIL, f"recorded checklist {problem}")
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
        refuse_symlinks(live_files(bot.path, sym).values())
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
