"""What runs inside a Dask worker process for :mod:`backtest.runner.dask_executor`.

The run's bars reach every worker process through :class:`ShippedBars`, a worker plugin:
the scheduler keeps it and hands it to each worker that is connected or joins later
(one restarted after its process was killed, too). Its setup deserialises the bars
once per worker process into :data:`_BARS`, keyed by the data's checksum and slice; a
second run on the same data finds them there. The group tasks carry only that key, so
the scheduler places them by load alone, never by where data lies.
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from backtest.core.settings import RunSettings
from backtest.core.version import code_version
from backtest.data.bars import Bars
from backtest.runner.pool import failed_record, inject_fault
from backtest.strategy.daily import CompactTrades

_BARS: dict[str, Bars] = {}  # bars key -> the bars, once per worker process
_OWNERS: dict[str, set[str]] = {}  # bars key -> the plugins (runs) that shipped them
_lock = threading.Lock()
_warm_engines: set[str] = set()


class ShippedBars(WorkerPlugin):
    """One run's bars, for every worker of the cluster, present and future."""

    idempotent = False

    def __init__(self, key: str, name: str, bars: Bars) -> None:
        self.key, self.name = key, name
        self.payload = pickle.dumps(bars, protocol=5)

    def setup(self, worker: Any) -> None:
        with _lock:
            if self.key not in _BARS:
                bars = pickle.loads(self.payload)
                assert isinstance(bars, Bars), "the client ships a Bars"
                _BARS[self.key] = bars
            _OWNERS.setdefault(self.key, set()).add(self.name)
        self.payload = b""  # the worker keeps the plugin: not a second copy of the bars

    def teardown(self, worker: Any) -> None:
        with _lock:
            owners = _OWNERS.get(self.key, set())
            owners.discard(self.name)
            if not owners:
                _OWNERS.pop(self.key, None)
                _BARS.pop(self.key, None)


@dataclass(frozen=True)
class GroupJob:
    """What every group task needs besides its combinations (small, pickled into each)."""

    bars_key: str
    settings: RunSettings
    engine: str
    save_trades: bool | int
    daily: bool  # return the compact trades (--save-daily)
    code_version: str
    faults: str  # the client's IBSWEEP_FAULT (test hook of backtest.runner.pool)
    fault_dir: str  # worker-local folder of kill-once markers for this run
    cfg: dict[str, Any]  # the run's config (the group is expanded here)


def _warm(engine: str) -> None:
    """Compile the sweep kernels once per worker process (before its first group)."""
    with _lock:
        if engine in _warm_engines:
            return
        if engine == "fast":
            from backtest.engines.sweep import warm_up

            warm_up()
        _warm_engines.add(engine)


def run_on_worker(
    job: GroupJob, group_id: str, group: Any
) -> tuple[dict[str, Any], CompactTrades | None, list[Any]]:
    """One group (a :class:`backtest.runner.groups.Group`, expanded here batch by batch):
    its record, (with ``job.daily``) its compact trades and its rows, for the client to
    write. An error inside the group is its failed record, as in a local worker."""
    from backtest.runner.group_run import group_outcome
    from backtest.runner.groups import iter_group

    started = time.perf_counter()
    try:
        here = code_version()
        if here != job.code_version:
            raise RuntimeError(
                f"this worker runs code {here}, the client {job.code_version} "
                "(fab cluster-down, then fab cluster-up pushes the client's code)"
            )
        bars = _BARS.get(job.bars_key)
        if bars is None:
            raise RuntimeError(f"the run's bars ({job.bars_key}) never reached this worker")
        _warm(job.engine)
        inject_fault(group_id, Path(job.fault_dir), job.faults)
        outcome = group_outcome(
            bars,
            group_id,
            iter_group(group, job.cfg),
            job.settings,
            job.engine,
            job.save_trades,
            False,
            keep_compact=job.daily,
        )
    except Exception as exc:  # the group fails, the worker and the run go on
        message = f"{type(exc).__name__}: {exc}"
        return failed_record(group_id, message, time.perf_counter() - started), None, []
    return outcome.record, outcome.compact if job.daily else None, outcome.tables


def process_code_version() -> str:
    """This process's code version (the client compares every worker's and the scheduler's)."""
    return code_version()


def allowed_failures(dask_scheduler: Any) -> int:
    """How often the scheduler hands out again a task whose worker died."""
    return int(dask_scheduler.allowed_failures)


def shipped_bars(key: str, version: str, engine: str = "fast") -> Bars:
    """The bars :class:`ShippedBars` set up in this worker process under ``key``, once
    this worker runs code ``version`` and has the engine's kernels compiled: what the
    tasks of other packages (the search's batches) start from."""
    here = code_version()
    if here != version:
        raise RuntimeError(
            f"this worker runs code {here}, the client {version} "
            "(fab cluster-down, then fab cluster-up pushes the client's code)"
        )
    bars = _BARS.get(key)
    if bars is None:
        raise RuntimeError(f"the run's bars ({key}) never reached this worker")
    _warm(engine)
    return bars
