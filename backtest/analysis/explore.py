"""``invoke explore``'s table: a run's combinations, every row, sorted, filtered, paged.

The offline report (``OUT/report_{SYMBOL}.html``) embeds only part of a large run;
:mod:`backtest.analysis.explore_server` serves that same page with a JSON API over the
run's whole ``results_combos_{SYMBOL}.parquet``, answered here: sort by any column,
filter any columns with the page's filter-box syntax, one page of rows at a time.

How it stays fast over 10^7 rows (bench/explore.py measures it): the table is loaded
once as Arrow columns in memory (:func:`load_combos`), which DuckDB reads where they lie
(:func:`backtest.analysis.sql.memory_connection`). A filter is evaluated with numpy as its
SQL (:mod:`backtest.analysis.explore_query`) would decide; a page of a sort is taken
without a full sort until the column's order is built in the background and kept; with it
a page is a slice, a filtered page a walk of it (:class:`Combos`,
:mod:`backtest.analysis.explore_rows`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.analysis.explore_count import Counting
from backtest.analysis.explore_digits import DigitIndexes
from backtest.analysis.explore_query import (
    COLUMN_KINDS,
    DERIVED,
    METRICS,
    PARAMS,
    ROW,
    Filter,
    Query,
    ident,
    read_filter,
    read_sql,
    sort_sql,
    where_sql,
)
from backtest.analysis.explore_rows import (
    MAYBE,
    YES,
    coded_page,
    compare,
    dictionary_codes,
    gather_nb,
    page_of,
    text_matches,
    walk,
)
from backtest.analysis.explore_work import Work
from backtest.runner.store import open_table, widened

CACHED = 8  # filters and filtered orders kept for the next pages
ORDERS = 12  # sort orders kept (4 bytes a row each)
CODED = 1000  # a column with at most as many values has its pages found by counting
FEW = 1 << 18  # a filter keeping at most as many rows has them sorted alone (no whole key)
DISTINCT = 100_000  # a column with at most as many values has its text filters by value


def load_combos(path: Path) -> pa.Table:
    """The results table ``path`` (checked to have :func:`combos_schema`'s columns) in
    memory, one chunk per column: ``row`` first (the row's position in the file: run
    order), then its columns (text dictionary-encoded), then :data:`DERIVED`."""
    import pyarrow.parquet as pq

    from backtest.analysis.sql import memory_connection

    open_table(path)  # PartError (a ValueError) when it is not a results table
    text = [name for name, kind in COLUMN_KINDS.items() if kind == "text"]
    source = pq.ParquetFile(path, read_dictionary=text)
    # a column at a time, each made one chunk: the read's buffers of one column are
    # reused for the next (the whole table read at once, then combined, held 2-3 times
    # its size), and a page is taken from one chunk per column, not from one per group
    table = widened(  # an older results format's columns in today's types
        pa.table(
            {
                name: source.read(columns=[name]).column(0).combine_chunks()
                for name in source.schema_arrow.names
            }
        )
    )
    con = memory_connection(table)
    derived = ", ".join(f"{sql} AS {name}" for name, sql in DERIVED.items())
    extra = con.execute(f"SELECT {derived} FROM combos").fetchnumpy()
    con.close()
    table = table.add_column(0, ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    for name in DERIVED:
        table = table.append_column(
            name, pa.array(np.ma.filled(extra[name], np.nan), mask=np.ma.getmaskarray(extra[name]))
        )
    return table


def _cells(values: pa.Array) -> list[Any]:
    """A column's values as JSON cells, as ``to_pylist`` gives them but NaN and infinities
    None: by numpy's ``tolist`` (``to_pylist`` makes a Python object at a time, most of
    a 1,000-row page's time), a dictionary's values looked up by index."""
    if pa.types.is_dictionary(values.type):
        words = values.dictionary.to_pylist() or [None]  # all missing: no values
        cells = [words[i] for i in pc.fill_null(values.indices, 0).to_numpy().tolist()]
    elif pa.types.is_integer(values.type) or pa.types.is_boolean(values.type):
        cells = pc.fill_null(values, False if pa.types.is_boolean(values.type) else 0)
        cells = cells.to_numpy(zero_copy_only=False).tolist()
    elif pa.types.is_floating(values.type):
        numbers = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False)
        cells = numbers.tolist()
        for at in np.flatnonzero(~np.isfinite(numbers)).tolist():
            cells[at] = None
        return cells
    else:
        return values.to_pylist()
    if values.null_count:
        for at in np.flatnonzero(np.asarray(values.is_null())).tolist():
            cells[at] = None
    return cells


def _list_text(values: pa.Array) -> pa.Array:
    """A list column's values as the page shows them (``[0,2,4]``), a missing one null."""
    inner = pc.binary_join(pc.cast(values, pa.list_(pa.string())), ",")
    return pc.binary_join_element_wise("[", inner, "]", "")


class Page(NamedTuple):
    """A query's page: its rows (positions in run order, in the sort's order), how many rows
    match (None: being counted, :mod:`explore_count`) and whether ``rows`` is the whole
    page (else its first rows: the rest come with the count)."""

    rows: np.ndarray
    total: int | None
    whole: bool = True


class Combos:
    """The run's combinations (:func:`load_combos`); :meth:`query` answers one API request.

    A filter is evaluated with numpy over the columns in memory (:meth:`mask`), a page of
    a sort is taken without sorting everything (:func:`explore_rows.page_of`) until the
    column's order (row numbers, both directions apart) is built in a background thread on
    its first use and kept (the last :data:`ORDERS`); with it, a page is a slice, a filtered
    one a walk of it (:func:`explore_rows.walk`). DuckDB (:func:`sql.memory_connection`)
    answers what numpy cannot do as it would: the text of a column with many values (of a
    float column only where :func:`explore_rows.text_matches` or its digit index, built on
    its first part of digits alone, cannot tell: :mod:`explore_digits`), and the first pages
    of a list column's sort. Filters' rows are kept (the last :data:`CACHED`), and each
    column's values encoded for text filters (when few). A first page may come before its
    count (:mod:`explore_count`)."""

    def __init__(self, table: pa.Table) -> None:
        from backtest.analysis.sql import memory_connection

        self.table = table
        self.count = table.num_rows
        self.con = memory_connection(table)
        self._sql_lock = threading.Lock()  # one DuckDB connection, one query at a time
        self._orders: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
        self._building: set[tuple[str, bool]] = set()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._codes: dict[str, tuple[pa.Array, np.ndarray] | None] = {}
        self._buffers: list[np.ndarray] = []
        self._lock = threading.Lock()
        self.work = Work()  # its threads and DuckDB queries, stopped by close
        self.lists = threading.Event()
        self.digits = DigitIndexes(self.work)  # float columns' digit indexes, on first use
        self.counting = Counting()  # masks counted in the background, first pages before
        self._prepared = self.work.start(self._prepare, "explore-prepare")

    def ready(self) -> None:
        """Wait until :meth:`_prepare` is done (columns encoded, scratch memory there)."""
        cast(threading.Thread, self._prepared).join()

    def close(self) -> None:  # DuckDB's queries interrupted, threads joined: Work.close
        self.work.close()
        with self._sql_lock:
            self.con.close()

    def _fetch(
        self, sql: str, params: list[Any] | None = None, values: pa.Table | None = None
    ) -> dict[str, np.ndarray]:
        """``sql``'s columns as numpy arrays, over the view ``combos`` (the table) and
        ``values`` (a small table, when given)."""
        with self._sql_lock, self.work.using(self.con):
            if values is not None:
                self.con.register("distinct_values", values)
            try:
                found = self.con.execute(sql, params or []).fetchnumpy()
            finally:
                if values is not None:
                    self.con.unregister("distinct_values")
        return cast(dict[str, np.ndarray], found)

    def sort_key(self, column: str, out: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each row's sort key in run order (of ``rows`` alone when given), ascending,
        written to ``out`` (float64, a row each), from the columns in memory (what
        :func:`sort_sql` sorts by in DuckDB): a number (flags 0/1), or the rank of the row's
        text (a list's shown text) among the column's distinct ones in binary order; NaN
        for a missing value."""
        if column == ROW:
            out[:] = np.arange(self.count, dtype=np.float64) if rows is None else rows
            return out
        if COLUMN_KINDS[column] == "number":
            values, valid = self._numbers(column)
            np.copyto(out, values if rows is None else values[rows], casting="unsafe")
            if valid is not None:
                out[~(valid if rows is None else valid[rows])] = np.nan
            return out
        codes, keys = self._coded_keys(column)
        return gather_nb(keys, codes if rows is None else codes[rows], out)

    def _coded_keys(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """A text or list column's codes (:meth:`_encoded`) and each code's sort key: the
        rank of its text among the distinct ones in binary order, NaN if missing."""
        distinct, codes = self._encoded(column, wait=True) or self._encode_list(column)
        present = distinct.slice(0, len(distinct) - 1)  # the missing value is last
        if COLUMN_KINDS[column] == "list":
            present = _list_text(present)
        rank = np.full(len(distinct), np.nan)
        rank[np.asarray(pc.sort_indices(present))] = np.arange(len(present))
        return codes, rank

    def _coded_page(self, query: Query, keep: np.ndarray | None) -> np.ndarray | None:
        """The page by :func:`coded_page` when the sort column has at most :data:`CODED`
        distinct values (encoded); else None."""
        if query.sort == ROW or (COLUMN_KINDS[query.sort] == "list" and not self.lists.is_set()):
            return None
        encoded = self._encoded(query.sort)
        if encoded is None or len(encoded[0]) > CODED:
            return None
        if COLUMN_KINDS[query.sort] == "number":
            values = pc.cast(encoded[0], pa.float64(), safe=False)
            codes, keys = encoded[1], np.asarray(values.to_numpy(zero_copy_only=False), np.float64)
        else:
            codes, keys = self._coded_keys(query.sort)
        return coded_page(codes, -keys if query.desc else keys, query.offset, query.limit, keep)

    def _numbers(self, column: str) -> tuple[np.ndarray, np.ndarray | None]:
        """A number column's values as numpy (not copied where Arrow's buffer serves) and
        where they are present (None when all are)."""
        values = self._column(column)
        valid = None if values.null_count == 0 else np.asarray(pc.is_valid(values))
        kind = values.type
        if pa.types.is_boolean(kind):
            return np.asarray(pc.fill_null(values, False)), valid
        data = np.frombuffer(values.buffers()[1], dtype=kind.to_pandas_dtype())
        return data[values.offset : values.offset + len(values)], valid

    @contextmanager
    def scratch(self) -> Iterator[np.ndarray]:
        """A float64 array of a row each, its memory reused from query to query (a new
        one's first writes cost as much as the query)."""
        with self._lock:
            out = self._buffers.pop() if self._buffers else np.empty(self.count)
        try:
            yield out
        finally:
            with self._lock:
                self._buffers = self._buffers[-1:] + [out]

    def order(self, column: str, desc: bool) -> np.ndarray:
        """Row numbers sorted by ``column`` (missing values last either way, ties in run
        order, as the report page sorts), built now unless it is there."""
        with self._lock:
            if (column, desc) in self._orders:
                self._orders.move_to_end((column, desc))
                return self._orders[(column, desc)]
        key = self.sort_key(column, np.empty(self.count))
        order = np.argsort(np.negative(key, out=key) if desc else key, kind="stable")
        order = order.astype(np.int32 if self.count < 2**31 else np.int64)
        with self._lock:
            self._orders[(column, desc)] = order
            while len(self._orders) > ORDERS:
                self._orders.popitem(last=False)
        return order

    def _ready(self, column: str, desc: bool) -> np.ndarray | None:
        """The order if it is built; else None, and its build started."""
        with self._lock:
            if (column, desc) in self._orders:
                self._orders.move_to_end((column, desc))
                return self._orders[(column, desc)]
            if (column, desc) in self._building:
                return None
            self._building.add((column, desc))

        def build() -> None:
            try:
                self.order(column, desc)
            except Exception:
                if not self.work.closed:  # else the server stopped during the build
                    raise
            finally:
                with self._lock:
                    self._building.discard((column, desc))

        self.work.start(build, f"explore-order-{column}")
        return None

    def _kept(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return value

    def page(self, query: Query, build: bool = True) -> Page:
        """The query's :class:`Page`. ``build``: start building the sort's order."""
        order = self._ready(query.sort, query.desc) if build else None
        if query.filters and (first := self.counting.page(self, query, order)) is not None:
            return Page(first[0], None, first[1])
        keep = self.mask(query.filters) if query.filters else None
        total = self.count if keep is None else int(np.count_nonzero(keep))
        if order is not None:
            if keep is None:
                return Page(order[query.offset : query.offset + query.limit], total)
            if query.offset == 0:  # a new filter's first page: a walk that stops there
                return Page(walk(order, keep, query.offset, query.limit), total)
            rows = self._kept(  # its next pages: slices of its rows in that order, kept
                ("order", query.filters, query.sort, query.desc), lambda: order[keep[order]]
            )
            return Page(rows[query.offset : query.offset + query.limit], total)
        if COLUMN_KINDS.get(query.sort) == "list" and self._encoded(query.sort) is None:
            return Page(self._sorted_by_duckdb(query), total)  # until the lists are encoded
        if keep is not None and total <= FEW:  # few rows: sorted alone, ties in run order
            ranked = self._kept(
                ("few", query.filters, query.sort, query.desc), lambda: self._few(query, keep)
            )
            return Page(ranked[query.offset : query.offset + query.limit], total)
        coded = self._coded_page(query, keep)
        if coded is not None:
            return Page(coded, total)
        with self.scratch() as key:
            self.sort_key(query.sort, key)
            if query.desc:
                np.negative(key, out=key)
            return Page(page_of(key, query.offset, query.limit, keep), total)

    def _few(self, query: Query, keep: np.ndarray) -> np.ndarray:
        """The rows ``keep`` holds in ``query``'s order, sorted alone (kept for the next
        pages): ties in run order, missing values last either way."""
        rows = np.flatnonzero(keep)
        key = self.sort_key(query.sort, np.empty(len(rows)), rows)
        if query.desc:
            np.negative(key, out=key)  # NaN stays last
        return rows[np.argsort(key, kind="stable")]

    def _sorted_by_duckdb(self, query: Query) -> np.ndarray:
        where, params = where_sql(dict(query.filters))
        direction = "DESC" if query.desc else "ASC"
        found = self._fetch(
            f"SELECT {ROW} FROM combos WHERE {where} ORDER BY {sort_sql(query.sort)} "
            f"{direction} NULLS LAST, {ROW} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )[ROW]
        return np.asarray(found, dtype=np.int64)

    def mask(self, filters: tuple[tuple[str, str], ...]) -> np.ndarray:
        """Which rows pass every filter (``(column, text)`` pairs, ANDed), as the SQL of
        :func:`where_sql` decides: numbers compared in numpy (:func:`explore_rows.compare`),
        text by DuckDB over the column's distinct values (:meth:`_encoded`), or over the
        whole column when it has too many. Kept for the next queries."""

        self.counting.wait(filters)  # when it is being counted in the background

        def make() -> np.ndarray:
            keep = None
            for column, text in filters:
                read = read_filter(column, text)
                if read is not None:
                    one = self._one_mask(read)
                    keep = one if keep is None else np.logical_and(keep, one, out=keep)
            return np.ones(self.count, dtype=bool) if keep is None else keep

        return cast(np.ndarray, self._kept(("mask", filters), make))

    def kept_mask(self, filters: tuple[tuple[str, str], ...]) -> bool:
        return ("mask", filters) in self._cache

    def _column(self, column: str) -> pa.Array:
        """``column`` as one array: its chunk itself when it has one (load_combos makes one
        chunk a column; ``combine_chunks`` would copy it every time)."""
        chunked = self.table.column(column)
        return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()

    def _one_mask(self, read: Filter) -> np.ndarray:
        if read.numeric:  # ints and flags compared as doubles, as SQL casts them
            return compare(*self._numbers(read.column), read.op, read.operands)
        sql, params = read_sql(read)
        encoded = self._encoded(read.column)
        if encoded is not None:
            values, codes = encoded
            return self._hits(read.column, values, sql, params)[codes]
        matches = self._text_matches(read)
        if matches is None:
            if self._floating(read.column) and read.op == "contains":
                # its text as label's, lowered and '' when missing, without the two
                # (a double's text is lower case; a missing one's contains no part)
                sql = f"contains(CAST({ident(read.column)} AS VARCHAR), ?)"
            keep = np.zeros(self.count, dtype=bool)
            rows = self._fetch(f"SELECT {ROW} FROM combos WHERE {sql}", params)[ROW]
            keep[rows] = True
            if self.digits_alone(read):  # the next ones by the column's digit index
                self.digits.build(read.column, self._column(read.column))
            return keep
        keep = matches == YES
        rows = np.flatnonzero(matches == MAYBE)  # SQL decides the few rows in doubt
        found = self._column(read.column).take(pa.array(rows))
        keep[rows[self._hits(read.column, found, sql, params)]] = True
        return keep

    def _hits(self, column: str, values: pa.Array, sql: str, params: list[Any]) -> np.ndarray:
        """Whether each of ``values`` (of ``column``) meets the filter ``sql``, by SQL."""
        table = pa.table({column: values})
        hit = self._fetch(
            f"SELECT coalesce({sql}, false) AS hit FROM distinct_values", params, table
        )
        return np.asarray(hit["hit"], dtype=bool)

    def _floating(self, column: str) -> bool:
        return pa.types.is_float64(self.table.schema.field(column).type)  # text_matches: doubles

    def digits_alone(self, read: Filter) -> bool:
        digits = read.op == "contains" and re.fullmatch("[0-9]+", read.operands[0])
        return bool(digits) and self._floating(read.column)

    def _text_matches(self, read: Filter) -> np.ndarray | None:
        """For a text part of a float column, whether each row's text has it (yes, no,
        maybe: :func:`text_matches`, for digits alone the column's digit index once it is
        built, else None); else None."""
        if read.op != "contains" or not self._floating(read.column):
            return None
        if self.digits_alone(read):
            index = self.digits.get(read.column)
            return None if index is None else index.matches(read.operands[0])
        values, valid = self._numbers(read.column)
        return text_matches(values, valid, read.operands[0])

    def _encoded(self, column: str, wait: bool = False) -> tuple[pa.Array, np.ndarray] | None:
        """``column``'s distinct values, a missing one last, and each row's index into
        them (the smallest integers that hold it); None for a float metric, a number
        column with more than :data:`DISTINCT` values, and a list column until its
        encoding (started with the table: :meth:`_prepare`) is done, unless ``wait`` for
        it. Kept."""
        if COLUMN_KINDS[column] == "list":
            if wait:
                self.lists.wait()
            with self._lock:
                return self._codes.get(column)
        with self._lock:
            if column in self._codes:
                return self._codes[column]
        found: tuple[pa.Array, np.ndarray] | None = None
        column_type = self.table.schema.field(column).type
        # a float metric has about as many values as rows: not encoded (its text by SQL)
        if not (pa.types.is_floating(column_type) and column not in PARAMS):
            coded = self._column(column)
            if not pa.types.is_dictionary(coded.type):
                coded = pc.dictionary_encode(coded)
            size = len(coded.dictionary)
            if size <= DISTINCT or COLUMN_KINDS[column] == "text":
                values = pa.concat_arrays([coded.dictionary, pa.nulls(1, coded.dictionary.type)])
                found = values, dictionary_codes(coded.indices, size)
        with self._lock:
            self._codes[column] = found
        return found

    def _prepare(self) -> None:
        """In a thread started with the table (seconds at 10^7 rows; queries are answered
        meanwhile, slower): the scratch memory of a page's sort key touched once, and every
        column that :meth:`_encoded` encodes encoded, text and lists first."""
        with self.scratch() as key, self.scratch() as kept:
            key.fill(0.0)
            kept.fill(0.0)
        self.rows(np.zeros(min(self.count, 1), dtype=np.int64))  # the first take's set-up
        for part in ("0.1", "-"):  # numba's compiled code loaded
            text_matches(np.zeros(1), None, part)
        for codes in (np.uint8, np.uint16, np.uint32):  # dictionary_codes' kinds of code
            gather_nb(np.zeros(1), np.zeros(1, dtype=codes), np.empty(1))
        columns = [c for c in COLUMN_KINDS if c in self.table.column_names]
        try:
            for kind in ("text", "list", "number"):
                for column in (c for c in columns if COLUMN_KINDS[c] == kind):
                    if self.work.closed:
                        return
                    if kind == "list":
                        encoded = self._encode_list(column)
                        with self._lock:
                            self._codes[column] = encoded
                    else:
                        self._encoded(column)
                if kind == "list":
                    self.lists.set()
        finally:
            self.lists.set()  # a list sort waits for it: never forever

    def _encode_list(self, column: str) -> tuple[pa.Array, np.ndarray]:
        """A list column's distinct lists (one row of each, a missing one last) and each
        row's index into them, by the lists' shown text."""
        values = self._column(column)
        coded = pc.dictionary_encode(_list_text(values))
        size = len(coded.dictionary)
        codes = dictionary_codes(coded.indices, size)
        by_code = np.argsort(codes, kind="stable")
        first = by_code[np.searchsorted(codes[by_code], np.arange(size))]  # a row of each
        distinct = pa.concat_arrays([values.take(pa.array(first)), pa.nulls(1, values.type)])
        return distinct, codes

    def rows(self, numbers: np.ndarray) -> list[dict[str, Any]]:
        """Rows ``numbers`` (positions in run order) as dicts, in that order: taken from
        the table by position, not searched for."""
        taken = self.table.take(pa.array(np.asarray(numbers, dtype=np.int64)))
        names, columns = taken.column_names, [_cells(c.combine_chunks()) for c in taken.columns]
        return [dict(zip(names, row)) for row in zip(*columns)]

    def query(self, query: Query, build: bool = True) -> dict[str, Any]:
        """The API's answer: the page's rows, how many match, how long it took (ms)."""
        started = time.perf_counter()
        with self.work.busy():  # waited for by close
            page = self.page(query, build)
            rows = self.rows(page.rows)
        return {
            "rows": rows,
            "total": None if page.total is None else int(page.total),  # None: being counted
            "whole": page.whole,  # false: the page's first rows, the rest with the count
            "count": self.count,
            "offset": query.offset,
            "limit": query.limit,
            "sort": query.sort,
            "desc": query.desc,
            "filters": dict(query.filters),
            "params": list(PARAMS),
            "metrics": list(METRICS),
            "query_ms": round(1000 * (time.perf_counter() - started), 1),
        }
