"""A run, planned: every input validated and the data loaded before anything runs.

:func:`prepare` turns :class:`~backtest.runner.options.RunOptions` into a
:class:`RunPlan` (groups, parameters, data, news file, output directory, execution
settings); bad input is a library error naming the option or file (exit code 2 at the
edge, :mod:`backtest.runner.main`), and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backtest.core import config as config_mod
from backtest.core.config import REPO_ROOT
from backtest.core.settings import RunSettings
from backtest.core.version import code_version
from backtest.data.bars import Bars
from backtest.engines.run import ENGINES
from backtest.runner.groups import GroupScan
from backtest.runner.options import EXECUTION_OPTIONS, PERIODS, RunOptions
from backtest.runner.run_log import log

if TYPE_CHECKING:
    pass


class RunError(ValueError):
    """A run option that cannot be used (the message names the option)."""


@dataclass
class RunPlan:
    """A validated run, ready to execute."""

    options: RunOptions
    symbol: str
    period: str
    start_date: str
    end_date: str
    groups_file: Path
    groups: dict[str, Any]  # group_id -> backtest.runner.groups.Group, file order
    scan: GroupScan  # counts, news use, table combinations of the groups (none expanded)
    cfg: dict[str, Any]
    bars: Bars
    settings: RunSettings
    workers: int | str  # a count or "auto"
    out_dir: Path
    header: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # provenance + coverage
    warnings: list[str] = field(default_factory=list)
    cluster: Any = None  # backtest.runner.dask_executor.ClusterTarget, None: the local pool


# --- preparation: validate everything before anything runs -------------------


def _as_options(options: RunOptions | dict[str, Any]) -> RunOptions:
    if isinstance(options, RunOptions):
        return options
    known = {f.name for f in fields(RunOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise RunError(f"unknown run option '{unknown[0]}' (known: {', '.join(sorted(known))})")
    if "groups_file" not in options:
        raise RunError("--groups-file is required")
    return RunOptions(**options)


def _date(value: str, option: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RunError(f"{option}: {value!r} is not a date YYYY-MM-DD") from None


def _positive(value: Any, option: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise RunError(f"{option}: {value!r} must be a number > 0")
    return number


def _number(value: Any, option: str) -> float | None:
    """A number option as given on a command line (invoke passes text); None stays."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RunError(f"{option}: {value!r} is not a number") from None


def execution_overrides(values: dict[str, Any]) -> dict[str, Any]:
    """The execution options (``--spread-model``, ``--spread-source``, ``--slippage``;
    None: not given) of ``values`` (option name -> value as given: invoke passes text)."""
    given = {k: values.get(k) for k in EXECUTION_OPTIONS}
    given["slippage"] = _number(given["slippage"], "--slippage")
    return given


def execution_config(cfg: dict[str, Any], symbol: str, opts: RunOptions) -> dict[str, Any]:
    """``cfg`` with the run's execution options applied to ``symbol`` and checked
    (spec section 8)."""
    given = execution_overrides({k: getattr(opts, k) for k in EXECUTION_OPTIONS})
    return config_mod.with_execution(cfg, symbol, given, "run option")


def _workers_option(value: int | str) -> int | str:
    if str(value).strip().lower() == "auto":
        return "auto"
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise RunError(f"--workers: {value!r} must be a whole number >= 1 or 'auto'")
    return number


def top_option(value: bool | str | None, option: str) -> int | None:
    """``top:N`` as N, ``all`` (or True) as None (every one), ``none`` (or False) as 0;
    anything else is a RunError naming ``option``."""
    if value is True or str(value).strip().lower() == "all":
        return None
    if value is False or value is None or str(value).strip().lower() == "none":
        return 0
    text = str(value).strip().lower()
    count = text[4:] if text.startswith("top:") else ""
    if not count.isdigit() or int(count) < 1:
        raise RunError(f"{option}: {value!r} is not top:N (N >= 1), all or none")
    return int(count)


