"""``invoke explore``: a run's report page served on 127.0.0.1, its table over every row.

The offline report (``OUT/report_{SYMBOL}.html``) embeds only part of a large run. This
module serves that same page from a small local HTTP server with a JSON API over the
run's whole ``results_combos_{SYMBOL}.parquet``: sort by any column, filter any columns
with the page's filter-box syntax, one page of rows at a time. The served page gets a
small script (``templates/explore.js``, its hash added to the page's policy with
``connect-src 'self'``) that makes the combinations table page through the API; the file
on disk is not changed.

How it stays fast over 10^7 rows (bench/explore.py measures it): the table is loaded
once at start into DuckDB's own in-memory storage (:func:`open_combos`); a filter is one
DuckDB scan with bound parameters giving the matching rows; the order of every sorted
column is a numpy index built on its first use and kept, so a page at any offset is a
slice of it, and a filtered page a gather of the filter's rows in that order (both kept
for the next pages of the same query).
"""

from __future__ import annotations

import http.server
import json
import math
import re
import signal
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.analysis.report import MT5_COLUMNS, TEMPLATES, inline, source_hash
from backtest.runner.outputs import result_paths
from backtest.runner.store import METRIC_TYPES, PARAM_TYPES, combos_schema, open_table, widened

if TYPE_CHECKING:
    import duckdb

SCRIPT = "explore.js"  # injected into the served report page
LIMIT = 1000  # rows per page by default
MAX_LIMIT = 10_000  # and at most
ROW = "row"  # run order (the row's position in the Parquet file): ties break by it
CACHED = 8  # filters and filtered orders kept for the next pages
ORDERS = 12  # sort orders kept (4 bytes a row each)
_POLICY = re.compile(r'(<meta http-equiv="Content-Security-Policy" content=")([^"]*)(">)')


class ExploreError(ValueError):
    """A run folder or a query that cannot be served; the message says why."""


