"""Forked workers that survive what multiprocessing.Pool does not: a killed worker.

``multiprocessing.Pool`` waits forever for a task whose worker was SIGKILLed (the
OOM killer does that). :class:`Supervisor` forks N workers, feeds each one group
at a time over a pipe and waits on result pipes *and* process sentinels, so a
dead worker is noticed at once: its group is retried once on a fresh worker,
then recorded failed with ``worker died (signal N)``.

Workers are forked, so the job (bars, settings, the group function) is
inherited copy-on-write and never pickled.

Fault injection for tests and drills, harmless unless set: ``IBSWEEP_FAULT`` is
a comma list of ``GROUP_ID:ACTION`` with ACTION ``raise`` (the group raises),
``kill`` (the worker SIGKILLs itself on every attempt), ``kill-once`` (on the
first attempt only; a marker file in OUT/.faults remembers it) or ``sleep=S``
(the group takes S seconds longer).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

FAULT_ENV = "IBSWEEP_FAULT"
MAX_ATTEMPTS = 2  # a group whose worker dies is retried once
_PR_SET_PDEATHSIG = 1
_PARENT_CHECK_S = 1.0  # how often an idle worker checks that its runner lives
# Rough resident memory of one worker: the interpreter with numpy/numba/pandas,
# plus per-bar working arrays of the sweep (the bars themselves are shared).
_WORKER_BASE_BYTES = 350 * 2**20
_WORKER_BYTES_PER_BAR = 160
# A group of at most this many rows goes back to the runner's process whole, when
# rows_to_parent allows (about 360 bytes a row held: 36 MB)
ROWS_BACK = 100_000

log = logging.getLogger("backtest.run")

GroupOutcome = tuple[dict[str, Any], list[Any]]  # (record, its rows for the parent, or [])


def failed_record(group_id: str, error: str, elapsed_s: float) -> dict[str, Any]:
    """The record of a group that did not finish (``error`` says why)."""
    return {
        "group_id": group_id,
        "status": "failed",
        "error": error,
        "elapsed_s": round(elapsed_s, 3),
        "best": None,
    }


def _faults(spec: str | None = None) -> dict[str, str]:
    out = {}
    for item in (os.environ.get(FAULT_ENV, "") if spec is None else spec).split(","):
        if ":" in item:
            gid, action = item.rsplit(":", 1)
            out[gid.strip()] = action.strip()
    return out


def inject_fault(group_id: str, out_dir: Path, spec: str | None = None) -> None:
    """Test hook (see the module docstring): a no-op unless IBSWEEP_FAULT (or ``spec``, the
    client's value on a cluster worker) names the group."""
    action = _faults(spec).get(group_id)
    if action is None:
        return
    if action == "raise":
        raise RuntimeError(f"injected fault ({FAULT_ENV})")
    if action.startswith("sleep="):
        time.sleep(float(action.split("=", 1)[1]))
    elif action == "kill" or action == "kill-once":
        marker = out_dir / ".faults" / f"{group_id}.killed"
        if action == "kill-once" and marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class WorkerJob:
    """What every worker needs; inherited through fork, never pickled."""

    run_group: Callable[[str, Any], GroupOutcome]  # (group_id, its Group)
    out_dir: Path  # where kill-once fault markers go


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this worker when the runner dies (Linux prctl
    PR_SET_PDEATHSIG): a SIGKILLed runner must not leave workers behind, which
    would wait forever (siblings hold their pipes open) or compute on."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):
        pass  # not Linux: _worker_loop's parent check still ends the worker
    if os.getppid() != parent:
        os._exit(1)


def _next_task(conn: Connection, parent: int) -> Any:
    """The parent's next message; None when the parent has gone."""
    while not conn.poll(_PARENT_CHECK_S):
        if os.getppid() != parent:
            return None
    return conn.recv()


def _worker_loop(conn: Connection, job: WorkerJob, parent: int) -> None:
    """Run the groups the parent sends, one at a time, until it sends None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides about Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    while True:
        try:
            task = _next_task(conn, parent)
        except (EOFError, OSError):
            return
        if task is None:
            return
        group_id, group = task
        started = time.perf_counter()
        try:
            inject_fault(group_id, job.out_dir)
            record, rows = job.run_group(group_id, group)
        except Exception as exc:  # the group fails, the worker and the run go on
            message = f"{type(exc).__name__}: {exc}"
            record, rows = failed_record(group_id, message, time.perf_counter() - started), []
        conn.send((record, rows))


@dataclass
class _Slot:
    proc: Any
    conn: Connection
    group_id: str | None = None
    started: float = 0.0


class Supervisor:
    """N forked workers, one group each at a time; dead workers are replaced."""

    def __init__(self, workers: int, job: WorkerJob):
        self.size = workers
        self.job = job
        self.ctx = mp.get_context("fork")
        self.slots: list[_Slot] = []
        self.groups: dict[str, Any] = {}  # group_id -> its Group
        self.queue: deque[str] = deque()
        self.attempts: dict[str, int] = {}

    def _spawn(self) -> _Slot:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=_worker_loop, args=(child_end, self.job, os.getpid()), daemon=True
        )
        proc.start()
        child_end.close()
        return _Slot(proc, parent_end)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc.pid]

    def run(
        self,
        tasks: list[tuple[str, list[dict[str, Any]]]],
        on_done: Callable[[dict[str, Any], list[Any]], None],
        stopping: Callable[[], bool],
    ) -> list[str]:
        """Run ``tasks``; call ``on_done`` per finished group; the ids left unfinished."""
        self.groups = dict(tasks)
        self.queue = deque(self.groups)
        self.attempts = {}
        self.slots = [self._spawn() for _ in range(min(self.size, len(self.queue)))]
        try:
            while not stopping() and (self.queue or self._busy()):
                self._dispatch()
                busy = self._busy()
                wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=0.5)
                finished = self._harvest()
                self._dispatch()  # the workers go on while the parent records results
                for record, rows in finished:
                    on_done(record, rows)
        finally:
            for record, rows in self._harvest(replace_dead=False):
                on_done(record, rows)  # results that arrived while stopping are kept
            unfinished = [s.group_id for s in self.slots if s.group_id] + list(self.queue)
            self.shutdown(graceful=not unfinished)
        return unfinished

    def _busy(self) -> list[_Slot]:
        return [s for s in self.slots if s.group_id]

    def _dispatch(self) -> None:
        for slot in self.slots:
            if slot.group_id is None and self.queue:
                group_id = self.queue.popleft()
                self.attempts[group_id] = self.attempts.get(group_id, 0) + 1
                slot.group_id, slot.started = group_id, time.perf_counter()
                try:
                    slot.conn.send((group_id, self.groups[group_id]))
                except OSError:
                    pass  # the worker is gone: _harvest sees it dead

    def _harvest(self, replace_dead: bool = True) -> list[tuple[dict[str, Any], list]]:
        """The results waiting on the pipes; a dead worker's group is retried once, then failed."""
        finished = []
        for index, slot in enumerate(self.slots):
            if slot.group_id is None:
                continue
            result = self._receive(slot)
            if result is not None:
                slot.group_id = None
                finished.append(result)
            elif replace_dead and not slot.proc.is_alive():
                failed = self._retry_or_fail(slot)
                if failed is not None:
                    finished.append((failed, []))
                self.slots[index] = self._spawn()
        return finished

    @staticmethod
    def _receive(slot: _Slot) -> tuple[dict[str, Any], list] | None:
        try:
            if slot.conn.poll():
                return slot.conn.recv()
        except (EOFError, OSError):
            slot.proc.join(timeout=5)  # the worker died: let its exit code settle
        return None

    def _retry_or_fail(self, slot: _Slot) -> dict[str, Any] | None:
        """Requeue the dead worker's group (first death) or its failed record."""
        group_id = slot.group_id
        assert group_id is not None, "only a busy slot's worker is retried"
        slot.proc.join(timeout=5)
        slot.conn.close()
        code = slot.proc.exitcode
        why = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        if self.attempts[group_id] < MAX_ATTEMPTS:
            log.warning(f"{group_id}: worker died ({why}); retrying on a fresh worker")
            self.queue.appendleft(group_id)
            return None
        return failed_record(group_id, f"worker died ({why})", time.perf_counter() - slot.started)

    def shutdown(self, graceful: bool) -> None:
        """Stop every worker: ask them (graceful) or terminate them."""
        for slot in self.slots:
            try:
                if graceful and slot.proc.is_alive():
                    slot.conn.send(None)
                elif slot.proc.is_alive():
                    slot.proc.terminate()
            except OSError:
                pass
        for slot in self.slots:
            slot.proc.join(timeout=5)
            if slot.proc.is_alive():
                slot.proc.kill()
                slot.proc.join()
            slot.conn.close()

    def kill_all(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def rows_to_parent(workers: int, rows: int) -> bool:
    """Whether a local worker sends a finished group's ``rows`` back for the runner's
    process to write its part (about 30 ms a 10,000 rows: a few per cent of the group's
    run, done on a core of its own) rather than writing it itself: when the workers leave
    a core free, and the rows are at most :data:`ROWS_BACK` (a group's rows are then held
    whole in the worker, not written as they come)."""
    return workers < usable_cores() and rows <= ROWS_BACK


def resolve_workers(requested: int | str, n_groups: int, n_bars: int) -> tuple[int, str]:
    """The worker count and why: ``auto`` = min(cores, memory / per-worker estimate, groups)."""
    if requested != "auto":
        count = max(1, min(int(requested), n_groups))
        capped = (
            f" (capped from {requested}: only {n_groups} groups to run)"
            if count < int(requested)
            else ""
        )
        return count, f"workers: {count}{capped}"
    cores = usable_cores()
    per_worker = _WORKER_BASE_BYTES + _WORKER_BYTES_PER_BAR * n_bars
    available = available_memory()
    by_memory = max(1, available // per_worker) if available else cores
    count = max(1, min(cores, by_memory, n_groups))
    memory = (
        f"{available / 2**30:.1f} GiB available / ~{per_worker / 2**20:.0f} MiB per worker"
        f" = {by_memory}"
        if available
        else "memory unknown"
    )
    return count, f"workers auto: {count} = min({cores} cores, {memory}, {n_groups} groups to run)"