def save_trades_setting(value: bool | str) -> bool | str:
    """``--save-trades`` as recorded (metadata, checkpoint): True, False or ``top:N``."""
    count = top_option(value, "--save-trades")
    return True if count is None else (f"top:{count}" if count else False)


def default_output_dir(groups_file: str | Path, period: str, cfg: dict[str, Any]) -> Path:
    """``backtest/output/{groups file stem}_{period}`` under the repository root (the
    root folder is the config's ``run.output_root``): the same sweep resumes there
    on any day, and another groups file gets its own folder."""
    root = Path(cfg["run"]["output_root"])
    root = root if root.is_absolute() else REPO_ROOT / root
    return root / f"{Path(groups_file).stem}_{period}"


def _refuse_other_sweep(out_dir: Path, group_ids: list[str]) -> None:
    """The default folder of a groups file holds another file's sweep (same stem,
    other groups): refuse, rather than merge two sweeps' results."""
    from backtest.runner.checkpoint import read_checkpoint
    from backtest.runner.rundir import CHECKPOINT_FILE

    path = out_dir / CHECKPOINT_FILE
    if not path.is_file():
        return
    header, _ = read_checkpoint(path)
    if header.get("group_ids") is not None and set(header["group_ids"]) != set(group_ids):
        raise RunError(
            f"--output-dir {out_dir} (the default for this groups file) holds the results of "
            "another groups file with the same name; pass --output-dir to choose a folder"
        )


# Measured rate of the fast engine (README, Benchmark: about 2,000-3,200 combinations
# per second per core over 736 trading days), for the estimate in the bound's message.
COMBINATION_DAYS_PER_SECOND = 2000 * 736


