"""SQL over a run's combinations (DuckDB): the run's table as the view ``combos``.

A run of 10^6 or 10^7 combinations is a database to query, not a file to load: ranking,
filters, top-N, a (group, combo) lookup and the report's whole-run aggregates are SQL
over the committed ``results_combos_{SYMBOL}.parquet`` (a merged or farm-collected run
has one such table too), read by DuckDB column-wise and streaming, its memory bounded
by :data:`MEMORY_LIMIT` whatever the number of rows.

The view ``combos`` has the columns of :func:`backtest.runner.store.combos_schema`
(``group_id``, ``combo``, every parameter, every metric) and ``row``: the run-order
index (the ok groups in results order, each group's combinations in order; the order
that breaks ties everywhere, as :class:`backtest.analysis.table.RunTable` numbers rows).
A run read from its checkpoint (results not committed) has its finished groups' rows in
the view instead, gathered by :class:`RunTable`.

The connection is in memory and cannot touch the file system once the view exists:
external access is off except for reading the run's folder, the configuration is
locked, and :func:`query` runs one read-only statement (DuckDB's own parser tells its
type; anything but a query is refused).

Public API (small, for the report, rank, control, ``invoke query`` and ``invoke explore``):
open :func:`connect` (a run folder) or :func:`connect_table` (a run already read), or
:func:`memory_connection` / :func:`frame_connection` (rows in memory, with or without
their ``row``: ``invoke explore`` serves its table through the first); ask :func:`query`
/ :func:`batches` (a user's SQL, checked read-only) and :func:`count`; rank with
:func:`ranked_rows`, :func:`qualifying` and :func:`ordered_rows` (the SQL pieces
:func:`objective_sql`, :func:`rank_where`, :func:`in_rows`); look up :func:`rows_of`;
print with :func:`text_table` and :func:`cell_text`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

    from backtest.analysis.table import RunTable

VIEW = "combos"
MEMORY_LIMIT = "1GB"  # DuckDB's own limit (it spills or fails, never grows past it)
THREADS = 2
# Statement types :func:`query` runs (DuckDB's parser classifies each statement).
READ_ONLY = ("SELECT", "EXPLAIN")


class SqlError(ValueError):
    """A query that cannot run (not read-only, or DuckDB refused it); the message says why."""


def connect(out_dir: Path, symbol: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the run in ``out_dir`` (its committed results, else its
    checkpoint), the combinations as the view ``combos``."""
    return connect_table(read_run(out_dir, symbol))


def read_run(out_dir: Path, symbol: str | None = None) -> RunTable:
    """The run in ``out_dir`` (its committed results, else its checkpoint), read and
    checked once for a query and its source lines (``symbol``: when it holds several)."""
    from backtest.analysis.merge import detect_symbol
    from backtest.analysis.table import RunTable

    out_dir = Path(out_dir)
    return RunTable.read(out_dir, detect_symbol([out_dir], symbol))


def source_lines(table: RunTable) -> list[str]:
    """Where a query's numbers come from: the run's data (file or sample, its checksum),
    period, execution and code (:func:`backtest.analysis.ranking.caption`), and the sample
    data warning when the run used it."""
    from backtest.analysis.ranking import analysis_provenance, caption
    from backtest.runner.execute import sample_notice

    metadata = table.results["metadata"]
    data = metadata.get("data")
    notice = sample_notice(data) if isinstance(data, dict) else None
    lines = [f"run {table.out_dir}: {caption(analysis_provenance(table.out_dir, metadata, {}))}"]
    return lines + ([notice] if notice else [])


def connect_table(table: RunTable) -> duckdb.DuckDBPyConnection:
    """:func:`connect` for a run already read (its results checked and committed)."""
    from backtest.runner.outputs import result_paths
    from backtest.runner.store import open_table

    if table.results["metadata"].get("recovered_from_checkpoint") or not table.groups:
        rows = table.columns(_schema_names())
        return memory_connection(rows.add_column(0, "row", pa.array(np.arange(rows.num_rows))))
    con = _connection()
    parquet = result_paths(table.out_dir, table.symbol)["parquet"]
    stored = open_table(parquet)  # the results schema, one row group per ok group
    if stored.metadata.num_rows != len(table):
        raise SqlError(f"{parquet}: {stored.metadata.num_rows} rows, the run {len(table)}")
    path = str(parquet.resolve()).replace("'", "''")
    con.execute(
        f"CREATE VIEW {VIEW} AS SELECT file_row_number AS row, * EXCLUDE (file_row_number)"
        f"{_widening(stored.schema_arrow)} FROM read_parquet('{path}', file_row_number = true)"
    )
    folder = str(parquet.resolve().parent).replace("'", "''")
    con.execute(f"SET allowed_directories = ['{folder}/']")
    return _lock(con)