def load_combos(path: Path) -> pa.Table:
    """The results table ``path`` (checked to have :func:`combos_schema`'s columns) in
    memory, one chunk per column: ``row`` first (the row's position in the file: run
    order), then its columns (text dictionary-encoded), then :data:`DERIVED`."""
    import duckdb
    import pyarrow.parquet as pq

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
    con = duckdb.connect(":memory:")
    con.register("raw", table)
    derived = ", ".join(f"{sql} AS {name}" for name, sql in DERIVED.items())
    extra = con.execute(f"SELECT {derived} FROM raw").fetchnumpy()
    con.close()
    table = table.add_column(0, ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    for name in DERIVED:
        table = table.append_column(
            name, pa.array(np.ma.filled(extra[name], np.nan), mask=np.ma.getmaskarray(extra[name]))
        )
    return table


def open_combos(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory) where ``table`` (:func:`load_combos`) is the view
    ``combos``: queried where it lies, not copied."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.register("combos", table)
    return con


def _kind(kind: pa.DataType) -> str:
    """How a column compares: ``number`` (ints, floats, flags as 0/1), ``text`` or ``list``."""
    if pa.types.is_list(kind):
        return "list"
    if pa.types.is_string(kind):
        return "text"
    return "number"


# The report's MT5 columns (report.MT5_COLUMNS, computed as its _mt5_columns does: None
# without trades, and where not finite), as columns of the loaded table.
DERIVED = {
    "recovery_factor": "CASE WHEN trades > 0 THEN CASE WHEN max_dd_r > 0 THEN total_r / max_dd_r "
    "WHEN coalesce(total_r, 0) > 0 THEN NULL ELSE 0.0 END END",
    "expected_payoff": "CASE WHEN trades > 0 THEN total_pnl / trades END",
}
assert set(DERIVED) == set(MT5_COLUMNS), "every MT5 column of the report, and no other"
COLUMN_KINDS: dict[str, str] = {
    **{f.name: _kind(f.type) for f in combos_schema()},
    **dict.fromkeys(DERIVED, "number"),
}
PARAMS = tuple(PARAM_TYPES)
METRICS = (*METRIC_TYPES, *DERIVED)


def _ident(column: str) -> str:
    """``column`` quoted for SQL, after checking it is a column of the results table."""
    if column not in COLUMN_KINDS and column != ROW:
        raise ExploreError(f"unknown column {column!r} (columns: {', '.join(COLUMN_KINDS)})")
    return f'"{column}"'


def _label(column: str) -> str:
    """SQL for a column's value as the page shows it in text (a list as ``[0,1]``, a
    missing value as ``''``): what ``=text`` and substring filters compare."""
    name = _ident(column)
    if COLUMN_KINDS[column] == "list":
        return f"coalesce('[' || array_to_string({name}, ',') || ']', '')"
    return f"coalesce(CAST({name} AS VARCHAR), '')"


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_RANGE = re.compile(r"^(.*?)\s*\.\.\s*(.*)$")
_COMPARE = re.compile(r"^(>=|<=|!=|>|<|=)\s*(.*)$")


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.match(text) else None


def filter_sql(column: str, text: str) -> tuple[str, list[Any]] | None:
    """One filter box's text on ``column`` as SQL with ``?`` parameters, read as the
    report page reads it: ``>=100``, ``<0``, ``=1``, ``!=0`` compare numbers (missing values
    match only ``!=``), ``0.5..1.5`` is a range, ``=text``/``!=text`` the whole shown
    value, anything else a case-blind substring of it. None for an empty box;
    ExploreError when a number comparison is asked of a text column or is not a number."""
    text = text.strip()
    if not text:
        return None
    name = _ident(column)
    # numbers as doubles (flags 0/1); "+ 0.0" keeps the comparison in DuckDB: pushed into
    # its scan of the Arrow column, a float comparison took 9 times as long (duckdb 1.1.3,
    # bench/explore.py)
    value = f"(CAST({name} AS DOUBLE) + 0.0)"
    if found := _RANGE.match(text):
        low, high = _number(found.group(1)), _number(found.group(2))
        if low is None or high is None:
            raise ExploreError(f'filter on {column}: "{text}" is not a range of numbers')
        _numeric(column, text)
        return f"{value} BETWEEN ? AND ?", [low, high]
    if found := _COMPARE.match(text):
        op, operand = found.group(1), found.group(2)
        number = _number(operand)
        if number is None:
            if op in ("=", "!="):
                return f"{_label(column)} {'=' if op == '=' else '<>'} ?", [operand]
            raise ExploreError(
                f'filter on {column}: "{operand}" is not a number ({op} compares numbers)'
            )
        _numeric(column, text)
        if op == "!=":
            return f"({value} IS NULL OR {value} <> ?)", [number]
        return f"{value} {op} ?", [number]
    return f"contains(lower({_label(column)}), ?)", [text.lower()]


def _numeric(column: str, text: str) -> None:
    if COLUMN_KINDS[column] != "number":
        raise ExploreError(
            f'filter on {column}: "{text}" compares numbers and {column} holds '
            f"{COLUMN_KINDS[column]}: use =text or a part of the text"
        )


def where_sql(filters: dict[str, str]) -> tuple[str, list[Any]]:
    """Every filter ANDed: the WHERE clause (``TRUE`` when none) and its parameters."""
    parts, params = [], []
    for column, text in sorted(filters.items()):
        read = filter_sql(column, text)
        if read is not None:
            parts.append(read[0])
            params.extend(read[1])
    return (" AND ".join(parts) or "TRUE"), params


@dataclass(frozen=True)
class Query:
    """One request of the API: sort column and direction, filters, page."""

    sort: str = ROW
    desc: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    limit: int = LIMIT

    @classmethod
    def parse(cls, query: str) -> Query:
        """From a URL's query string: ``sort=total_r&desc=1&offset=0&limit=100`` and
        ``filter=COLUMN:TEXT`` (repeated; TEXT as in the page's filter boxes)."""
        args = urllib.parse.parse_qs(query, keep_blank_values=True)
        unknown = set(args) - {"sort", "desc", "offset", "limit", "filter"}
        if unknown:
            raise ExploreError(f"unknown parameter {sorted(unknown)[0]!r}")
        sort = args.get("sort", [ROW])[-1] or ROW
        _ident(sort)
        filters: dict[str, str] = {}
        for item in args.get("filter", []):
            column, colon, text = item.partition(":")
            if not colon:
                raise ExploreError(f"filter {item!r}: not COLUMN:TEXT")
            _ident(column)
            filters[column] = text
        return cls(
            sort=sort,
            desc=args.get("desc", ["0"])[-1] in ("1", "true"),
            filters=tuple(sorted(filters.items())),
            offset=_whole(args.get("offset", ["0"])[-1], "offset", 10**12),
            limit=_whole(args.get("limit", [str(LIMIT)])[-1], "limit", MAX_LIMIT, 1),
        )


def _whole(text: str, name: str, high: int, low: int = 0) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ExploreError(f"{name}: {text!r} is not a whole number in {low}..{high}")
    return int(text)


def _json_value(value: Any) -> Any:
    """A cell for JSON: NaN and infinities as None."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _sort_sql(column: str) -> str:
    """What a column sorts by: numbers (flags as 0/1) as numbers, text as text (binary
    order), a list by its shown text."""
    kind = COLUMN_KINDS.get(column, "number")
    if kind == "number":
        return f"CAST({_ident(column)} AS DOUBLE)"
    return f"CASE WHEN {_ident(column)} IS NOT NULL THEN {_label(column)} END"


class Combos:
    """The run's combinations (:func:`load_combos`) queried through DuckDB
    (:func:`open_combos`); :meth:`query` answers one API request.

    A column's sort order (row numbers, both directions apart) is built in a background
    thread on its first use and kept (the last :data:`ORDERS`); until it is there DuckDB
    answers with its top-N sort (fast near the start of the order). A filter's rows, and
    their order under a sort, are kept for the next pages (the last :data:`CACHED`)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.count = table.num_rows
        self.con = open_combos(table)
        self._orders: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
        self._building: set[tuple[str, bool]] = set()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self.con.close()

    def _fetch(self, sql: str, params: list[Any] | None = None) -> dict[str, np.ndarray]:
        """``sql``'s columns as numpy arrays; one connection per call (DuckDB's are not
        shared between threads), the table registered on it (a view, not a copy)."""
        cursor = self.con.cursor()
        try:
            cursor.register("combos", self.table)
            return cast(dict[str, np.ndarray], cursor.execute(sql, params or []).fetchnumpy())
        finally:
            cursor.close()

    def _sort_key(self, column: str) -> np.ndarray:
        """Each row's sort key in run order, ascending, from the columns in memory (what
        :func:`_sort_sql` sorts by in DuckDB): a number (flags 0/1), or the rank of the
        row's text (a list's shown text) among the column's distinct ones in binary
        order; NaN for a missing value."""
        if column == ROW:
            return np.arange(self.count, dtype=np.float64)
        values = self.table.column(column)
        if COLUMN_KINDS[column] == "number":
            as_float = pc.cast(values, pa.float64(), safe=False)
            return np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)
        if COLUMN_KINDS[column] == "list":
            inner = pc.binary_join(pc.cast(values, pa.list_(pa.string())), ",")
            values = pc.binary_join_element_wise("[", inner, "]", "")
        if not pa.types.is_dictionary(values.type):
            values = pc.dictionary_encode(values)
        coded = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        rank = np.empty(len(coded.dictionary), dtype=np.float64)
        rank[np.asarray(pc.sort_indices(coded.dictionary))] = np.arange(len(rank))
        codes = np.asarray(pc.fill_null(coded.indices, -1).to_numpy(zero_copy_only=False))
        return np.where(codes >= 0, rank[np.maximum(codes, 0)], np.nan)

    def order(self, column: str, desc: bool) -> np.ndarray:
        """Row numbers sorted by ``column`` (missing values last either way, ties in run
        order, as the report page sorts), built now unless it is there."""
        with self._lock:
            if (column, desc) in self._orders:
                self._orders.move_to_end((column, desc))
                return self._orders[(column, desc)]
        key = self._sort_key(column)
        order = np.argsort(-key if desc else key, kind="stable")
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
                if not self._closed:  # else the server stopped during the build
                    raise
            finally:
                with self._lock:
                    self._building.discard((column, desc))

        threading.Thread(target=build, name=f"explore-order-{column}", daemon=True).start()
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

    def page(self, query: Query, build: bool = True) -> tuple[np.ndarray, int]:
        """The query's page (row numbers, in order) and how many rows match. ``build``:
        start building the sort's order when it is not there (else DuckDB sorts)."""
        order = self._ready(query.sort, query.desc) if build else None
        where, params = where_sql(dict(query.filters))
        end = query.offset + query.limit
        if order is not None and not query.filters:
            return order[query.offset : end], self.count
        if order is not None:

            def ordered() -> np.ndarray:
                mask = np.zeros(self.count, dtype=bool)
                mask[self._matching(query.filters, where, params)] = True
                return order[mask[order]]

            rows = self._kept(("order", query.filters, query.sort, query.desc), ordered)
            return rows[query.offset : end], len(rows)
        direction = "DESC" if query.desc else "ASC"
        found = self._fetch(
            f"SELECT {ROW} FROM combos WHERE {where} ORDER BY {_sort_sql(query.sort)} "
            f"{direction} NULLS LAST, {ROW} LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )[ROW]
        total = (
            self.count
            if not query.filters
            else self._kept(
                ("count", query.filters),
                lambda: len(self._matching(query.filters, where, params)),
            )
        )
        return np.asarray(found, dtype=np.int64), total

    def _matching(self, filters: Any, where: str, params: list[Any]) -> np.ndarray:
        """The rows that pass ``where`` (run order), kept for the next queries."""
        return self._kept(
            ("rows", filters),
            lambda: self._fetch(f"SELECT {ROW} FROM combos WHERE {where}", params)[ROW],
        )

    def rows(self, numbers: np.ndarray) -> list[dict[str, Any]]:
        """Rows ``numbers`` (positions in run order) as dicts, in that order: taken from
        the table by position, not searched for."""
        taken = self.table.take(pa.array(np.asarray(numbers, dtype=np.int64)))
        return [{k: _json_value(v) for k, v in row.items()} for row in taken.to_pylist()]

    def query(self, query: Query, build: bool = True) -> dict[str, Any]:
        """The API's answer: the page's rows, how many match, how long it took (ms)."""
        started = time.perf_counter()
        numbers, total = self.page(query, build)
        return {
            "rows": self.rows(numbers),
            "total": int(total),
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


def served_page(report_html: str) -> str:
    """The report page as explore serves it: ``templates/explore.js`` after the page's
    own script, allowed by its hash in the page's policy, with ``connect-src 'self'``
    (the API) added; ExploreError when the page has no policy or no body to add it to."""
    script = inline((TEMPLATES / SCRIPT).read_text(encoding="utf-8"), "script", SCRIPT)
    found = _POLICY.search(report_html)
    if found is None or "script-src " not in found.group(2) or "</body>" not in report_html:
        raise ExploreError("the report page has no Content-Security-Policy or no body")
    policy = found.group(2).replace("script-src ", f"script-src {source_hash(script)} ", 1)
    policy += "; connect-src 'self'"
    page = report_html[: found.start(2)] + policy + report_html[found.end(2) :]
    end = page.rindex("</body>")
    return f"{page[:end]}<script>{script}</script>\n{page[end:]}"


class Explorer(http.server.ThreadingHTTPServer):
    """The HTTP server: ``/`` the page, ``/api/combos`` the table (:meth:`Combos.query`)."""

    daemon_threads = True

    def __init__(self, combos: Combos, page: str, port: int = 0) -> None:
        self.combos = combos
        self.page = page.encode("utf-8")
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Explorer

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.server.page)
        elif url.path == "/api/combos":
            try:
                answer = self.server.combos.query(Query.parse(url.query))
            except ExploreError as exc:
                self._json(400, {"error": str(exc)})
            else:
                self._json(200, answer)
        else:
            self._json(404, {"error": f"{url.path}: not here (/ and /api/combos are)"})

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(value, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, "application/json", body)

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and the stop, not every request."""


def open_run(out_dir: Path, symbol: str | None, log: Callable[[str], None]) -> tuple[Combos, str]:
    """The run in ``out_dir``: its table loaded (:class:`Combos`) and its report page as
    served (written first when the run has none); ExploreError, or the results
    readers' errors, when the folder is not a run."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.report import report_path, write_report

    out_dir = Path(out_dir)
    symbol = detect_symbol([out_dir], symbol)
    parquet = result_paths(out_dir, symbol)["parquet"]
    if not parquet.is_file():
        raise ExploreError(f"{parquet}: missing (a finished run writes it; invoke merge too)")
    page = report_path(out_dir, symbol)
    if not page.is_file():
        log(f"{page}: missing; writing it (invoke report)")
        write_report(out_dir, symbol)
    log(f"loading {parquet} into memory")
    started = time.perf_counter()
    combos = Combos(load_combos(parquet))
    combos.order("total_r", True)  # the report's first sort
    log(f"loaded {combos.count:,} combinations in {time.perf_counter() - started:.1f} s")
    return combos, served_page(page.read_text(encoding="utf-8"))


class _Stopped(Exception):
    """SIGINT or SIGTERM before the server listens (while the table loads)."""


@contextmanager
def _signals(handler: Callable[..., None]) -> Iterator[None]:
    """``handler`` for SIGINT and SIGTERM while inside (the previous handlers after)."""
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def serve(
    out_dir: Path,
    symbol: str | None = None,
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Serve the run in ``out_dir`` on 127.0.0.1 (``port`` 0: a free one) until SIGINT or
    SIGTERM, then close the port and return (also when one comes while the table loads).
    ``on_ready(url)`` once it listens (opens a browser, say). From the main thread (it
    installs the signal handlers)."""
    stop = threading.Event()

    def handler(*_: Any) -> None:
        if not stop.is_set() and not serving.is_set():
            raise _Stopped
        stop.set()

    serving = threading.Event()
    with _signals(handler):
        try:
            combos, page = open_run(out_dir, symbol, log)
            serving.set()
        except _Stopped:
            log("explore: stopped while loading")
            return
        try:
            server = Explorer(combos, page, port)
        except OSError as exc:
            combos.close()
            raise ExploreError(f"--port {port}: cannot listen on 127.0.0.1: {exc}") from None
        thread = threading.Thread(target=server.serve_forever, name="explore", daemon=True)
        thread.start()
        try:
            log(f"explore: {server.url} (Ctrl-C stops it)")
            if on_ready is not None:
                on_ready(server.url)
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            combos.close()
    log("explore: stopped")
