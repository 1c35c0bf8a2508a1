"""``invoke optimize``: an Optuna search over the fast kernel, in batches, resumable.

The run (docs/ANALYSIS.md, "Optimize"):

1. Every input is validated before anything runs (:mod:`.setup`).
2. The study lives in its storage (default ``sqlite:///OUT/optuna.db``); this process
   samples on an in-memory copy of it (:mod:`.storage` says why) and writes each batch
   there in two transactions.
3. Batches of trials are asked, evaluated by the kernel (the local pool or the Dask
   cluster, :mod:`.evaluate`) and recorded (:mod:`.loop`); the next batch is sampled while
   the current one is evaluated when the sampler allows it (TPE and random).
4. When the study has ``--trials`` trials (or on Ctrl-C), the results are written as a
   sweep's (:func:`backtest.runner.outputs.write_results`: every evaluated trial a row of
   ``results_combos_{SYMBOL}``), with ``optimize_trials_{SYMBOL}.parquet/.csv`` (every
   trial of the study: number, outcome, values, its row), the page
   ``optimize_{SYMBOL}.html`` (:mod:`.page`) and the run's HTML report (:mod:`.results`).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backtest.runner import rundir
from backtest.runner.checkpoint import Checkpoint
from backtest.runner.execute import crash_edge, lock_output, sample_notice
from backtest.runner.plan import RunError
from backtest.runner.run_log import RunLogging, Signals, log
from backtest.runner.rundir import RUN_LOG
from backtest.search.loop import Search
from backtest.search.setup import (
    SEARCH_ERRORS,
    OptimizeOptions,
    Setup,
    open_study,
    optimize_errors,
    setup,
)
from backtest.search.space import SearchSpace
from backtest.search.storage import shown_url

__all__ = ["OptimizeOptions", "OptimizeReport", "optimize_errors", "run_optimize"]


@dataclass
class OptimizeReport:
    """What an optimize run did."""

    output_dir: Path
    symbol: str
    files: dict[str, Path]
    exit_code: int
    summary: dict[str, Any]
    interrupted: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- the run


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_optimize(opts: OptimizeOptions) -> OptimizeReport:
    """Validate, search until the study has ``--trials`` trials (or Ctrl-C), write the
    results. Bad input raises one of :func:`optimize_errors` before anything is written;
    any other error is :class:`~backtest.runner.execute.RunCrashed` (its traceback in
    run.log)."""
    with RunLogging() as logging_setup, crash_edge(logging_setup), _as_bad_input():
        s = setup(opts)
        out_dir = s.plan.out_dir
        lock = lock_output(out_dir)
        logging_setup.claimed = out_dir / RUN_LOG
        try:
            fresh = bool(s.plan.options.fresh)
            checkpoint = Checkpoint.open(out_dir, s.header, fresh=fresh, log=log.warning)
            logging_setup.to_file(out_dir / RUN_LOG)
            storage, study = open_study(s, fresh)
            return _run(s, storage, study, checkpoint)
        finally:
            os.close(lock)


@contextmanager
def _as_bad_input() -> Any:
    """This package's bad-input errors as the runner's (:class:`RunError`), so that the
    run's edge (:func:`crash_edge`) lets them through as bad input (exit code 2) rather
    than logging a crash."""
    try:
        yield
    except SEARCH_ERRORS as exc:
        raise RunError(str(exc)) from None


def _kept_records(checkpoint: Checkpoint, out_dir: Path) -> list[dict[str, Any]]:
    """The finished batches whose rows are there, in trial order; a batch whose part was
    lost is said (its trials stay in the study: they are not evaluated again)."""
    out = []
    for gid, record in sorted(checkpoint.done().items()):
        problem = rundir.part_problem(out_dir, record)
        if problem is not None:
            log.warning(f"{gid}: {problem}; its rows are lost (its trials stay in the study)")
            continue
        out.append(record)
    return out


def _run(s: Setup, storage: Any, study: Any, checkpoint: Checkpoint) -> OptimizeReport:
    from backtest.search.results import write_outputs

    started = _now()
    search = Search(s, storage, study, checkpoint)
    search.parts.mkdir(parents=True, exist_ok=True)
    for line in search.recover():
        log.info(f"resuming: {line}")
    read = search.start()
    count = search.writer.count()
    plan = s.plan
    log.info(
        f"study {s.study_name} in {shown_url(s.url)}: {count} trials ({read} read), "
        f"{s.n_trials} wanted; sampler {s.options.sampler} (seed {s.sampler['seed']}"
        f"{f' + {count} trials so far' if count else ''}), "
        f"batches of {s.batch}, objective {', '.join(s.objectives.names)}; space "
        f"{s.space.source}: {_size_text(s.space)}"
    )
    log.info(
        f"{plan.symbol} {plan.period} {plan.start_date}..{plan.end_date}: {len(plan.bars)} bars "
        f"from {plan.bars.source}"
    )
    interrupted = None
    workers = 1
    clock = time.perf_counter()
    if count < s.n_trials:
        search.evaluator = _evaluator(s)
        workers = search.evaluator.workers
        clock = time.perf_counter()
        try:
            with Signals(on_second=search.evaluator.close) as signals:
                _search(search, lambda: signals.received is not None, clock)
                interrupted = signals.received
        finally:
            search.evaluator.close()
    else:
        log.info("nothing left to search: the study has its trials; the results are written")
    seconds = time.perf_counter() - clock
    if interrupted is not None:
        log.warning(
            f"interrupted ({signal.Signals(interrupted).name}): the batches finished are kept; "
            "the same command resumes"
        )
    records = _kept_records(checkpoint, plan.out_dir)
    files, summary = write_outputs(s, search, storage, study, records, workers, started, seconds)
    folded = checkpoint.fold(files["parquet"].name, [r["group_id"] for r in records])
    for part in folded:
        part.unlink(missing_ok=True)
    exit_code = 128 + interrupted if interrupted is not None else 0
    notice = sample_notice(plan.data)
    if notice:
        log.warning(notice)
    return OptimizeReport(
        plan.out_dir,
        plan.symbol,
        files,
        exit_code,
        summary,
        signal.Signals(interrupted).name if interrupted is not None else None,
        plan.data,
    )


def _evaluator(s: Setup) -> Any:
    """The local pool, or the Dask cluster of ``--scheduler``/``--scheduler-file``."""
    from backtest.runner.pool import resolve_workers
    from backtest.search.cluster import ClusterEvaluator
    from backtest.search.evaluate import Evaluator

    plan = s.plan
    compact, tables = bool(plan.options.save_daily), s.space.table_points()
    if plan.cluster is not None:
        if plan.workers != "auto":
            log.info(f"--workers {plan.workers}: not used on a cluster (its worker threads are)")
        cluster = ClusterEvaluator(
            plan.cluster,
            plan.bars,
            plan.settings,
            s.header["code_version"],
            plan.cfg,
            compact,
            tables,
        )
        log.info(cluster.describe())
        return cluster
    workers, why = resolve_workers(plan.workers, 1 << 30, len(plan.bars))
    log.info(why)
    evaluator = Evaluator(plan.bars, plan.settings, workers, compact=compact, tables=tables)
    log.info(f"sweep kernels ready in {evaluator.compile_s:.1f}s; {workers} workers")
    return evaluator


def _search(search: Search, stopping: Any, clock: float) -> None:
    """Batches until the study has its trials (or ``stopping()``). With a sampler that
    allows it (:data:`~backtest.search.samplers.ASK_AHEAD`), the next batch is sampled,
    reserved and submitted while the current one is evaluated, then the current one is
    recorded: the sampler's time is off the workers' critical path, its model one batch
    old. Stopping, the batch under way is still recorded (never lost)."""
    s = search.s
    ahead = bool(s.sampler.get("ask_ahead"))
    pending = None
    while True:
        following = None
        if not stopping() and (pending is None or ahead):
            search.sync()
            count = search.writer.count()
            if count < s.n_trials:
                following = search.prepare(min(s.batch, s.n_trials - count))
        if pending is not None:
            _progress(search, search.complete(pending), clock)
        elif following is None:
            return
        pending = following


def _size_text(space: SearchSpace) -> str:
    size = space.size()
    blocks = f" in {len(space.blocks)} blocks" if len(space.blocks) > 1 else ""
    if size is None:
        return f"continuous{blocks}"
    return f"{size:,} grid points before constraints{blocks}"


def _progress(search: Search, done: dict[str, Any], clock: float) -> None:
    """One log line per batch: where the study is, what the batch did, the best so far."""
    s = search.s
    outcomes = done["outcomes"]
    total = done["numbers"][-1] + 1
    elapsed = time.perf_counter() - clock
    rate = search.counts["combinations"] / elapsed if elapsed > 0 else 0.0
    left = max(s.n_trials - total, 0)
    per_trial = elapsed / max(
        sum(search.counts[k] for k in ("evaluated", "duplicate", "infeasible")), 1
    )
    best = _best_text(search)
    log.info(
        f"[{total}/{s.n_trials}] {done['group_id']}: {outcomes.count('evaluated')} evaluated, "
        f"{outcomes.count('duplicate')} duplicates, {outcomes.count('infeasible')} infeasible; "
        f"{best}; {rate:,.0f} combinations/s, ETA: {left * per_trial / 60:.1f}min"
    )


def _best_text(search: Search) -> str:
    """The best trial so far of a single objective (the Pareto front's size otherwise)."""
    study = search.memory
    name = search.s.objectives.names
    try:
        if len(name) == 1:
            best = study.best_trial
            value = best.values[0]
            if not np.isfinite(value):
                return f"no qualifying {name[0]} yet"
            return f"best {name[0]} {value:.4g}"
        return f"Pareto front of {len(study.best_trials)} trials"
    except ValueError:
        return "no trial finished yet"
