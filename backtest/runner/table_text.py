"""Results tables as text, column by column in Arrow's kernels: the combos CSV (sorted by
``total_r`` in one pass over the table) and the inline combinations of ``results_full``,
the same bytes as the row-by-row writers (:func:`backtest.runner.outputs.csv_text`,
``json.dumps``) several times faster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from backtest.runner.store import METRIC_TYPES, PARAM_TYPES

# CSV rounding of the results tables (docs/ANALYSIS.md, "CSV rounding"): R and money
# to 4 decimals, ratios and percentages to 4 significant digits; parameters, counts and
# results_full keep full precision.
CSV_DECIMALS = {name: 4 for name in ("total_r", "avg_r", "max_dd_r", "worst_day_r", "total_pnl")}
CSV_SIGNIFICANT = {
    name: 4
    for name in ("winrate", "profit_factor", "sharpe", "max_daily_loss_pct", "max_drawdown_pct")
}


def rounded(value: float, column: str) -> float:
    """``value`` as the results CSVs show it in ``column`` (unchanged for other columns)."""
    return float(rounded_array(np.array([value], dtype=np.float64), column)[0])


def rounded_array(values: np.ndarray, column: str) -> np.ndarray:
    """:func:`rounded` of a whole column: ``CSV_DECIMALS`` places, or ``CSV_SIGNIFICANT``
    significant digits (numpy's half-to-even on the scaled value); no ``-0.0``."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if column in CSV_DECIMALS:
            return np.round(values, CSV_DECIMALS[column]) + 0.0
        if column in CSV_SIGNIFICANT:
            size = np.abs(values)
            places = CSV_SIGNIFICANT[column] - 1 - np.floor(np.log10(np.where(size > 0, size, 1)))
            places = np.where(np.isfinite(values), places, 0).astype(np.int64)
            up = np.power(10.0, np.maximum(places, 0))
            down = np.power(10.0, np.maximum(-places, 0))
            out = np.where(places >= 0, np.round(values * up) / up, np.round(values / down) * down)
            return np.where(np.isfinite(values), out, values) + 0.0
    return values


# Rows of the sorted combos table put in order at once.
SORT_CHUNK = 250_000


def write_sorted_csv(path: Path, parquet: Path, columns: list[str]) -> None:
    """``results_combos_{SYMBOL}.csv`` from the Parquet table: every row, descending
    ``total_r``, ties in table order (group, then combination), metric columns rounded.

    One pass over the table: each row group is formatted as CSV lines, sorted within
    itself (descending ``total_r``, stable) and appended to a temporary file beside
    ``path`` (a sorted run). The CSV is then a k-way merge of the runs: the whole table's
    stable order (from ``total_r`` alone) says which run each output row comes from, and
    each run is read front to back, one read per run and ``SORT_CHUNK`` output rows.
    Memory: ``total_r`` and a line offset per row, a row group's lines, a chunk of output."""
    import itertools
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    wanted = columns if "total_r" in columns else [*columns, "total_r"]
    count = pq.ParquetFile(parquet).num_row_groups

    def sorted_run(group: int) -> tuple[np.ndarray, Any]:
        piece = pq.ParquetFile(parquet).read_row_group(group, columns=wanted)  # one a thread
        total_r = piece.column("total_r").to_numpy(zero_copy_only=False)
        return total_r, csv_lines(piece, columns).take(np.argsort(-total_r, kind="stable"))

    totals, ends, written = [], [np.zeros(1, dtype=np.int64)], 0
    # Arrow's kernels and numpy release the GIL: two row groups are formatted at once (a
    # pair at a time, so that no more than two are held)
    with (
        tempfile.TemporaryFile(dir=Path(path).parent) as runs,
        open(path, "wb") as out,
        ThreadPoolExecutor(2) as pool,
    ):
        out.write((",".join(columns) + "\n").encode())
        pairs = (pool.map(sorted_run, range(at, min(at + 2, count))) for at in range(0, count, 2))
        for total_r, lines in itertools.chain.from_iterable(pairs):
            offsets = _line_offsets(lines)
            runs.write(_text_bytes(lines))
            ends.append(offsets[1:] - offsets[0] + written)
            written += int(offsets[-1] - offsets[0])
            totals.append(total_r)
        if not totals:
            return
        runs.flush()
        starts = np.cumsum([0, *(len(t) for t in totals)])
        _merge_runs(out, runs.fileno(), np.concatenate(totals), np.concatenate(ends), starts)


def _line_offsets(lines: Any) -> np.ndarray:
    """The ``len(lines) + 1`` byte offsets of a large_string array's values."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    return offsets[lines.offset : lines.offset + len(lines) + 1]


def _merge_runs(
    out: Any, runs: int, totals: np.ndarray, offsets: np.ndarray, starts: np.ndarray
) -> None:
    """Write the lines of the sorted runs in file ``runs`` in the stable descending order
    of ``totals`` (the table's ``total_r``, table order). Run ``r`` holds table rows
    ``starts[r]:starts[r + 1]``, its lines sorted alike; line ``i`` of the file spans bytes
    ``offsets[i]:offsets[i + 1]``. Output row ``k`` is the next unwritten line of the run
    that its table row is in."""
    import os

    import pyarrow as pa

    run_of = np.searchsorted(starts, np.argsort(-totals, kind="stable"), side="right") - 1
    del totals
    cursor = starts[:-1].copy()  # each run's next line
    for lo in range(0, len(run_of), SORT_CHUNK):
        chunk = run_of[lo : lo + SORT_CHUNK]
        counts = np.bincount(chunk, minlength=len(cursor))
        pieces, base = [], 0
        piece_offsets: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        for run in np.flatnonzero(counts):
            first, last = cursor[run], cursor[run] + counts[run]
            a, b = int(offsets[first]), int(offsets[last])
            pieces.append(os.pread(runs, b - a, a))
            piece_offsets.append(offsets[first + 1 : last + 1] - a + base)
            base += b - a
            cursor[run] = last
        lines = pa.LargeStringArray.from_buffers(
            len(chunk),
            pa.py_buffer(np.concatenate(piece_offsets)),
            pa.py_buffer(b"".join(pieces)),
        )
        # the pieces are in run order, each run's lines in output order
        position = np.empty(len(chunk), dtype=np.int64)
        position[np.argsort(chunk, kind="stable")] = np.arange(len(chunk))
        out.write(_text_bytes(lines.take(pa.array(position))))


def csv_bytes(table: Any, columns: list[str]) -> bytes:
    """Rows of an Arrow table as CSV lines (UTF-8): the text that :func:`csv_text` (with
    rounding) writes for the same rows."""
    return _text_bytes(csv_lines(table, columns)) if table.num_rows else b""


def csv_lines(table: Any, columns: list[str]) -> Any:
    """Each row of an Arrow table as one CSV line with its ``\\n`` (a large_string array),
    formatted column by column in Arrow's compute kernels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = [_column_text(table.column(name), name) for name in columns]
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, ","), "", "\n")
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    return lines.cast(pa.large_string())


