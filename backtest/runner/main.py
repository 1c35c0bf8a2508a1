"""Run every group of a groups file over one period, in parallel, losing nothing.

``python -m backtest.run_parallel_backtest --groups-file G.json ...`` (see
``--help`` and docs/io-contract). Everything is validated before anything runs
(groups, parameters, data, news file, output directory, an existing
checkpoint); bad input is one line on stderr and exit code 2.

The data is loaded once in this process; workers are forked from it and share
the bars (copy-on-write). A small supervisor feeds each worker one group at a
time over a pipe and waits on result pipes and process sentinels, so a worker
killed by a signal is noticed at once: its group is retried once on a fresh
worker, then recorded failed. Each finished group goes to the checkpoint
(fsync) before anything else, so a run that is interrupted (SIGINT/SIGTERM:
finished results are written, unfinished groups go to ``failed_groups``) or
killed resumes where it stopped when re-run on the same output directory.

The worker pool is backtest.runner.pool, the log/progress/signal plumbing backtest.runner.run_log.
The groups reach the pool through backtest.runner.executor; with ``--scheduler`` /
``--scheduler-file`` they go to a Dask cluster instead (backtest.runner.dask_executor), and
everything else here stays the same (checkpoint, outputs, resume, exit codes).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import gc
import hashlib
import json
import math
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from backtest.core import config as config_mod
from backtest.core.config import REPO_ROOT, ConfigError
from backtest.core.settings import RunSettings
from backtest.core.version import code_version
from backtest.data.bars import Bars, day_date
from backtest.engines.run import ENGINES, run_combos
from backtest.runner import store
from backtest.runner.checkpoint import Checkpoint, ResumeError
from backtest.runner.executor import Executor
from backtest.runner.exit_codes import CRASHED
from backtest.runner.group_run import finish_remote, run_group, write_daily
from backtest.runner.groups import GroupScan, iter_group
from backtest.runner.options import EXECUTION_OPTIONS, PERIODS, RunOptions, build_parser
from backtest.runner.outputs import ResultsError, read_results, summary_rows, write_results
from backtest.runner.pool import FAULT_ENV, Supervisor, WorkerJob, failed_record, resolve_workers
from backtest.runner.run_log import Progress, RunLogging, Signals, log
from backtest.strategy.daily import CompactTrades
from backtest.strategy.params import ParamError
from backtest.strategy.trades import trade_records

if TYPE_CHECKING:
    from backtest.runner.dask_executor import DaskExecutor

RUN_LOG = "run.log"
DAILY_DIR = "daily"
LOCK_FILE = ".lock"
_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


class RunError(ValueError):
    """A run option that cannot be used (the message names the option)."""


class RunCrashed(RuntimeError):
    """The run stopped on an unexpected error (exit code 3); the message is one line
    for stderr, the traceback is in run.log (or the file the message names)."""


@dataclass
class RunReport:
    """What a run did: where its files are and how its groups ended."""

    output_dir: Path
    symbol: str
    files: dict[str, Path]
    groups: int
    ok: int
    failed: list[str]
    resumed: int
    exit_code: int
    interrupted: str | None = None
    top: list[dict[str, Any]] = field(default_factory=list)  # summary rows, best first
    data: dict[str, Any] = field(default_factory=dict)  # metadata.data (source, path, ...)


@dataclass
class _Plan:
    """A validated run, ready to execute."""

    options: RunOptions
    symbol: str
    period: str
    start_date: str
    end_date: str
    groups_file: Path
    groups: dict[str, Any]  # group_id -> backtest.runner.groups.Group, file order
    scan: GroupScan  # counts, digests, ... of the groups' combinations (none held)
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
    from backtest.runner.checkpoint import CHECKPOINT_FILE, read_checkpoint

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


def prepare(opts: RunOptions) -> _Plan:
    """Validate every input and load the data; raise a library error on bad input."""
    from backtest.data.loaders import check_server_tz, data_provenance, load_period_bars
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
    return _Plan(
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


# --- the run ---------------------------------------------------------------


def _trades_to_keep(save_trades: bool | str) -> bool | int:
    """``--save-trades`` for :func:`run_group`: True (all), False, or N (best N)."""
    count = top_option(save_trades, "--save-trades")
    return True if count is None else count


def _now() -> str:
    """Now, ISO 8601 in UTC (``+00:00``): hosts in other time zones compare and merge."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _draw_charts(plan: _Plan, final: list[dict[str, Any]]) -> None:
    """The PNG charts of a run (``--charts``), drawn once at its end: equity and heatmap
    of the best N groups by their best ``total_r`` (that combination is re-run here for
    its trades: one combination per group), then the whole-run heatmaps. A failure is
    logged, never fatal."""
    count = 0 if plan.options.skip_charts else top_option(plan.options.charts, "--charts")
    if count == 0:
        return
    from backtest.runner.charts import run_heatmap_charts, write_group_charts

    started = time.perf_counter()
    ok = [r for r in final if r["status"] == "ok"]
    chosen = [r["group_id"] for r in summary_rows(ok)][:count]
    records = {r["group_id"]: r for r in ok}
    drawn = 0
    for gid in (g for g in chosen if g in plan.groups):
        record = records[gid]
        try:
            best = record["best"]
            trades = (record.get("trades") or {}).get(str(best))
            if trades is None:
                (result,) = run_combos(
                    plan.bars, [record["best_combo"]["params"]], plan.settings, plan.options.engine
                )
                trades = trade_records(result.trades, plan.bars)
            write_group_charts(
                plan.out_dir / "charts",
                gid,
                _chart_combos(plan.out_dir, record),
                trades,
                plan.settings.account_size,
                plan.symbol,
            )
            drawn += 1
        except Exception as exc:  # charts are a by-product: the results matter
            log.warning(f"{gid}: charts not written: {type(exc).__name__}: {exc}")
    try:
        rows = partial(store.group_rows, plan.out_dir)  # column-wise, any run size
        whole = run_heatmap_charts(plan.out_dir / "charts", plan.symbol, ok, rows=rows)
    except Exception as exc:
        whole = []
        log.warning(f"whole-run heatmaps not written: {type(exc).__name__}: {exc}")
    log.info(
        f"charts: {drawn} of {len(ok)} groups (--charts {plan.options.charts}) and "
        f"{len(whole)} whole-run heatmaps in {time.perf_counter() - started:.1f}s "
        f"-> {plan.out_dir / 'charts'}"
    )


