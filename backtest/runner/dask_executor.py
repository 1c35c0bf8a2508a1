"""The groups of a run as tasks on a Dask distributed cluster (``--scheduler`` /
``--scheduler-file``), instead of the local pool of forked workers.

The run loop stays in :mod:`backtest.runner.execute`: this executor submits one task per
group, and calls ``on_done`` in this process as each group finishes, so checkpoint,
outputs, resume and exit codes are the local runner's. The scheduler hands a group to
whichever worker is free (a slow or busy host simply takes fewer); a group whose
worker dies is handed out once more (the scheduler's ``allowed-failures``, which
``fab cluster-up`` sets to 1, and ``retries=1`` for other worker-side errors), then it
is recorded failed like a twice-killed local worker.

The validated bars are shipped once, as a worker plugin the scheduler hands to every
worker, present or joining later (:mod:`backtest.runner.dask_worker`): each worker
process keeps one copy, keyed by the data's checksum and slice (:func:`bars_key`), so the
sweep's per-data tables are built once per worker, and the group tasks carry no data
(the scheduler places them by load alone). The numba kernels are compiled once per
worker process, before its first group. Workers write nothing: each result comes back
with the group's rows and compact trades; the client writes the compact trades to
``OUT/daily/`` (``finish``) and hands the rows to ``on_done``, which writes the part
before the checkpoint line, as for a local worker's rows.

Only TLS clusters are accepted: the client presents ``client.pem`` (signed by the
cluster's CA, ``ca.pem``) from ``--tls-dir``; the cluster refuses anyone else.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.core.config import REPO_ROOT
from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.runner.executor import OnDone, Tasks
from backtest.runner.pool import failed_record
from backtest.strategy.daily import CompactTrades

if TYPE_CHECKING:
    from distributed import Client, Future

TLS_FILES = ("ca.pem", "client.pem", "client-key.pem")
DEFAULT_TLS_DIR = REPO_ROOT / ".cluster"  # where fab cluster-up writes them for hosts.yaml
CONNECT_TIMEOUT_S = 20
WORKERS_TIMEOUT_S = 60  # a cluster just started may still be adding its workers
POLL_S = 0.5  # how often the loop looks at Ctrl-C while no group finishes


class ClusterError(ValueError):
    """A cluster option that cannot be used, or a cluster that cannot run this code
    (the message names the option; the runner reports it as bad input, exit 2)."""


@dataclass(frozen=True)
class ClusterTarget:
    """Where the scheduler is and the client's certificates (validated options)."""

    address: str
    tls_dir: Path
    option: str  # "--scheduler" or "--scheduler-file F", for messages

    def security(self) -> Any:
        """Mutual TLS with the cluster's CA and the client certificate, encryption required."""
        from distributed import Security

        ca, cert, key = (str(self.tls_dir / name) for name in TLS_FILES)
        return Security(
            require_encryption=True, tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key
        )


def _tls_address(value: Any, where: str) -> str:
    text = str(value or "")
    host, _, port = text.removeprefix("tls://").rpartition(":")
    if not text.startswith("tls://") or not host or not port.isdigit():
        raise ClusterError(
            f"{where}: {value!r} is not tls://HOST:PORT (the cluster accepts TLS connections only)"
        )
    return text


def cluster_target(
    scheduler: str | None, scheduler_file: str | Path | None, tls_dir: str | Path | None
) -> ClusterTarget | None:
    """The validated ``--scheduler`` / ``--scheduler-file`` / ``--tls-dir``; None for the
    local pool. ``--tls-dir`` defaults to the scheduler file's folder (fab cluster-up
    writes both there), else ``.cluster`` at the repository root."""
    if scheduler is None and scheduler_file is None:
        if tls_dir is not None:
            raise ClusterError("--tls-dir: only with --scheduler or --scheduler-file")
        return None
    if scheduler is not None and scheduler_file is not None:
        raise ClusterError("--scheduler and --scheduler-file: give one of them")
    if scheduler_file is not None:
        path = Path(scheduler_file)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ClusterError(
                f"--scheduler-file {path}: cannot read it ({exc}); fab cluster-up writes it"
            ) from None
        raw = doc.get("address") if isinstance(doc, dict) else None
        address = _tls_address(raw, f"--scheduler-file {path}: field 'address'")
        option, default_dir = f"--scheduler-file {path}", path.parent
    else:
        address = _tls_address(scheduler, "--scheduler")
        option, default_dir = f"--scheduler {scheduler}", DEFAULT_TLS_DIR
    folder = Path(tls_dir) if tls_dir is not None else default_dir
    missing = [name for name in TLS_FILES if not (folder / name).is_file()]
    if missing:
        raise ClusterError(
            f"--tls-dir {folder}: {', '.join(missing)} missing (fab cluster-up writes ca.pem, "
            "client.pem and client-key.pem there; the cluster accepts only its certificates)"
        )
    return ClusterTarget(address, folder, option)