def memory_connection(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """A connection where ``table`` (rows in memory, its ``row`` column first) is the view
    ``combos``, queried where it lies (not copied): no file access, configuration locked.
    A table registered later on it (``con.register``) is queried where it lies too."""
    con = _connection()
    con.register(VIEW, table)
    return _lock(con)


def _connection() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(":memory:", config={"threads": THREADS, "memory_limit": MEMORY_LIMIT})
    con.execute("SET enable_progress_bar = false")
    return con


def _lock(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with file access off (but for what it was allowed) and its settings locked."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _widening(stored: pa.Schema) -> str:
    """The ``REPLACE`` clause giving an older format's columns today's type (the int64
    news windows of format 1 as DOUBLE, :data:`backtest.runner.store.LEGACY_TYPES`)."""
    from backtest.runner.store import WIDENED, combos_schema

    current = combos_schema()
    casts = [
        f'CAST("{f.name}" AS DOUBLE) AS "{f.name}"'
        for f in stored
        if f.name in WIDENED and f.type != current.field(f.name).type
    ]
    return f" REPLACE ({', '.join(casts)})" if casts else ""


def _schema_names() -> list[str]:
    from backtest.runner.store import combos_schema

    return combos_schema().names


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The answer of one read-only statement (a query: SELECT, FROM ..., WITH, DESCRIBE,
    SUMMARIZE, EXPLAIN) as an Arrow table; SqlError for anything else or what DuckDB
    refuses (a file it may not read or write, a syntax error)."""
    import duckdb

    _check_read_only(sql)
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise SqlError(f"SQL: {_first_line(exc)}") from None


def batches(
    con: duckdb.DuckDBPyConnection, sql: str, size: int = 50_000
) -> Iterator[pa.RecordBatch]:
    """:func:`query`'s answer a batch of ``size`` rows at a time (memory bounded whatever
    the answer's length)."""
    import duckdb

    _check_read_only(sql)
    try:
        reader = con.sql(sql).to_arrow_reader(size)
        yield from reader
    except duckdb.Error as exc:
        raise SqlError(f"SQL: {_first_line(exc)}") from None


def _check_read_only(sql: str) -> None:
    """SqlError unless ``sql`` is one statement of a :data:`READ_ONLY` type (by DuckDB's
    own parser)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlError(f"SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlError(f"SQL: one statement, not {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_ONLY:
        raise SqlError(f"SQL: a {kind} statement; only queries run here (the table is read-only)")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def count(con: duckdb.DuckDBPyConnection) -> int:
    """The number of combinations in the view."""
    found = con.execute(f"SELECT count(*) FROM {VIEW}").fetchall()[0]
    return int(found[0]) if found else 0


def _number(column: str) -> str:
    """``column`` as DOUBLE with NaN as NULL and -0.0 as 0.0 (numpy orders them so)."""
    return f"(CASE WHEN isnan({column}::DOUBLE) THEN NULL ELSE {column}::DOUBLE + 0.0 END)"


def objective_sql(objective: str) -> str:
    """The SQL expression of ``objective`` per row, higher is better, NULL where it is
    undefined: :func:`backtest.analysis.ranking.objective_values` (``r_over_dd`` as
    :func:`~backtest.analysis.ranking.r_over_dd` computes it, ``profit_factor`` +inf
    where no trade lost with a gain, NULL for a combination without trades)."""
    from backtest.analysis.ranking import check_objective

    check_objective(objective)
    total = _number("total_r")
    if objective == "r_over_dd":
        dd = _number("max_dd_r")
        value = (
            f"(CASE WHEN {dd} > 0 THEN {total} / {dd} "
            f"WHEN {total} > 0 THEN 'inf'::DOUBLE ELSE 0.0 END)"
        )
    elif objective == "profit_factor":
        pf = _number("profit_factor")
        value = f"(CASE WHEN {pf} IS NULL AND {total} > 0 THEN 'inf'::DOUBLE ELSE {pf} END)"
    else:
        value = _number(objective)
    return f"(CASE WHEN trades = 0 THEN NULL ELSE {_number(value)} END)"


def rank_where(
    objective: str, min_trades: int = 0, require_prop_ok: bool = False, where: str | None = None
) -> str:
    """The filters every ranking shares (``--min-trades``, ``--require-prop-ok``, a defined
    objective), and the caller's own SQL condition ``where`` (e.g. one group's rows), as
    one SQL condition."""
    out = f"{objective_sql(objective)} IS NOT NULL AND trades >= {int(min_trades)}"
    out += " AND prop_ok" if require_prop_ok else ""
    return out + (f" AND ({where})" if where else "")


def ranked_rows(
    con: duckdb.DuckDBPyConnection,
    objective: str,
    min_trades: int = 0,
    require_prop_ok: bool = False,
    limit: int | None = None,
    where: str | None = None,
) -> np.ndarray:
    """Run-order rows of the qualifying combinations (and those meeting ``where``), best
    first by ``objective`` (ties: the lower row first), at most ``limit``:
    :func:`backtest.analysis.ranking.ranking` over the whole run, in SQL (DuckDB keeps a
    top-N heap for a limit)."""
    sql = (
        f"SELECT row FROM {VIEW} WHERE {rank_where(objective, min_trades, require_prop_ok, where)} "
        f"ORDER BY {objective_sql(objective)} DESC, row" + _limit(limit)
    )
    return _rows(con, sql)


def ordered_rows(
    con: duckdb.DuckDBPyConnection, metric: str, higher: bool, limit: int | None = None
) -> np.ndarray:
    """Run-order rows best first by the column ``metric`` in its better direction
    (``higher``), rows without a finite value last; ties: the lower row first."""
    value = f"(CASE WHEN isfinite({metric}::DOUBLE) THEN {metric}::DOUBLE + 0.0 END)"
    sql = (
        f"SELECT row FROM {VIEW} ORDER BY {value} {'DESC' if higher else 'ASC'} NULLS LAST, row"
        + _limit(limit)
    )
    return _rows(con, sql)


def qualifying(
    con: duckdb.DuckDBPyConnection,
    objective: str,
    min_trades: int = 0,
    require_prop_ok: bool = False,
    where: str | None = None,
) -> int:
    """How many combinations :func:`ranked_rows` ranks (without a limit)."""
    condition = rank_where(objective, min_trades, require_prop_ok, where)
    found = con.execute(f"SELECT count(*) FROM {VIEW} WHERE {condition}").fetchall()[0]
    return int(found[0]) if found else 0


def rows_of(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, int]]) -> list[int | None]:
    """The run-order row of each (group id, combination index) of ``pairs``; None where
    the run has no such combination."""
    if not pairs:
        return []
    found = con.execute(
        f"SELECT group_id, combo, row FROM {VIEW} "
        "WHERE list_contains(?, group_id) AND list_contains(?, combo)",
        [sorted({g for g, _ in pairs}), sorted({int(c) for _, c in pairs})],
    ).fetchall()
    at = {(g, int(c)): int(r) for g, c, r in found}
    return [at.get((g, int(c))) for g, c in pairs]


def _limit(limit: int | None) -> str:
    return "" if limit is None else f" LIMIT {max(0, int(limit))}"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> np.ndarray:
    table = con.sql(sql).to_arrow_table()
    if not table.num_rows:
        return np.zeros(0, np.int64)
    return table.column(0).to_numpy().astype(np.int64, copy=False)


def in_rows(rows: Sequence[int]) -> str:
    """The SQL condition "``row`` is one of ``rows``" (whole numbers, so safe to inline)."""
    return f"row IN ({', '.join(str(int(r)) for r in rows)})" if len(rows) else "false"


def frame_connection(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """:func:`memory_connection` for rows in memory without their ``row`` (run order:
    appended), for tests and readers that hold a table in memory already."""
    return memory_connection(table.append_column("row", pa.array(np.arange(table.num_rows))))


def cell_text(value: Any) -> str:
    """One value as :func:`text_table` and the CSV print it: lists as JSON, nulls empty."""
    import json

    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def text_table(table: pa.Table, more: int = 0) -> str:
    """``table`` as aligned text columns (numbers right-aligned), with a last line saying
    how many ``more`` rows were not shown."""
    names = table.column_names
    cells = [[cell_text(v) for v in table.column(n).to_pylist()] for n in names]
    numeric = [
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
        for t in table.schema.types
    ]
    widths = [max([len(n), *map(len, c)]) for n, c in zip(names, cells)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric)
        ]
        return "  ".join(parts).rstrip()

    out = [line(names), line(["-" * w for w in widths])]
    out += [line([c[i] for c in cells]) for i in range(table.num_rows)]
    out.append(f"({table.num_rows} rows" + (f", {more} more not shown)" if more else ")"))
    return "\n".join(out) + "\n"
