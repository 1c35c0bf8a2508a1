"""A new filter's first page before its count, where only the count is slow: a float
column's text part of digits alone (``total_pnl:12``) before the column's digit index is
built, whose rows DuckDB decides by writing every value as text (``CAST(x AS VARCHAR)``,
the filter's meaning: 1.5 s of CPU at 10^7 rows, and it starts the index).

The first page needs only its ``limit`` rows: the sort's order is walked a chunk at a time
(:func:`first_rows`: the built order, else ranks of the sort key by
:func:`explore_rows.page_of`, of the rows the other filters keep), each chunk's rows decided
by the same SQL over their values alone (16 ms for 2^16 rows at 10^7), until ``limit`` rows
pass. Its answer carries no count
(``total`` None, :class:`Counting`): the whole mask (:meth:`Combos.mask`, which also
starts the digit index) is computed in a background thread meanwhile, and the next query
waits for it only if it needs it (a page at an offset, or the same query once the count
is there). Where the rows passing are too few for the walk to fill the page in
:data:`BUDGET` (a rare part, no match), it stops there: the answer is the page's rows found
so far (its first rows, exact; maybe none), marked incomplete, and the same query asked
again gets the whole page with its count once the mask is there (0.8-0.9 s at 10^7).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from backtest.analysis.explore_query import COLUMN_KINDS, ROW, Filter, Query, read_filter, read_sql
from backtest.analysis.explore_rows import page_of

if TYPE_CHECKING:
    from backtest.analysis.explore import Combos

# seconds the walk may take (each chunk sized to end within it); IBSWEEP_EXPLORE_BUDGET, a
# test hook: 0 makes a page past the first chunk answer with its first rows at once
BUDGET = float(os.environ.get("IBSWEEP_EXPLORE_BUDGET", "0.1"))
FIRST = 1 << 16  # rows of the order decided first (the next chunks: as many as it needs)
LEAST = 1 << 12  # a chunk of fewer rows is not worth its query: the walk stops


class Counting:
    """The masks being computed in the background (at most one thread a filter set) and
    the first pages answered before them (until the mask is there)."""

    def __init__(self) -> None:
        self._threads: dict[Any, threading.Thread] = {}
        self._pages: dict[Any, tuple[np.ndarray, bool]] = {}
        self._failed: set[Any] = set()  # counted in the foreground: it says why
        self._lock = threading.Lock()

    def wait(self, filters: tuple[tuple[str, str], ...]) -> None:
        """Until the background mask of ``filters`` (if one is computed) is done."""
        with self._lock:
            thread = self._threads.get(filters)
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def page(
        self, combos: Combos, query: Query, order: np.ndarray | None
    ) -> tuple[np.ndarray, bool] | None:
        """``query``'s first page (offset 0) before its filters' count, the count started
        in the background, and whether it is whole (else its first rows, as far as the walk
        got in :data:`BUDGET`); None when its count is not slow (or is there)."""
        if query.offset:
            return None
        reads = [(item, read_filter(*item)) for item in query.filters]
        slow = [r for _, r in reads if r is not None and _slow(combos, r)]
        if not slow or combos.kept_mask(query.filters) or query.filters in self._failed:
            return None
        if order is None and COLUMN_KINDS.get(query.sort) == "list" and not combos.lists.is_set():
            return None  # its sort key waits for the lists' encoding (seconds at start)
        key = (query.filters, query.sort, query.desc, query.limit)
        with self._lock:
            if query.filters in self._threads and key in self._pages:
                return self._pages[key]
        others = tuple(item for item, r in reads if r is None or r not in slow)
        con = combos.con.cursor()  # a connection of its own: the mask's query may be running
        try:
            with combos.work.using(con):  # interrupted when the server stops
                first = first_rows(con, combos, query, order, others, slow)
        finally:
            con.close()
        with self._lock:
            self._pages[key] = first
            if query.filters not in self._threads:
                thread = combos.work.start(self._count, "explore-count", combos, query.filters)
                if thread is not None:  # else the server is stopping
                    self._threads[query.filters] = thread
        return first

    def _count(self, combos: Combos, filters: tuple[tuple[str, str], ...]) -> None:
        try:
            combos.mask(filters)
        except Exception:  # the next query computes it again, and says why
            with self._lock:
                self._failed.add(filters)
        finally:
            with self._lock:
                self._threads.pop(filters, None)
                for key in [k for k in self._pages if k[0] == filters]:
                    del self._pages[key]


def _slow(combos: Combos, read: Filter) -> bool:
    """A text part of digits alone of a float column whose digit index is not built."""
    return combos.digits_alone(read) and combos.digits.get(read.column) is None


def first_rows(
    con: Any,
    combos: Combos,
    query: Query,
    order: np.ndarray | None,
    others: tuple[tuple[str, str], ...],
    slow: list[Filter],
) -> tuple[np.ndarray, bool]:
    """The first ``query.limit`` rows (in its order) that pass the filters ``others`` and
    ``slow``, and whether that is all of them: the rows of ``others`` walked in order, the
    ``slow`` ones decided by SQL over each chunk's values (on ``con``), each next chunk as
    long as the rows passing so far say the page needs (at most 8 times the last) and as
    the time left of :data:`BUDGET` allows at the pace so far. When that is fewer rows
    than :data:`LEAST` (and than the page needs) the walk stops: the rows found so far
    are the page's first ones."""
    started = time.perf_counter()
    keep = combos.mask(others) if others else None
    found: list[np.ndarray] = []
    taken, seen, size, whole = 0, 0, FIRST, True
    chunks = _in_order(combos, query, order, keep)
    try:
        rows, last = chunks.send(None)
        while True:
            hit = np.ones(len(rows), dtype=bool)
            for read in slow:
                hit &= _decided(con, combos, rows, read)
            found.append(rows[hit])
            taken += int(np.count_nonzero(hit))
            seen += size
            if taken >= query.limit or last:
                break
            spent = time.perf_counter() - started
            in_time = (BUDGET - spent) * seen / spent  # rows the time left allows
            need = 1.25 * (query.limit - taken) * seen / max(taken, 1) + query.limit
            if in_time < min(LEAST, need):  # no time left for a chunk worth its query
                whole = False
                break
            size = int(min(8 * size, need, in_time))
            rows, last = chunks.send(size)
    finally:
        chunks.close()
    rows = np.concatenate([np.zeros(0, np.int64), *found]).astype(np.int64)
    return rows[: query.limit], whole