# --- the client side ----------------------------------------------------------------


def bars_key(bars: Bars) -> str:
    """The cluster's name for a data set: the file's checksum and the slice taken of it
    (the same file over other dates, or with other rows dropped, is other data)."""
    digest = hashlib.sha256(bars.checksum.encode())
    for array in (bars.time_ns, bars.open, bars.high, bars.low, bars.close):
        digest.update(array.tobytes())
    return f"ibsweep-bars-{bars.checksum[:12]}-{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class RunJob:
    """The run's settings for its group tasks (see :class:`dask_worker.GroupJob`)."""

    settings: RunSettings
    engine: str
    save_trades: bool | int
    daily: bool
    code_version: str
    faults: str
    fault_dir: str
    cfg: dict[str, Any]  # the run's config: a worker expands each group itself


# A finished group at the client: (record, compact trades or None) -> the record, its daily
# file written (its rows go to ``on_done``, which writes its part, as a local worker's).
Finish = Callable[[dict[str, Any], CompactTrades | None], dict[str, Any]]


class DaskExecutor:
    """The groups of one run on a Dask cluster; the local pool's interface
    (:class:`backtest.runner.executor.Executor`)."""

    def __init__(
        self,
        target: ClusterTarget,
        bars: Bars,
        job: RunJob,
        finish: Finish,
    ) -> None:
        """Connect (raises :class:`ClusterError` when the scheduler cannot be reached,
        refuses the certificate, has no workers, or runs other code)."""
        self.target, self.bars, self.job, self.finish = target, bars, job, finish
        self.client = self._connect()
        try:
            self.size = self._check_workers()
        except BaseException:
            self.client.close()
            raise

    def _connect(self) -> Client:
        from distributed import Client

        try:
            return Client(
                self.target.address,
                security=self.target.security(),
                timeout=CONNECT_TIMEOUT_S,
                set_as_default=False,
            )
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise ClusterError(
                f"{self.target.option}: cannot connect to the scheduler {self.target.address} "
                f"({reason}); fix: fab cluster-status (is the cluster up?), and --tls-dir "
                f"{self.target.tls_dir} must hold this cluster's certificates"
            ) from None

    def _check_workers(self) -> int:
        """The cluster's worker threads, once it has any; the scheduler and every worker
        must run this code (they unpickle its tasks and compute its results)."""
        from backtest.runner import dask_worker

        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise ClusterError(
                f"{self.target.option}: the scheduler has no workers after "
                f"{WORKERS_TIMEOUT_S}s; fix: fab cluster-status, fab cluster-up"
            ) from None
        try:
            versions = self.client.run(dask_worker.process_code_version)
            versions["the scheduler"] = self.client.run_on_scheduler(
                dask_worker.process_code_version
            )
        except Exception as exc:  # e.g. a cluster whose code lacks dask_worker
            raise ClusterError(
                f"{self.target.option}: the cluster cannot run this code ({type(exc).__name__}: "
                f"{exc}); fix: fab cluster-down, then fab cluster-up (it pushes this code)"
            ) from None
        other = {where: v for where, v in versions.items() if v != self.job.code_version}
        if other:
            where, version = next(iter(other.items()))
            raise ClusterError(
                f"{self.target.option}: {len(other)} of {len(versions)} cluster processes run "
                f"other code ({where}: {version}, this client: {self.job.code_version}); fix: "
                "fab cluster-down, then fab cluster-up (it pushes this code)"
            )
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return sum(int(w.get("nthreads", 1)) for w in info.values())

    def describe(self) -> str:
        """The log line saying where the groups run."""
        from backtest.runner import dask_worker

        info = self.client.scheduler_info(n_workers=-1)["workers"]
        hosts = {str(w.get("host")) for w in info.values()}
        retries = self.client.run_on_scheduler(dask_worker.allowed_failures)
        return (
            f"dask cluster {self.target.address}: {len(info)} workers, {self.size} threads "
            f"on {len(hosts)} hosts; a group whose worker dies is run again {retries} time(s) "
            "(the scheduler's allowed-failures), then failed"
        )

    def run(self, tasks: Tasks, on_done: OnDone, stopping: Callable[[], bool]) -> list[str]:
        """Run ``tasks`` on the cluster; ``on_done`` per finished group, here, as each
        finishes; the ids left unfinished (stopped). Closes the connection at the end."""
        try:
            return self._run(tasks, on_done, stopping) if tasks else []
        finally:
            self.client.close()

    def _run(self, tasks: Tasks, on_done: OnDone, stopping: Callable[[], bool]) -> list[str]:
        from backtest.runner import dask_worker

        token = uuid.uuid4().hex[:8]
        key = bars_key(self.bars)
        plugin = dask_worker.ShippedBars(key, f"{key}-{token}", self.bars)
        self.client.register_plugin(plugin)
        job = dask_worker.GroupJob(key, **vars(self.job))
        finished = threading.Event()
        pending: dict[Future, tuple[str, float]] = {}
        try:
            for index, (group_id, group) in enumerate(tasks):
                future = self.client.submit(
                    dask_worker.run_on_worker,
                    job,
                    group_id,
                    group,
                    key=(f"ibsweep-group-{token}", index),
                    retries=1,
                    pure=False,
                    priority=len(tasks) - index,  # the file's order, first group first
                )
                future.add_done_callback(lambda _f: finished.set())
                pending[future] = (group_id, time.perf_counter())
            while pending and not stopping():
                finished.wait(POLL_S)
                finished.clear()
                self._harvest(pending, on_done)
        finally:
            self._harvest(pending, on_done)  # results that arrived while stopping are kept
            unfinished = [group_id for group_id, _ in pending.values()]
            if pending:
                self.client.cancel(list(pending), force=True)
            self.client.unregister_worker_plugin(plugin.name)
        return unfinished

    def _harvest(self, pending: dict[Future, tuple[str, float]], on_done: OnDone) -> None:
        for future in [f for f in pending if f.done()]:
            group_id, submitted = pending.pop(future)
            record, compact, tables = self._outcome(future, group_id, submitted)
            future.release()
            if record["status"] == "ok":
                record = self.finish(record, compact)
            on_done(record, tables)

    @staticmethod
    def _outcome(
        future: Future, group_id: str, submitted: float
    ) -> tuple[dict[str, Any], CompactTrades | None, list[Any]]:
        """The task's (record, compact trades, rows); a lost or cancelled task is a failed
        record."""
        from distributed import KilledWorker

        if future.status == "finished":
            return future.result()
        elapsed = time.perf_counter() - submitted
        if future.status == "cancelled":
            why = "cancelled (the scheduler dropped it)"
            return failed_record(group_id, why, elapsed), None, []
        exc = future.exception()
        if isinstance(exc, KilledWorker):
            why = f"worker died ({exc.allowed_failures + 1} times; dask KilledWorker)"
            return failed_record(group_id, why, elapsed), None, []
        return failed_record(group_id, f"{type(exc).__name__}: {exc}", elapsed), None, []

    def kill_all(self) -> None:
        """A second Ctrl-C: nothing to kill here. The process exits at once; the scheduler
        forgets a gone client's tasks (a group already running finishes on its worker,
        unrecorded)."""


def fault_dir(out_dir: Path) -> str:
    """The worker-local folder of a run's kill-once fault markers (test hook): never the
    client's ``OUT``, which a remote worker does not have."""
    tag = hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:12]
    return str(Path(tempfile.gettempdir()) / "ibsweep-faults" / tag)