def _max_combinations(opts: RunOptions, cfg: dict[str, Any]) -> int:
    value = opts.max_combinations
    if value is None:
        return int(cfg["run"]["max_combinations"])
    try:
        number = int(str(value).replace("_", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise RunError(f"--max-combinations: {value!r} must be a whole number >= 1")
    return number


def _check_combinations(
    groups_file: Path, total: int, limit: int, start: str, end: str, workers: int | str
) -> None:
    """Refuse a run of more than ``limit`` combinations (counted before constraints,
    before anything is expanded), with the count and the estimated time."""
    if total <= limit:
        return
    cores = workers if isinstance(workers, int) else os.cpu_count() or 1
    days = int(np.busday_count(np.datetime64(start), np.datetime64(end) + 1))
    hours = total * max(days, 1) / COMBINATION_DAYS_PER_SECOND / cores / 3600
    raise RunError(
        f"{groups_file}: {total:,} combinations (before constraints) is more than the limit "
        f"of {limit:,} per run (--max-combinations, run.max_combinations); estimated time "
        f"{hours:,.1f} h on {cores} workers over {days} weekdays; split the groups file"
    )


def _check_coverage(bars: Bars, start: str, end: str, strict: bool) -> tuple[dict, list[str]]:
    """The data's coverage of the period (metadata) and its problems, logged as
    warnings; with ``strict`` (``--strict-data``) a problem is a RunError."""
    from backtest.data.coverage import coverage

    found = coverage(bars, start, end)
    problems = [f"{bars.source}: {p}" for p in found.problems]
    if problems and strict:
        raise RunError(f"{problems[0]} (--strict-data; {len(problems)} coverage problem(s))")
    for problem in problems:
        log.warning(f"{problem} (--strict-data makes this an error)")
    return found.as_dict(), problems


def _check_writable(out_dir: Path) -> None:
    probe = out_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise RunError(f"--output-dir {out_dir}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunError(f"--output-dir {out_dir}: {probe} is not writable")


def _news_ns(
    opts: RunOptions, groups_file: Path, needing: str | None, currencies: tuple[str, ...]
) -> tuple[np.ndarray, str | None]:
    """The sorted event times for the news filter, and a checksum of them (``needing``:
    the first group that uses the filter)."""
    from backtest.data.news import event_times, load_news

    if opts.news_file is None:
        if needing is not None:
            raise RunError(
                f"{groups_file}: group {needing}: field 'news_filter': on, "
                "but no --news-file was given"
            )
        return np.zeros(0, dtype=np.int64), None
    events = event_times(load_news(opts.news_file), currencies)
    return events, hashlib.sha256(events.tobytes()).hexdigest()[:16]


def _reading(what: str, given: Any, read: Callable[..., Any], *args: Any) -> Any:
    """``read(*args)``; an OS error (unreadable file, a directory) becomes a RunError
    naming the file (``given`` when the error names none), so that it is bad input
    (exit code 2), not a crash."""
    try:
        return read(*args)
    except OSError as exc:
        name = exc.filename or given or what
        raise RunError(f"{name}: cannot read the {what}: {exc.strerror or exc}") from None


def symbol_from_group_ids(groups_file: Path, cfg: dict[str, Any]) -> str | None:
    """The symbol of a groups file that names none anywhere (the seed's bare lists),
    when every ``group_id`` names the same configured symbol as a ``_`` token
    (``group_GER40_001``); else None (the loader then says the symbol is missing)."""
    try:
        data = json.loads(groups_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # load_groups_file reports it
    groups = data if isinstance(data, list) else None
    if not groups or not all(isinstance(g, dict) and "symbol" not in g for g in groups):
        return None
    known = set(config_mod.symbol_names(cfg))
    named = {frozenset(known.intersection(str(g.get("group_id", "")).split("_"))) for g in groups}
    if len(named) != 1 or len(next(iter(named))) != 1:
        return None
    return next(iter(next(iter(named))))


def prepare(opts: RunOptions) -> RunPlan:
    """Validate every input and load the data; raise a library error on bad input."""
    from backtest.data.loaders import data_provenance, load_period_bars
    from backtest.data.server_tz import check_server_tz
    from backtest.runner.groups import combo_count, load_groups_file, scan_groups
    from backtest.strategy.params import check_config_params

    cfg = _reading("config file", opts.config, config_mod.load_config, opts.config)
    check_config_params(cfg, str(config_mod.config_path(opts.config) or "config defaults"))
    if opts.server_tz is not None:
        check_server_tz(opts.server_tz, "--server-tz")
    limit = _max_combinations(opts, cfg)
    if opts.period not in PERIODS:
        raise RunError(f"--period: {opts.period!r} is not one of {', '.join(PERIODS)}")
    if opts.engine not in ENGINES:
        raise RunError(f"--engine: {opts.engine!r} is not one of {', '.join(ENGINES)}")
    if opts.save_daily and opts.engine != "fast":
        raise RunError("--save-daily: needs --engine fast (the emulator does not report skip days)")
    workers = _workers_option(opts.workers)
    from backtest.runner.dask_executor import cluster_target

    cluster = cluster_target(opts.scheduler, opts.scheduler_file, opts.tls_dir)
    top_option(opts.charts, "--charts")
    top_option(opts.save_trades, "--save-trades")
    span = config_mod.period(opts.period, cfg)
    start = _date(opts.start_date or span.start_date, "--start-date")
    end = _date(opts.end_date or span.end_date, "--end-date")
    if start > end:
        raise RunError(f"--start-date {start} is after --end-date {end}")
    run_cfg = cfg["run"]
    settings_kw = {
        "risk": _positive(run_cfg["risk"] if opts.risk is None else opts.risk, "--risk"),
        "account_size": _positive(
            run_cfg["account_size"] if opts.account_size is None else opts.account_size,
            "--account-size",
        ),
        "daily_loss_limit_pct": float(run_cfg["daily_loss_limit_pct"]),
        "max_loss_limit_pct": float(run_cfg["max_loss_limit_pct"]),
    }

    groups_file = Path(opts.groups_file)
    fallback = opts.symbol
    if fallback is None and (fallback := symbol_from_group_ids(groups_file, cfg)):
        log.info(
            f"{groups_file}: no symbol given; {fallback} taken from the group ids "
            "(--symbol chooses another)"
        )
    loaded = load_groups_file(groups_file, cfg, symbol=fallback, expand=False)
    if not loaded.groups:
        raise RunError(f"{groups_file}: field 'groups': no groups to run")
    if len(loaded.symbols) > 1:
        raise RunError(
            f"{groups_file}: field 'symbol': groups of several symbols "
            f"({', '.join(loaded.symbols)}); run one symbol per groups file"
        )
    symbol = loaded.symbols[0]
    cfg = execution_config(cfg, symbol, opts)
    configured_tz = cfg["symbols"][symbol].get("server_tz")
    if opts.server_tz is None and configured_tz is not None:
        where = f"{config_mod.config_path(opts.config) or 'config'}: symbols.{symbol}.server_tz"
        opts = replace(opts, server_tz=check_server_tz(configured_tz, where))
    if opts.symbol and symbol != opts.symbol:
        raise RunError(
            f"{groups_file}: field 'symbol': the file's groups are {symbol}, "
            f"--symbol says {opts.symbol}"
        )
    groups = {g.group_id: g for g in loaded.groups}
    total = sum(combo_count(g) for g in loaded.groups)
    _check_combinations(groups_file, total, limit, start, end, workers)
    scan = scan_groups(loaded, cfg, workers if isinstance(workers, int) else os.cpu_count() or 1)
    spec = config_mod.symbol_spec(symbol, cfg)
    news_ns, news_checksum = _news_ns(opts, groups_file, scan.news_group, spec.currencies)

    out_dir = Path(opts.output_dir or default_output_dir(groups_file, opts.period, cfg))
    if not opts.output_dir:
        _refuse_other_sweep(out_dir, list(groups))
    _check_writable(out_dir)

    loaded_bars = _reading(
        "data file",
        opts.data_file,
        load_period_bars,
        symbol,
        opts.period,
        opts.data_file,
        cfg,
        opts.server_tz,
        opts.drop_invalid,
        log,
        "warn" if opts.ignore_clock_check else "refuse",
    )
    bars = loaded_bars.between(start, end)
    if len(bars) == 0:
        raise RunError(
            f"{loaded_bars.source}: no bars between {start} and {end} (--start-date/--end-date)"
        )
    data = data_provenance(bars)
    data["coverage"], warnings = _check_coverage(bars, start, end, opts.strict_data)
    settings = RunSettings(news_ns=news_ns, **settings_kw)
    header = {
        "symbol": symbol,
        "period": opts.period,
        "start_date": start,
        "end_date": end,
        "data_checksum": loaded_bars.checksum,
        "data_source": data["source"],  # file or sample (fab status reads it mid-run)
        "code_version": code_version(),
        "symbol_settings": spec.as_dict(),
        "settings": {
            **settings_kw,
            "engine": opts.engine,
            "save_trades": save_trades_setting(opts.save_trades),
            "save_daily": bool(opts.save_daily),
            "news_checksum": news_checksum,
            "server_tz": opts.server_tz,
            "drop_invalid": bool(opts.drop_invalid),
        },
        "group_ids": list(groups),
    }
    return RunPlan(
        opts,
        symbol,
        opts.period,
        start,
        end,
        groups_file,
        groups,
        scan,
        cfg,
        bars,
        settings,
        workers,
        out_dir,
        header,
        data=data,
        warnings=warnings,
        cluster=cluster,
    )


def input_errors() -> tuple[type[BaseException], ...]:
    """The library errors that mean bad input (exit code 2, nothing run)."""
    from backtest.data.files import DataError
    from backtest.data.news import NewsError
    from backtest.runner.checkpoint import ResumeError
    from backtest.runner.dask_executor import ClusterError
    from backtest.runner.groups import GroupsError
    from backtest.strategy.params import ParamError

    return (
        RunError,
        config_mod.ConfigError,
        ParamError,
        ResumeError,
        GroupsError,
        DataError,
        NewsError,
        ClusterError,
    )