def _in_order(
    combos: Combos, query: Query, order: np.ndarray | None, keep: np.ndarray | None
) -> Generator[tuple[np.ndarray, bool], int | None, None]:
    """The rows ``keep`` holds (every row when None) in ``query``'s order, a chunk at a
    time (and whether it is the last), the next one as long as sent (:data:`FIRST` the
    first): positions of ``order`` when built, of run order for ``row``, else ranks among
    the rows kept of the sort key (:func:`explore_rows.page_of`, its key made once)."""
    start, size = 0, FIRST
    if order is not None or query.sort == ROW:
        while True:
            stop = min(start + size, combos.count)
            if order is not None:
                rows = order[start:stop]
            elif query.desc:  # run order's reverse
                rows = combos.count - 1 - np.arange(start, stop)
            else:
                rows = np.arange(start, stop)
            sent = yield (rows if keep is None else rows[keep[rows]]), stop == combos.count
            start, size = stop, sent or size
    with combos.scratch() as key:
        combos.sort_key(query.sort, key)
        if query.desc:
            np.negative(key, out=key)
        while True:
            rows = page_of(key, start, size, keep)
            sent = yield rows, len(rows) < size
            start, size = start + size, sent or size


def _decided(con: Any, combos: Combos, rows: np.ndarray, read: Filter) -> np.ndarray:
    """Whether each of ``rows`` passes ``read``, by its SQL over those rows' values alone
    (on ``con``, a connection of its own: the whole mask's runs on the table's)."""
    values = combos.table.column(read.column).take(pa.array(rows))
    sql, params = read_sql(read)
    con.register("part", pa.table({read.column: values}))
    try:
        hit = con.execute(f"SELECT coalesce({sql}, false) AS hit FROM part", params)
        return np.asarray(hit.fetchnumpy()["hit"], dtype=bool)
    finally:
        con.unregister("part")
