"""A batch of combinations through the fast kernel, on the local pool (the Dask cluster:
:mod:`.cluster`).

The parent builds the sweep's per-data tables and compiles the kernels once, then forks
its workers (the bars and tables shared copy-on-write, as the runner's pool does). A
batch is ordered by entry rule (the kernel shares an entry rule's searches among its
combinations, :mod:`backtest.engines.sweep`) and cut into one contiguous slice per
worker; each worker scores its slice with :func:`backtest.engines.run.score_batch` and
returns the metric columns and the compact trades; the parent puts them back in the
batch's order. Workers ignore SIGINT: Ctrl-C is the parent's to handle.

:meth:`Evaluator.submit` starts a batch and returns at once (:class:`Evaluation`): the
search samples its next batch while the workers evaluate this one.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import time
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.strategy.daily import CompactTrades, concat_compact, select_compact
from backtest.strategy.params import PARAM_NAMES

_STATE: dict[str, Any] = {}  # the bars and settings, set before the workers fork


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# A slice's metric columns, its compact trades (when kept) and, when the slice's place in
# its group is given, its rows: the part file's table and the encoded parameters
Part = tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None, tuple[Any, bytes] | None]
# (group id, the slice's first row in it), or None: the parent makes the rows
Place = tuple[str, int] | None


def score_slice(
    bars: Bars,
    settings: RunSettings,
    combos: list[dict[str, Any]],
    compact: bool,
    place: Place = None,
) -> Part:
    """A slice's metric columns, and its compact trades when they are kept (else None:
    they are most of what a worker would send back); with ``place`` also its rows of the
    part file and the parameters as the group's digest hashes them
    (:meth:`~backtest.runner.store.ParamsDigest.encoded`), made here, in the worker, as a
    sweep's worker makes its group's."""
    from backtest.engines.run import score_batch
    from backtest.runner.store import ParamsDigest, batch_table

    scored = score_batch(bars, combos, settings, "fast", excursions=compact)
    rows = None
    if place is not None:
        table = batch_table(place[0], place[1], combos, scored.metrics)
        rows = (table, ParamsDigest.encoded(combos))
    return scored.metrics, scored.compact.arrays() if compact else None, rows


def _score(job: tuple[list[dict[str, Any]], Place]) -> Part:
    combos, place = job
    return score_slice(_STATE["bars"], _STATE["settings"], combos, _STATE["compact"], place)


def rule_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """The entry rule of a combination (everything but its stop and target), the order
    that lets the kernel share searches."""
    return tuple(
        tuple(params[n]) if n == "weekdays" else params[n]
        for n in PARAM_NAMES
        if n not in ("sl_mult", "tp_mult")
    )


class Evaluator:
    """The local pool of ``workers`` processes over one data set."""

    def __init__(
        self,
        bars: Bars,
        settings: RunSettings,
        workers: int,
        compact: bool = True,
        tables: list[dict[str, Any]] | None = None,
    ) -> None:
        from backtest.engines.sweep import prepare_sweep, warm_up

        _STATE.update(bars=bars, settings=settings, compact=compact)
        self.bars, self.workers = bars, max(1, workers)
        self.compile_s = warm_up()
        # the per-data tables, and those of ``tables`` (one combination per distinct time
        # window, SearchSpace.table_points), built and stacked once before forking, as the
        # runner does: else every worker builds them as it meets them
        prepare_sweep(bars, tables or [], settings)
        self.pool: Any = None
        if self.workers > 1:
            gc.collect()
            gc.freeze()  # the workers' collector leaves the inherited objects (and pages) alone
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(self.workers, initializer=_ignore_sigint)
            gc.unfreeze()
        self.seconds = 0.0  # spent evaluating (wall), for the rate
        self.busy_until = 0.0  # when the last evaluation ended
        self.evaluated = 0

    def submit(
        self, combos: list[dict[str, Any]], units: list[int] | None = None, group: str = ""
    ) -> Evaluation:
        """Start evaluating ``combos`` (on the pool; at once without one); ``units``: see
        :func:`slices_by_rule` (the workers then also make the rows of ``group``)."""
        order, slices = slices_by_rule(combos, self.workers, units)
        jobs = list(zip(slices, places(slices, group if units is not None else None)))
        evaluation = Evaluation(self, order)
        if self.pool is None or len(slices) == 1:
            parts = [_score(job) for job in jobs]
            evaluation.finished()
            evaluation.ready(lambda: parts)
        else:
            job = self.pool.map_async(_score, jobs, callback=evaluation.finished)
            evaluation.ready(job.get)
        return evaluation

    def evaluate(
        self, combos: list[dict[str, Any]]
    ) -> tuple[dict[str, np.ndarray], CompactTrades | None]:
        """Every metric column and (when kept) the compact trades of ``combos``, in their
        order."""
        return self.submit(combos).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def slices_by_rule(
    combos: list[dict[str, Any]], workers: int, units: list[int] | None = None
) -> tuple[list[int], list[list[dict[str, Any]]]]:
    """The batch ordered by entry rule, and that order cut into one contiguous slice per
    worker (at most): ``(order, slices)``. ``units``: the batch is already grouped, runs
    of these sizes each of one entry rule (``--trial entry-rule``: a trial's sub-grid), so
    it keeps its order and is cut only between units (no entry rule split)."""
    parts = min(max(1, workers), len(combos))
    if units is None:
        order = sorted(range(len(combos)), key=lambda i: rule_key(combos[i]))
        ordered = [combos[i] for i in order]
        cuts = np.linspace(0, len(ordered), parts + 1).astype(int)
    else:
        order, ordered = list(range(len(combos))), combos
        bounds = np.concatenate(([0], np.cumsum(units, dtype=np.int64)))
        wanted = np.linspace(0, len(combos), parts + 1)
        cuts = bounds[np.abs(bounds[None, :] - wanted[:, None]).argmin(axis=1)]
    return order, [ordered[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def places(slices: list[list[dict[str, Any]]], group: str | None) -> list[Place]:
    """Each slice's place in ``group`` (slices in the batch's order), or None each."""
    starts = np.concatenate(([0], np.cumsum([len(s) for s in slices]))).tolist()
    return [None if group is None else (group, int(a)) for a in starts[: len(slices)]]


class Evaluation:
    """A batch being evaluated (by :class:`Evaluator` or the cluster's): its metric
    columns and compact trades, in the batch's order, once ready."""

    def __init__(self, evaluator: Any, order: list[int]) -> None:
        self.evaluator, self.order = evaluator, order
        self.started = time.perf_counter()
        self.done_at: float | None = None
        self._get: Any = None
        # the batch's part tables and parameter digest, when the workers made them
        self.rows: tuple[list[Any], str] | None = None

    def ready(self, get: Any) -> None:
        """``get()`` returns the slices' parts (blocking until they are there)."""
        self._get = get

    def finished(self, _parts: Any = None) -> None:
        """The workers are done (their callback): the evaluation's wall time ends here."""
        self.done_at = time.perf_counter()

    def result(self) -> tuple[dict[str, np.ndarray], CompactTrades | None]:
        parts = self._get()
        done = self.done_at or time.perf_counter()
        metrics = {k: np.concatenate([m[k] for m, _, _ in parts]) for k in parts[0][0]}
        back = np.argsort(self.order)  # sorted position of each combination
        metrics = {k: v[back] for k, v in metrics.items()}
        compact = None
        if parts[0][1] is not None:
            whole = concat_compact([CompactTrades(**c) for _, c, _ in parts if c is not None])
            compact = select_compact(whole, back.tolist())
        if all(rows is not None for _, _, rows in parts):  # made in the batch's order
            from backtest.runner.store import ParamsDigest

            digest = ParamsDigest()
            for _, _, rows in parts:
                digest.update_bytes(rows[1])
            self.rows = ([rows[0] for _, _, rows in parts], digest.hexdigest())
        # the wall time the workers were busy: batches overlap when sampled ahead (the next
        # is queued while this one runs), so each counts from the end of the one before
        begin = max(self.started, self.evaluator.busy_until)
        self.evaluator.seconds += max(0.0, done - begin)
        self.evaluator.busy_until = max(self.evaluator.busy_until, done)
        self.evaluator.evaluated += len(self.order)
        return metrics, compact
