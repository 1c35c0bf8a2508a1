"""Run a planned sweep: every group in parallel, losing nothing.

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
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.core.version import git_commit
from backtest.data.bars import Bars, day_date
from backtest.engines.run import run_combos
from backtest.runner import rundir, store
from backtest.runner.checkpoint import Checkpoint
from backtest.runner.executor import Executor
from backtest.runner.group_run import finish_remote, run_group
from backtest.runner.groups import group_digests, iter_group
from backtest.runner.options import RunOptions
from backtest.runner.outputs import (
    ResultsError,
    combos_count,
    combos_inline,
    read_results,
    results_head,
    summary_rows,
    write_results,
)
from backtest.runner.pool import (
    FAULT_ENV,
    ROWS_BACK,
    Supervisor,
    WorkerJob,
    failed_record,
    resolve_workers,
    rows_to_parent,
)
from backtest.runner.prepared import Prepared
from backtest.runner.run_log import Progress, RunLogging, Signals, log
from backtest.runner.rundir import CHARTS_DIR, LOCK_FILE, RUN_LOG
from backtest.strategy.daily import CompactTrades
from backtest.strategy.trades import trade_records

if TYPE_CHECKING:
    from backtest.runner.dask_executor import DaskExecutor

from backtest.runner.plan import (
    RunError,
    RunPlan,
    _as_options,
    input_errors,
    prepare,
    save_trades_setting,
    top_option,
)

_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


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
    # What a report after the run reads instead of the files again: the results as written
    # (``{"metadata", "groups"}``, the groups' rows in the committed table) and the bars.
    results: dict[str, Any] | None = None
    bars: Bars | None = None


# --- the run ---------------------------------------------------------------


def _trades_to_keep(save_trades: bool | str) -> bool | int:
    """``--save-trades`` for :func:`run_group`: True (all), False, or N (best N)."""
    count = top_option(save_trades, "--save-trades")
    return True if count is None else count


def _now() -> str:
    """Now, ISO 8601 in UTC (``+00:00``): hosts in other time zones compare and merge."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _draw_charts(plan: RunPlan, final: list[dict[str, Any]]) -> None:
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
                plan.out_dir / CHARTS_DIR,
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
        rows = partial(rundir.group_rows, plan.out_dir)  # column-wise, any run size
        whole = run_heatmap_charts(plan.out_dir / CHARTS_DIR, plan.symbol, ok, rows=rows)
    except Exception as exc:
        whole = []
        log.warning(f"whole-run heatmaps not written: {type(exc).__name__}: {exc}")
    log.info(
        f"charts: {drawn} of {len(ok)} groups (--charts {plan.options.charts}) and "
        f"{len(whole)} whole-run heatmaps in {time.perf_counter() - started:.1f}s "
        f"-> {plan.out_dir / CHARTS_DIR}"
    )


def _chart_combos(out_dir: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """A group's combinations for its heatmap; only the best one above the inline limit
    (a heatmap of a million cells is not drawn from Python dicts)."""
    if record["combos_count"] > store.INLINE_LIMIT:
        return [record["best_combo"]]
    return store.table_records(rundir.group_rows(out_dir, record))


def run_metadata(plan: RunPlan, workers: int, started: str) -> dict[str, Any]:
    """The metadata a run's results record: its data, costs, execution and money settings,
    code, host and times (the keys the readers check and the re-runs read)."""
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
        "git_commit": git_commit(),
        "host": socket.gethostname(),
        "workers": workers,
        "engine": opts.engine,
        "risk": plan.settings.risk,
        "account_size": plan.settings.account_size,
        "daily_loss_limit_pct": plan.settings.daily_loss_limit_pct,
        "max_loss_limit_pct": plan.settings.max_loss_limit_pct,
        "save_trades": save_trades_setting(opts.save_trades),
        "news_file": str(opts.news_file) if opts.news_file else None,
        "news_checksum": plan.header["settings"]["news_checksum"],
        "server_tz": opts.server_tz,
        "drop_invalid": bool(opts.drop_invalid),
        "ignore_clock_check": bool(opts.ignore_clock_check),
        "groups_file": str(plan.groups_file),
        "start_time": started,
        "end_time": _now(),
    }