def _text_bytes(lines: Any) -> bytes:
    """The concatenated text of a large_string array without nulls."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset :]
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[len(lines)]]


def _column_text(column: Any, name: str) -> Any:
    """One column's CSV cells as an Arrow string array, as :func:`cell_format` (and
    :func:`rounded`) shows each value. Arrow prints a float's shortest round-trip digits as
    Python's ``repr`` does, but not its layout: whole numbers get their ``.0`` back, and
    the few values Python writes with an exponent (or Arrow might) are ``repr``-ed.
    Strings and lists are formatted once per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_floating(kind):
        values = rounded_array(column.to_numpy(zero_copy_only=False), name)
        finite = np.isfinite(values)
        size = np.abs(values)
        python = ~finite | (size >= 1e15) | ((size < 1e-4) & (size > 0))
        whole = finite & ~python & (values == np.floor(values))
        text = pc.cast(pa.array(np.where(finite, values, 0.0)), pa.string())
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
        odd = np.flatnonzero(python & ~np.isnan(values))
        if len(odd):
            mask = np.zeros(len(values), dtype=bool)
            mask[odd] = True
            reprs = pa.array([repr(v) for v in values[odd].tolist()], pa.string())
            text = pc.replace_with_mask(text, pa.array(mask), reprs)
        return pc.if_else(pa.array(np.isnan(values)), "", text)
    if pa.types.is_boolean(kind):
        return pc.fill_null(pc.if_else(column, "true", "false"), "")
    if pa.types.is_integer(kind):
        return pc.fill_null(pc.cast(column, pa.string()), "")
    if pa.types.is_list(kind):
        from backtest.runner.columns import list_text

        column = list_text(column)
    encoded = pc.cast(column, pa.string()).dictionary_encode()
    text = encoded.dictionary
    special = pc.match_substring_regex(text, '[,"\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.fill_null(pc.take(pc.if_else(special, quoted, text), encoded.indices), "")


def records_json(table: Any) -> str | None:
    """The rows of a table as ``json.dumps`` writes :func:`table_records` of it, joined by
    ``", "``; None where a value would need Python (an infinite float: the caller's
    ``json.dumps`` then refuses it as before)."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return ""
    parts = []
    for names in (PARAM_TYPES, METRIC_TYPES):
        cells = []
        for name in names:
            text = _json_cells(table.column(name))
            if text is None:
                return None
            cells.append(pc.binary_join_element_wise(json.dumps(name) + ": ", text, ""))
        parts.append(pc.binary_join_element_wise(*cells, ", "))
    records = pc.binary_join_element_wise(
        '{"params": {', parts[0], '}, "metrics": {', parts[1], "}}", ""
    )
    return ", ".join(records.to_pylist())


def _json_cells(column: Any) -> Any:
    """One column's values as JSON text (null for None and NaN, as :func:`table_records`
    reads them back), or None for a column Python must write."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False)
        if np.isinf(values).any():
            return None
        return pc.if_else(pa.array(np.isnan(values)), "null", _column_text(column, ""))
    if pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
    elif pa.types.is_list(kind) and pa.types.is_integer(kind.value_type):
        from backtest.runner.columns import list_text

        text = list_text(column)
    elif pa.types.is_string(kind):
        encoded = column.dictionary_encode()
        quoted = pa.array([json.dumps(v) for v in encoded.dictionary.to_pylist()], pa.string())
        text = pc.take(quoted, encoded.indices)
    else:
        return None
    return pc.fill_null(text, "null")
