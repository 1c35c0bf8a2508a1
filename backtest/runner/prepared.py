"""Each finished group's share of the result files, done while the other groups run.

:func:`backtest.runner.outputs.write_results` writes every result file at the end of a
run, from all its groups: at 10^5 combinations that took 1.4 s after the last group,
while the runner's process had waited idle for the groups. :class:`Prepared` takes each
group as it finishes (after its checkpoint line) and does its share of the files then:

- its text in ``results_full`` (a run whose combinations are inline only: the text of a
  compact record is short and made at the end);
- its sorted run of ``results_combos_{SYMBOL}.csv`` (:class:`~backtest.runner.table_text.
  SortedRuns`: the end merges the runs);
- its row group of ``results_combos_{SYMBOL}.parquet``. Row groups are in the results'
  group order, groups finish in any order: a group is added once every group before it
  has finished (or failed: it has no rows), its rows read again from its part when it
  finished earlier. Groups of the checkpoint (a resumed run) get their share the same way.

``write_results`` takes a group's prepared share only when the group's record is the one
it was made from, and makes the others as before (groups interrupted or finished in an
earlier run, a merge, files that could not be prepared): the files are the same bytes.
Everything prepared lives in anonymous temporary files in ``OUT`` (no name: none outlives
the process, however it ends); memory holds a few numbers per group.

The work is only free when a core is: a run with fewer workers than cores (the default
command with ``--workers 1`` on two cores) prepares on the idle one; with every core busy
the same work moves from the end of the run into it, next to the workers. It runs in a
thread of the lowest priority (``nice`` 19 for that thread, Linux), so that a worker, or
anything else wanting the core, comes first: on a shared 2-core machine at 10^5 the
groups took 0.5-1 s longer when the shares were made at normal priority. The last
group's share is made at once, at normal priority, when nothing else runs.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import tempfile
import threading
from functools import partial
from pathlib import Path
from typing import IO, Any

from backtest.runner.outputs import (
    Rows,
    add_row_group,
    combos_columns,
    combos_writer,
    full_text,
)
from backtest.runner.run_log import log
from backtest.runner.rundir import group_rows
from backtest.runner.table_text import SortedRuns


class Prepared:
    """The shares of the result files of the groups finished so far (:meth:`add`), for
    :func:`backtest.runner.outputs.write_results` to take. ``order``: the results' group
    order; ``finished``: the records of the groups finished before the run (checkpoint);
    ``inline``: whether the run's combinations will be inline in ``results_full`` (at
    most the groups to run and the finished ones' combinations: failed groups only lower
    it, and a text prepared for a run that ends otherwise is not taken)."""

    def __init__(
        self,
        out_dir: Path,
        order: list[str],
        finished: dict[str, dict[str, Any]],
        inline: bool,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.rows: Rows = partial(group_rows, self.out_dir)
        self.order = list(order)
        self.known = dict(finished)  # finished records by group id, for the table's walk
        self.inline = inline
        self.columns = combos_columns()
        self.walked = 0  # how many groups of ``order`` the table has passed
        self.texts: dict[str, tuple[dict[str, Any], int, int]] = {}  # record, at, size
        self.sorted: dict[str, dict[str, Any]] = {}  # the records whose runs are made
        self.in_table: list[dict[str, Any]] = []
        self._texts: IO[bytes] | None = None
        self._table: IO[bytes] | None = None
        self._writer: Any = None
        self._runs: SortedRuns | None = None
        self.stopped = False  # closed: nothing more is prepared
        self._queue: queue.Queue[dict[str, Any] | None] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Prepared:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def add(self, record: dict[str, Any], last: bool = False) -> None:
        """A group that finished (ok or failed): its share is made in a thread of the
        lowest priority (a worker that needs the core comes first), or here for the
        ``last`` group once the thread is done (nothing else runs then)."""
        if not last:
            if self._queue is None:
                self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._background, daemon=True)
                self._thread.start()
            self._queue.put(record)
            return
        self.wait()
        self._add(record, last)

    def wait(self) -> None:
        """Until every group added so far has its share (the thread ends)."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = self._thread = None

    def _background(self) -> None:
        if sys.platform.startswith("linux"):  # this thread only (Linux: a thread's nice)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        assert self._queue is not None
        while (record := self._queue.get()) is not None:
            self._add(record)

    def _add(self, record: dict[str, Any], last: bool = False) -> None:
        """A group's share, and the table's next row groups. The ``last`` group's
        ``results_full`` text is left to the end, which writes that file beside the
        others. A failure drops everything prepared (the end makes it all, and meets the
        same error there if it lasts)."""
        if self.stopped:
            return
        self.known[record["group_id"]] = record
        try:
            table = None
            if record.get("status") == "ok":
                table = self.rows(record)
                self._share(record, table, text=not last)
            self._walk(record, table)
            del table
            _release_unused()
        except Exception as exc:
            log.warning(
                f"{record['group_id']}: its share of the result files is made at the end "
                f"instead ({type(exc).__name__}: {exc})"
            )
            self.close()

    def _share(self, record: dict[str, Any], table: Any, text: bool = True) -> None:
        """An ok group's sorted CSV run and (inline, with ``text``) its ``results_full``
        text."""
        gid = record["group_id"]
        if self._runs is None:
            self._runs = SortedRuns(self.out_dir)
        self._runs.add(gid, table, self.columns)
        self.sorted[gid] = record
        if self.inline and text:
            body = full_text(record, lambda _: table, True)
            if self._texts is None:
                self._texts = tempfile.TemporaryFile(dir=self.out_dir)
            at = self._texts.seek(0, os.SEEK_END)
            self._texts.write(body)
            self.texts[gid] = (record, at, len(body))

    def _walk(self, record: dict[str, Any], table: Any) -> None:
        """Add the row groups of the groups next in order that have finished."""
        while self.walked < len(self.order):
            found = self.known.get(self.order[self.walked])
            if found is None:
                return
            if found.get("status") == "ok":
                rows = table if found is record else self.rows(found)
                if self.sorted.get(found["group_id"]) != found:
                    self._share(found, rows)  # a group of the checkpoint
                if self._writer is None:
                    self._table = tempfile.TemporaryFile(dir=self.out_dir)
                    self._writer = combos_writer(self._table)
                add_row_group(self._writer, rows)
                self.in_table.append(found)
            self.walked += 1

    def finish_table(self, path: Path, ok: list[dict[str, Any]], rows: Rows) -> bool:
        """Write the combos table of the ok records ``ok`` to ``path`` from the row groups
        added so far when they are its first ones (the rest from ``rows``); False when
        they are not (nothing written)."""
        self.wait()
        count = len(self.in_table)
        if self._writer is None or ok[:count] != self.in_table:
            return False
        for group in ok[count:]:
            add_row_group(self._writer, rows(group))
        self._writer.close()
        self._writer = None
        assert self._table is not None
        self._table.flush()
        with open(path, "wb") as out:
            copy_range(self._table.fileno(), 0, os.fstat(self._table.fileno()).st_size, out)
        return True

    def csv_runs(self, ok: list[dict[str, Any]]) -> tuple[SortedRuns | None, list[Any] | None]:
        """The sorted runs and, for each record of ``ok`` (the table's row groups), the key
        of its run there (its group id), or a key of no run when its prepared run is not
        of that record; (None, None) when nothing is prepared."""
        self.wait()
        if self._runs is None:
            return None, None
        keys = [
            g["group_id"] if self.sorted.get(g["group_id"]) == g else ("row group", n)
            for n, g in enumerate(ok)
        ]
        return self._runs, keys

    def copy_text(self, group: dict[str, Any], inline: bool, out: IO[bytes]) -> bool:
        """Write the group's prepared ``results_full`` text to ``out`` when it is this
        record's and the run's combinations are ``inline``; False when not (nothing
        written)."""
        entry = self.texts.get(group.get("group_id"))  # type: ignore[arg-type]
        if not inline or entry is None or entry[0] != group or self._texts is None:
            return False
        self._texts.flush()
        copy_range(self._texts.fileno(), entry[1], entry[2], out)
        return True

    def close(self) -> None:
        """Drop everything prepared (the temporary files go with it); groups still waiting
        for their share are left (a run that crashed does not make them)."""
        self.stopped = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self.wait()
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # the file is dropped anyway
                pass
        for spool in (self._texts, self._table, self._runs):
            if spool is not None:
                spool.close()
        self._writer = self._texts = self._table = self._runs = None
        self.known, self.texts, self.sorted, self.in_table = {}, {}, {}, []


def _release_unused() -> None:
    """Give the memory Arrow's allocator kept back to the system: the workers run beside
    this process, which needs it again only for the next group."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def copy_range(source: int, offset: int, count: int, out: IO[bytes]) -> None:
    """Append ``count`` bytes of file descriptor ``source`` from ``offset`` to ``out``, in
    the kernel where it can (``os.copy_file_range``), else through a buffer."""
    out.flush()
    done = 0
    try:
        while done < count:
            sent = os.copy_file_range(source, out.fileno(), count - done, offset + done)
            if sent == 0:
                break
            done += sent
    except (AttributeError, OSError):  # no such call here, or not between these files
        pass
    out.seek(0, os.SEEK_END)
    while done < count:
        chunk = os.pread(source, min(count - done, 1 << 24), offset + done)
        if not chunk:
            raise OSError(f"a temporary file ended {count - done} bytes early")
        out.write(chunk)
        done += len(chunk)