def _chart_combos(out_dir: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """A group's combinations for its heatmap; only the best one above the inline limit
    (a heatmap of a million cells is not drawn from Python dicts)."""
    if record["combos_count"] > store.INLINE_LIMIT:
        return [record["best_combo"]]
    return store.table_records(store.group_rows(out_dir, record))


def _metadata(plan: _Plan, workers: int, started: str) -> dict[str, Any]:
    opts = plan.options
    return {
        "symbol": plan.symbol,
        "period": plan.period,
        "start_date": plan.start_date,
        "end_date": plan.end_date,
        "data_file": plan.bars.source,
        "data_checksum": plan.header["data_checksum"],
        "data": plan.data,
        "symbol_settings": plan.header["symbol_settings"],
        "warnings": plan.warnings,
        "strict_data": bool(opts.strict_data),
        "code_version": plan.header["code_version"],
        "host": socket.gethostname(),
        "workers": workers,
        "engine": opts.engine,
        "risk": plan.settings.risk,
        "account_size": plan.settings.account_size,
        "daily_loss_limit_pct": plan.settings.daily_loss_limit_pct,
        "max_loss_limit_pct": plan.settings.max_loss_limit_pct,
        "save_trades": save_trades_setting(opts.save_trades),
        "news_file": str(opts.news_file) if opts.news_file else None,
        "server_tz": opts.server_tz,
        "drop_invalid": bool(opts.drop_invalid),
        "groups_file": str(plan.groups_file),
        "start_time": started,
        "end_time": _now(),
    }


def _kept_metadata(
    plan: _Plan, final: list[dict[str, Any]], metadata: dict[str, Any]
) -> dict[str, Any]:
    """A re-run that had nothing left to run keeps the existing results' metadata
    (its start/end time, workers) when their groups are these, so the files stay
    byte-identical; otherwise ``metadata``."""
    try:
        previous = read_results(plan.out_dir, plan.symbol, checkpoint_fallback=False, combos=False)
    except ResultsError:
        return metadata

    def key(groups: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            tuple(g.get(k) for k in ("group_id", "status", "elapsed_s", "best")) for g in groups
        ]

    return previous["metadata"] if key(previous["groups"]) == key(final) else metadata


def _prepare_workers(plan: _Plan, todo: list[str]) -> None:
    """Work every worker would repeat, done once here before forking: compile the
    sweep kernels and build its shared tables, then freeze the heap so that the
    workers' garbage collector does not touch (and copy) the inherited pages. The heap
    that loading the data freed goes back to the system first (glibc ``malloc_trim``),
    or every worker would start with it in its resident set."""
    if plan.options.engine == "fast" and todo:
        from backtest.engines.sweep import prepare_sweep, warm_up

        seconds = warm_up()
        prepare_sweep(plan.bars, plan.scan.table_combos, plan.settings)
        log.info(f"sweep kernels ready in {seconds:.1f}s; shared tables built")
    gc.collect()
    _trim_heap()
    gc.freeze()


def _trim_heap() -> None:
    """Give freed heap pages back to the system (glibc only; a no-op elsewhere)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _cluster_executor(plan: _Plan) -> DaskExecutor:
    """The Dask executor of ``--scheduler``/``--scheduler-file``, connected. Its workers
    return each group's compact trades; they are written here, to ``OUT/daily/``, before
    the group's checkpoint line (as a local worker writes them)."""
    from backtest.runner.dask_executor import DaskExecutor, RunJob, fault_dir

    if plan.workers != "auto":
        log.info(
            f"--workers {plan.workers}: not used on a cluster (its worker processes are "
            "hosts.yaml's cluster.processes)"
        )
    daily = plan.out_dir / DAILY_DIR if plan.options.save_daily else None
    job = RunJob(
        plan.settings,
        plan.options.engine,
        _trades_to_keep(plan.options.save_trades),
        daily is not None,
        plan.header["code_version"],
        os.environ.get(FAULT_ENV, ""),
        fault_dir(plan.out_dir),
        plan.cfg,
    )

    def finish(record: dict[str, Any], compact: CompactTrades | None, tables: list[Any]):
        if daily is not None:
            assert compact is not None, "compact trades come back with --save-daily"
            write_daily(daily, record["group_id"], compact, plan.bars)
        return finish_remote(plan.out_dir, record, tables)

    return DaskExecutor(plan.cluster, plan.bars, job, finish)


def _execute(plan: _Plan, checkpoint: Checkpoint) -> RunReport:
    started = _now()
    done = checkpoint.done()
    order = [
        gid for gid in checkpoint.order(list(plan.groups)) if gid in plan.groups or gid in done
    ]
    records: dict[str, dict[str, Any]] = {gid: done[gid] for gid in order if gid in done}
    todo = [gid for gid in order if gid not in records]
    extra = [gid for gid in records if gid not in plan.groups]
    if records:
        log.info(
            f"resuming from {checkpoint.path}: {len(records)} of {len(order)} groups already "
            f"finished, not run again"
        )
    if extra:
        log.info(
            f"{len(extra)} finished groups of the checkpoint are not in {plan.groups_file}; "
            "they are kept in the results"
        )
    cluster = _cluster_executor(plan) if plan.cluster is not None and todo else None
    workers, why = (
        (cluster.size, cluster.describe())
        if cluster is not None
        else resolve_workers(plan.workers, max(1, len(todo)), len(plan.bars))
    )
    days = f"{day_date(plan.bars.day[0])}..{day_date(plan.bars.day[-1])}"
    log.info(
        f"{plan.symbol} {plan.period} {plan.start_date}..{plan.end_date}: {len(plan.bars)} bars "
        f"({days}) from {plan.bars.source}; {len(todo)} groups to run, "
        f"engine {plan.options.engine}"
    )
    log.info(why)
    if not todo:
        log.info(
            f"nothing left to run: all {len(order)} groups finished before; "
            "the result files are written again from the checkpoint"
        )

    progress = Progress(len(order), len(records), len(todo))

    def on_done(record: dict[str, Any], best_trades: list[dict[str, Any]]) -> None:
        checkpoint.add(record)
        records[record["group_id"]] = record
        progress.finished(record)

    def group_work(group_id: str, group: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        record = run_group(
            plan.bars,
            group_id,
            iter_group(group, plan.cfg),
            plan.settings,
            plan.options.engine,
            _trades_to_keep(plan.options.save_trades),
            plan.out_dir,
            plan.out_dir / DAILY_DIR if plan.options.save_daily else None,
        )
        return record, []  # charts are drawn at the end, for the best groups only

    executor: Executor
    if cluster is not None:
        executor = cluster
    else:
        _prepare_workers(plan, todo)
        executor = Supervisor(workers, WorkerJob(group_work, plan.out_dir))
    with Signals(on_second=executor.kill_all) as signals:
        unfinished = executor.run(
            [(gid, plan.groups[gid]) for gid in todo], on_done, lambda: signals.received is not None
        )
        interrupted = signals.received
        progress.close()
        if interrupted is not None:
            log.warning(
                f"interrupted ({signal.Signals(interrupted).name}): {len(unfinished)} "
                f"groups unfinished; writing the {len(records)} finished"
            )
            for gid in unfinished:
                records[gid] = failed_record(gid, "interrupted", 0.0)
        final = [records[gid] for gid in order if gid in records]
        failed = [r for r in final if r["status"] != "ok"]
        failed_raw = [{**plan.groups[r["group_id"]].raw, "error": r["error"]} for r in failed]
        metadata = _metadata(plan, workers, started)
        if not todo:
            metadata = _kept_metadata(plan, final, metadata)
        files = write_results(plan.out_dir, plan.symbol, metadata, final, failed_raw)
        final = _fold_parts(checkpoint, files["parquet"].name, final)
    if todo and interrupted is None:
        _draw_charts(plan, final)
    exit_code = 128 + interrupted if interrupted is not None else (1 if failed else 0)
    stopped = sum(1 for r in failed if r.get("error") == "interrupted")
    log.info(
        f"done: {len(final) - len(failed)} of {len(final)} groups ok, "
        f"{len(failed) - stopped} failed, {stopped} interrupted; results in {plan.out_dir}"
    )
    notice = sample_notice(plan.data)
    if notice:
        log.warning(notice)
    return RunReport(
        plan.out_dir,
        plan.symbol,
        files,
        len(final),
        len(final) - len(failed),
        [r["group_id"] for r in failed],
        len(done),
        exit_code,
        signal.Signals(interrupted).name if interrupted is not None else None,
        summary_rows(final),
        plan.data,
    )


def _fold_parts(
    checkpoint: Checkpoint, table_name: str, final: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Once the results are committed their table holds every ok group's rows: the
    checkpoint points there and the part files go (no file holds the same rows twice);
    the records as they now are."""
    ok = [r["group_id"] for r in final if r["status"] == "ok"]
    for part in checkpoint.fold(table_name, ok):
        part.unlink(missing_ok=True)
    return [checkpoint.finished.get(r["group_id"], r) if r["status"] == "ok" else r for r in final]


def sample_notice(data: dict[str, Any]) -> str | None:
    """The closing line of a run on built-in sample data (``metadata.data``), else None."""
    if data.get("source") != "sample":
        return None
    return (
        f"SAMPLE DATA: these results come from built-in sample data ({data.get('path')}), a "
        "random walk with no edge, not market data; they say nothing about real trading "
        "(give --data-file, or set the period's data_file in the config)"
    )


def run_backtest(options: RunOptions | dict[str, Any]) -> RunReport:
    """Run every group of the groups file; write results, checkpoint and run.log into OUT.

    Raises a library error (RunError, GroupsError, ParamError, ConfigError,
    DataError, NewsError, ResumeError) before anything runs or is written when
    the input is bad. A run with failed groups returns exit_code 1, an
    interrupted one 128 + the signal number. Any other error raises
    :class:`RunCrashed` (exit code 3) after logging its traceback.
    """
    opts = _as_options(options)
    with RunLogging() as logging_setup, _crash_edge(logging_setup):
        plan = prepare(opts)
        lock = _lock_output(plan.out_dir)
        logging_setup.claimed = plan.out_dir / RUN_LOG
        try:
            checkpoint = Checkpoint.open(
                plan.out_dir, plan.header, fresh=opts.fresh, log=log.warning
            )
            checkpoint.check_parts(log.warning)
            for gid, digest in plan.scan.digests.items():
                checkpoint.verify_params(gid, digest)
            logging_setup.to_file(plan.out_dir / RUN_LOG)
            return _execute(plan, checkpoint)
        finally:
            os.close(lock)


@contextmanager
def _crash_edge(logging_setup: RunLogging) -> Iterator[None]:
    """The edge of a run: bad input passes as it is (exit code 2); any other error is
    logged with its traceback (:meth:`RunLogging.crash`) and raised again as
    :class:`RunCrashed`, one line saying what happened and where the traceback is."""
    try:
        yield
    except input_errors():
        raise
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        where = logging_setup.crash(exc, f"the run crashed: {reason}")
        hint = ""
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            hint = " (disk full or over a file size limit: free space first)"
        saved = f"traceback in {where}" if where else "the traceback could not be written"
        resume = (
            "; finished groups are kept in the checkpoint: the same command resumes"
            if logging_setup.claimed is not None
            else ""
        )
        raise RunCrashed(f"the run crashed: {reason}{hint}; {saved}{resume}") from exc


def _lock_output(out_dir: Path) -> int:
    """Take ``OUT/.lock`` (flock, released when the runner and its workers are gone):
    a second run on the same directory would compute every group twice and race
    on the checkpoint, so it is refused."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunError(
            f"--output-dir {out_dir}: another run is using it ({LOCK_FILE} is "
            "locked); wait for it to finish or choose another directory"
        ) from None
    return fd


# --- command line ----------------------------------------------------------


def input_errors() -> tuple[type[BaseException], ...]:
    """The library errors that mean bad input (exit code 2, nothing run)."""
    from backtest.data.loaders import DataError
    from backtest.data.news import NewsError
    from backtest.runner.dask_executor import ClusterError
    from backtest.runner.groups import GroupsError

    return (
        RunError,
        ConfigError,
        ParamError,
        ResumeError,
        GroupsError,
        DataError,
        NewsError,
        ClusterError,
    )


def run_edge(
    options: RunOptions,
    after_run: Callable[[RunReport], Any] | None = None,
    on_report: Callable[[RunReport], Any] | None = None,
) -> tuple[int, RunReport | None]:
    """Run, then ``on_report`` (what a command prints of a finished run), then
    ``after_run`` (the HTML report, which may import the analysis layer) for a run
    that was not interrupted, unless ``--no-report``: the one edge of both commands
    (``run_parallel_backtest`` and ``invoke backtest``). Bad input is one line on
    stderr and exit code 2 (nothing run); a crash, here or in ``after_run``, is one
    line and exit code 3. Returns the exit code and the run's report (None when the
    run did not happen)."""
    try:
        report = run_backtest(options)
    except input_errors() as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2, None
    except KeyboardInterrupt:  # Ctrl-C before the workers started (loading, compiling)
        print("interrupted (SIGINT) before any group ran; re-run the same command", file=sys.stderr)
        return 128 + signal.SIGINT, None
    except RunCrashed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CRASHED, None
    if on_report is not None:
        on_report(report)
    if after_run is not None and not options.no_report and report.interrupted is None:
        after = RunLogging()
        after.claimed = report.output_dir / RUN_LOG  # the run is over: its log gets it
        try:
            with _crash_edge(after):
                after_run(report)
        except RunCrashed as exc:
            print(f"error: after the run (its results are written): {exc}", file=sys.stderr)
            return CRASHED, report
    return report.exit_code, report


def main(argv: list[str] | None = None, after_run: Callable[[RunReport], Any] | None = None) -> int:
    """Parse, then :func:`run_edge`; a run on sample data says so last."""
    args = build_parser().parse_args(argv)
    options = RunOptions(**{f.name: getattr(args, f.name) for f in fields(RunOptions)})
    code, report = run_edge(options, after_run)
    if report is not None and after_run is not None and code != CRASHED:
        notice = sample_notice(report.data)
        if notice and not options.no_report and report.interrupted is None:
            print(notice)  # the run's log ended with it; after the report's line, say it again
    return code


def run_and_exit(entry: Callable[[], int] | None = None) -> NoReturn:
    """Run :func:`main` and leave without the interpreter's teardown.

    pyarrow's Parquet thread pool can abort the process at teardown ("terminate
    called without an active exception", apache/arrow#34314), which would turn exit
    code 0/1/2 into SIGABRT. Every file is closed by now. This is the process's edge:
    an error that escaped :func:`main` (outside any run) is still one line on stderr,
    its traceback in a temporary file, and exit code 3, never Python's 1.
    """
    try:
        with _crash_edge(RunLogging()):
            code = (entry or main)()
    except RunCrashed as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = CRASHED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os._exit(code)


if __name__ == "__main__":
    run_and_exit()
