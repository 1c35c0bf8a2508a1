"""The search's batches on a Dask cluster (``--scheduler`` / ``--scheduler-file``).

The runner's cluster client (:class:`backtest.runner.dask_executor.DaskExecutor`) connects
over mutual TLS and checks that the scheduler and every worker run this code; the bars go
to every worker once, as the runner's worker plugin
(:class:`backtest.runner.dask_worker.ShippedBars`). A batch is ordered by entry rule and
cut into one slice per worker thread, as on the local pool (:func:`.evaluate.slices_by_rule`),
each slice a task; a worker builds the space's shared tables before its first slice and
returns the slice's metric columns (and compact trades with ``--save-daily``). A slice
whose worker dies is handed out once more (``retries=1``, and the scheduler's
``allowed-failures``); a batch that still fails stops the run as a crash: its trials were
never recorded, so the same command resumes (they fail in the study and are sampled anew).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.search.evaluate import Evaluation, Part, Place, places, score_slice, slices_by_rule

_PREPARED: set[str] = set()  # worker side: the (bars, tables) whose tables are built here
_lock = threading.Lock()


@dataclass(frozen=True)
class SliceJob:
    """What every slice task carries besides its combinations (small)."""

    bars_key: str
    settings: RunSettings
    code_version: str
    compact: bool
    tables: tuple[Any, ...]  # SearchSpace.table_points: one combination per time window
    token: str  # this run's (its tables are built once per worker process)


def score_on_worker(job: SliceJob, combos: list[dict[str, Any]], place: Place = None) -> Part:
    """One slice of a batch, inside a Dask worker."""
    from backtest.engines.sweep import prepare_sweep
    from backtest.runner.dask_worker import shipped_bars

    bars = shipped_bars(job.bars_key, job.code_version)
    with _lock:
        if job.token not in _PREPARED:
            prepare_sweep(bars, list(job.tables), job.settings)
            _PREPARED.add(job.token)
    return score_slice(bars, job.settings, combos, job.compact, place)


class ClusterEvaluator:
    """The Dask cluster as the search's evaluator (the local pool's interface)."""

    def __init__(
        self,
        target: Any,  # backtest.runner.dask_executor.ClusterTarget
        bars: Bars,
        settings: RunSettings,
        code_version: str,
        cfg: dict[str, Any],
        compact: bool,
        tables: list[dict[str, Any]],
    ) -> None:
        from backtest.runner.dask_executor import DaskExecutor, RunJob, bars_key
        from backtest.runner.dask_worker import ShippedBars

        job = RunJob(settings, "fast", False, compact, code_version, "", "", cfg)
        self.executor = DaskExecutor(target, bars, job, lambda record, *_: record)
        self.client: Any = self.executor.client
        self.workers = self.executor.size
        self.compile_s = 0.0  # the workers compile before their first slice
        self.seconds, self.busy_until, self.evaluated = 0.0, 0.0, 0
        token = uuid.uuid4().hex[:8]
        key = bars_key(bars)
        self.plugin = ShippedBars(key, f"{key}-{token}", bars)
        self.client.register_plugin(self.plugin)
        self.job = SliceJob(key, settings, code_version, compact, tuple(tables), token)
        self.batches = 0

    def describe(self) -> str:
        """The log line saying where the batches run."""
        return self.executor.describe().replace("a group whose", "a slice whose")

    def submit(
        self, combos: list[dict[str, Any]], units: list[int] | None = None, group: str = ""
    ) -> Evaluation:
        """Start evaluating ``combos`` on the cluster, one task per worker thread
        (``units``, ``group``: :meth:`~backtest.search.evaluate.Evaluator.submit`)."""
        order, slices = slices_by_rule(combos, self.workers, units)
        where = places(slices, group if units is not None else None)
        evaluation = Evaluation(self, order)
        self.batches += 1
        left = [len(slices)]

        def one_done(_future: Any) -> None:
            left[0] -= 1
            if left[0] == 0:
                evaluation.finished()

        futures = []
        for index, part in enumerate(slices):
            future = self.client.submit(
                score_on_worker,
                self.job,
                part,
                where[index],
                key=(f"ibsweep-trials-{self.job.token}", self.batches, index),
                retries=1,
                pure=False,
            )
            future.add_done_callback(one_done)
            futures.append(future)
        evaluation.ready(lambda: self.client.gather(futures))
        return evaluation

    def evaluate(self, combos: list[dict[str, Any]]) -> Any:
        return self.submit(combos).result()

    def close(self) -> None:
        if self.client is None:
            return
        client, self.client = self.client, None
        try:
            client.unregister_worker_plugin(self.plugin.name)
        finally:
            client.close()
