"""The seam between the run loop and whatever computes the groups.

:func:`backtest.runner.execute._execute` hands its groups to an executor and gets each
finished group back through ``on_done``, in the runner's process, as it finishes: the
checkpoint, the output files, resume and the exit codes belong to the run loop, whatever
computes the groups. Two executors exist: the local pool of forked workers
(:class:`backtest.runner.pool.Supervisor`, the default) and a Dask cluster
(:class:`backtest.runner.dask_executor.DaskExecutor`, ``--scheduler``/``--scheduler-file``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Tasks = list[tuple[str, Any]]  # (group_id, its backtest.runner.groups.Group)
OnDone = Callable[[dict[str, Any], list[Any]], None]  # (record, its rows to write, or [])


class Executor(Protocol):
    """Runs groups and reports each one as it finishes."""

    size: int  # how many groups it runs at once (the results' ``workers``)

    def run(self, tasks: Tasks, on_done: OnDone, stopping: Callable[[], bool]) -> list[str]:
        """Run ``tasks``, call ``on_done`` once per finished group (failed ones as failed
        records) with its rows when the runner's process is to write its part (Arrow
        tables; [] when it is written), stop early when ``stopping()`` is true; the ids
        left unfinished."""
        ...

    def kill_all(self) -> None:
        """A second Ctrl-C: end at once whatever can be ended."""
        ...