def _kept_metadata(
    plan: RunPlan, final: list[dict[str, Any]], metadata: dict[str, Any]
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


def _prepare_workers(plan: RunPlan, todo: list[str]) -> None:
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


def _cluster_executor(plan: RunPlan) -> DaskExecutor:
    """The Dask executor of ``--scheduler``/``--scheduler-file``, connected. Its workers
    return each group's compact trades; they are written here, to ``OUT/daily/``, before
    the group's checkpoint line (as a local worker writes them)."""
    from backtest.runner.dask_executor import DaskExecutor, RunJob, fault_dir

    if plan.workers != "auto":
        log.info(
            f"--workers {plan.workers}: not used on a cluster (its worker processes are "
            "hosts.yaml's cluster.processes)"
        )
    save_daily = bool(plan.options.save_daily)
    job = RunJob(
        plan.settings,
        plan.options.engine,
        _trades_to_keep(plan.options.save_trades),
        save_daily,
        plan.header["code_version"],
        os.environ.get(FAULT_ENV, ""),
        fault_dir(plan.out_dir),
        plan.cfg,
    )

    def finish(record: dict[str, Any], compact: CompactTrades | None) -> dict[str, Any]:
        if save_daily:
            assert compact is not None, "compact trades come back with --save-daily"
            path = rundir.daily_path(plan.out_dir, record["group_id"])
            rundir.write_daily(path, compact, plan.bars.trading_days())
        return record

    return DaskExecutor(plan.cluster, plan.bars, job, finish)


def _execute(
    plan: RunPlan, checkpoint: Checkpoint, beside: Callable[[], Any] | None = None
) -> RunReport:
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
    if todo:
        log.info(why)
    else:
        log.info(
            f"nothing left to run: all {len(order)} groups finished before; "
            "the result files are written again from the checkpoint"
        )

    progress = Progress(len(order), len(records), len(todo))
    # at most this many combinations in the results (failed groups have none)
    most = sum(plan.scan.counts.get(gid, 0) for gid in todo)
    most += sum(combos_count(r) for r in records.values() if r.get("status") == "ok")
    prepared = Prepared(plan.out_dir, order, records, combos_inline(most))

    waiting = [beside] if beside is not None else []

    def on_done(record: dict[str, Any], rows: list[Any]) -> None:
        if rows:  # a worker's rows (local or Dask): its part written here, then its checkpoint
            record = finish_remote(plan.out_dir, record, rows)
        checkpoint.add(record)
        records[record["group_id"]] = record
        progress.finished(record)
        if waiting:
            threading.Thread(target=_quietly, args=(waiting.pop(),), daemon=True).start()
        # its share of the result files, while the others run
        prepared.add(record, last=len(records) == len(order))

    def group_work(group_id: str, group: Any) -> tuple[dict[str, Any], list[Any]]:
        """A worker's group: its record and, when the parent writes its part, its rows
        (charts are drawn at the end, for the best groups only)."""
        return run_group(
            plan.bars,
            group_id,
            iter_group(group, plan.cfg),
            plan.settings,
            plan.options.engine,
            _trades_to_keep(plan.options.save_trades),
            plan.out_dir,
            bool(plan.options.save_daily),
            rows_to_parent(workers, plan.scan.counts.get(group_id, ROWS_BACK + 1)),
        )

    executor: Executor
    if cluster is not None:
        executor = cluster
    else:
        _prepare_workers(plan, todo)
        executor = Supervisor(workers, WorkerJob(group_work, plan.out_dir))
    with Signals(on_second=executor.kill_all) as signals, prepared:
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
        metadata = run_metadata(plan, workers, started)
        if not todo:
            metadata = _kept_metadata(plan, final, metadata)
        files = write_results(
            plan.out_dir, plan.symbol, metadata, final, failed_raw, prepared=prepared
        )
        head = results_head(metadata, final)
        final = _fold_parts(checkpoint, files["parquet"].name, final)
    if todo and interrupted is None:
        _draw_charts(plan, final)
    exit_code = 128 + interrupted if interrupted is not None else (1 if failed else 0)
    stopped = sum(1 for r in failed if r.get("error") == "interrupted")
    log.info(
        f"done: {len(final) - len(failed)} of {len(final)} groups ok, "
        f"{len(failed) - stopped} failed, {stopped} interrupted; results in {plan.out_dir}"
    )
    if plan.warnings:  # said at the start, before a long log: said again where it is read
        log.warning(
            f"data coverage: {len(plan.warnings)} problem(s), first: {plan.warnings[0]} "
            "(all in results_full metadata.warnings; --strict-data makes them errors)"
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
        {"metadata": head, "groups": final},
        plan.bars,
    )


def _quietly(work: Callable[[], Any]) -> None:
    """``work`` for after the run, made ahead: a failure is the later step's to meet (it
    does the same work again), so it is only logged at debug level here."""
    try:
        work()
    except Exception as exc:  # the step after the run does it again and reports
        log.debug(f"made ahead, failed: {type(exc).__name__}: {exc}")


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


def run_backtest(
    options: RunOptions | dict[str, Any], beside: Callable[[], Any] | None = None
) -> RunReport:
    """Run every group of the groups file; write results, checkpoint and run.log into OUT.

    Raises a library error (RunError, GroupsError, ParamError, ConfigError,
    DataError, NewsError, ResumeError) before anything runs or is written when
    the input is bad. A run with failed groups returns exit_code 1, an
    interrupted one 128 + the signal number. Any other error raises
    :class:`RunCrashed` (exit code 3) after logging its traceback. ``beside``: work for
    after the run (the report's preparation), started in a daemon thread when the first
    group finishes: the workers are forked by then, so no thread of it is running (or
    importing) when they fork, and the parent mostly waits for them.
    """
    opts = _as_options(options)
    with RunLogging() as logging_setup, crash_edge(logging_setup):
        plan = prepare(opts)
        lock = lock_output(plan.out_dir)
        logging_setup.claimed = plan.out_dir / RUN_LOG
        try:
            checkpoint = Checkpoint.open(
                plan.out_dir, plan.header, fresh=opts.fresh, log=log.warning
            )
            checkpoint.check_parts(log.warning)
            _verify_finished(plan, checkpoint)
            logging_setup.to_file(plan.out_dir / RUN_LOG)
            return _execute(plan, checkpoint, beside)
        finally:
            os.close(lock)


def _verify_finished(plan: RunPlan, checkpoint: Checkpoint) -> None:
    """Refuse to resume when a finished group's resolved combinations changed since it ran:
    only the groups the checkpoint holds are expanded and digested (a fresh run, none)."""
    done = checkpoint.done()
    finished = [g for gid, g in plan.groups.items() if gid in done]
    if not finished:
        return
    processes = plan.workers if isinstance(plan.workers, int) else os.cpu_count() or 1
    digests = group_digests(finished, plan.cfg, str(plan.groups_file), processes)
    for gid, digest in digests.items():
        checkpoint.verify_params(gid, digest)


@contextmanager
def crash_edge(logging_setup: RunLogging) -> Iterator[None]:
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


def lock_output(out_dir: Path) -> int:
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
