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


class SortedRuns:
    """Sorted runs of the combos CSV, by key (a group): each run's rows as CSV lines sorted
    by descending ``total_r`` (stable), then their ``total_r`` and line ends, appended to an
    anonymous temporary file in ``folder`` (no name: it never outlives the process); in
    memory a few numbers per run. :meth:`merge` writes the runs of some keys as one sorted
    table, whatever order they were added in."""

    def __init__(self, folder: Path) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile(dir=folder)
        self.size = 0
        self.runs: dict[Any, tuple[int, int, int]] = {}  # key -> (rows, lines at, numbers at)

    def __contains__(self, key: Any) -> bool:
        return key in self.runs

    def add(self, key: Any, table: Any, columns: list[str]) -> None:
        """The run of ``table``'s rows (a group's, in table order) under ``key``."""
        self.append(key, *sorted_run(table, columns))

    def append(self, key: Any, total_r: np.ndarray, lines: Any) -> None:
        """A run as :func:`sorted_run` gives it."""
        offsets = _line_offsets(lines)
        ends = (offsets[1:] - offsets[0]).astype(np.int64)
        lines_at = self.size
        text = _text(lines)
        self.file.write(text)
        numbers = np.asarray(total_r, dtype=np.float64).tobytes() + ends.tobytes()
        self.file.write(numbers)
        self.size += len(text) + len(numbers)
        self.runs[key] = (len(lines), lines_at, lines_at + len(text))

    def merge(self, out: Any, keys: list[Any]) -> None:
        """Write the lines of the runs of ``keys`` (in table order: ties of ``total_r`` keep
        it) to ``out``, in the stable descending order of ``total_r`` (:func:`_merge_runs`)."""
        import os

        self.file.flush()
        fd = self.file.fileno()
        totals, ends, firsts = [], [], []
        for key in keys:
            rows, lines_at, numbers_at = self.runs[key]
            numbers = os.pread(fd, 16 * rows, numbers_at) if rows else b""
            totals.append(np.frombuffer(numbers[: 8 * rows], dtype=np.float64))
            ends.append(np.frombuffer(numbers[8 * rows :], dtype=np.int64) + lines_at)
            firsts.append(lines_at)
        if not keys:
            return
        starts = np.cumsum([0, *(len(t) for t in totals)])
        _merge_runs(out, fd, np.concatenate(totals), np.concatenate(ends), np.array(firsts), starts)

    def close(self) -> None:
        self.file.close()


def sorted_run(table: Any, columns: list[str]) -> tuple[np.ndarray, Any]:
    """A table's ``total_r`` (table order) and its rows as CSV lines (:func:`csv_lines`)
    sorted by descending ``total_r``, ties in table order."""
    total_r = table.column("total_r").to_numpy(zero_copy_only=False)
    return total_r, csv_lines(table, columns).take(np.argsort(-total_r, kind="stable"))


def write_sorted_csv(
    path: Path,
    parquet: Path,
    columns: list[str],
    runs: SortedRuns | None = None,
    keys: list[Any] | None = None,
) -> None:
    """``results_combos_{SYMBOL}.csv`` from the Parquet table: every row, descending
    ``total_r``, ties in table order (group, then combination), metric columns rounded.

    Each row group is a sorted run (:class:`SortedRuns`): ``keys`` name the row groups'
    runs in ``runs`` (those prepared while the groups ran); the others are made here, in
    one pass over the table (two row groups formatted at once). The CSV is then a k-way
    merge of the runs: the whole table's stable order (from ``total_r`` alone) says which
    run each output row comes from, and each run is read front to back, one read per run
    and ``SORT_CHUNK`` output rows. Memory: ``total_r`` and a line end per row, a row
    group's lines, a chunk of output."""
    import itertools
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    wanted = columns if "total_r" in columns else [*columns, "total_r"]
    count = pq.ParquetFile(parquet).num_row_groups
    keys = list(range(count)) if keys is None else keys
    assert len(keys) == count, "one key per row group"
    own = SortedRuns(Path(path).parent) if runs is None else None
    runs = own or runs
    assert runs is not None
    missing = [n for n, key in enumerate(keys) if key not in runs]

    def run_of(group: int) -> tuple[np.ndarray, Any]:
        piece = pq.ParquetFile(parquet).read_row_group(group, columns=wanted)  # one a thread
        return sorted_run(piece, columns)

    try:
        # Arrow's kernels and numpy release the GIL: two row groups are formatted at
        # once (a pair at a time, so that no more than two are held)
        with ThreadPoolExecutor(2) as pool:
            pairs = (pool.map(run_of, missing[at : at + 2]) for at in range(0, len(missing), 2))
            for group, run in zip(missing, itertools.chain.from_iterable(pairs)):
                runs.append(keys[group], *run)
        with open(path, "wb") as out:
            out.write((",".join(columns) + "\n").encode())
            runs.merge(out, keys)
    finally:
        if own is not None:
            own.close()


def _line_offsets(lines: Any) -> np.ndarray:
    """The ``len(lines) + 1`` byte offsets of a large_string array's values."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    return offsets[lines.offset : lines.offset + len(lines) + 1]


def _merge_runs(
    out: Any,
    runs: int,
    totals: np.ndarray,
    ends: np.ndarray,
    firsts: np.ndarray,
    starts: np.ndarray,
) -> None:
    """Write the lines of the sorted runs in file ``runs`` in the stable descending order
    of ``totals`` (the table's ``total_r``, table order). Run ``r`` holds table rows
    ``starts[r]:starts[r + 1]``, its lines sorted alike, one after the other in the file
    from byte ``firsts[r]``; line ``i`` (of the runs in table order) ends at byte
    ``ends[i]``. Output row ``k`` is the next unwritten line of the run that its table
    row is in."""
    import os

    import pyarrow as pa

    run_of = np.searchsorted(starts, np.argsort(-totals, kind="stable"), side="right") - 1
    del totals
    cursor = starts[:-1].copy()  # each run's next line
    for lo in range(0, len(run_of), SORT_CHUNK):
        chunk = run_of[lo : lo + SORT_CHUNK]
        counts = np.bincount(chunk, minlength=len(cursor))
        spans, base = [], 0
        piece_offsets: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        for run in np.flatnonzero(counts):
            first, last = cursor[run], cursor[run] + counts[run]
            a = int(firsts[run]) if first == starts[run] else int(ends[first - 1])
            b = int(ends[last - 1])
            spans.append((a, b - a, base))
            piece_offsets.append(ends[first:last] - a + base)
            base += b - a
            cursor[run] = last
        text = bytearray(base)  # each run's piece read into its place
        for at, size, into in spans:
            text[into : into + size] = os.pread(runs, size, at)
        lines = pa.LargeStringArray.from_buffers(
            len(chunk), pa.py_buffer(np.concatenate(piece_offsets)), pa.py_buffer(text)
        )
        # the pieces are in run order, each run's lines in output order
        position = np.empty(len(chunk), dtype=np.int64)
        position[np.argsort(chunk, kind="stable")] = np.arange(len(chunk))
        out.write(_text(lines.take(pa.array(position))))


def csv_bytes(table: Any, columns: list[str]) -> bytes:
    """Rows of an Arrow table as CSV lines (UTF-8): the text that :func:`csv_text` (with
    rounding) writes for the same rows."""
    return bytes(_text(csv_lines(table, columns))) if table.num_rows else b""


def csv_lines(table: Any, columns: list[str]) -> Any:
    """Each row of an Arrow table as one CSV line with its ``\\n`` (a large_string array),
    formatted column by column in Arrow's compute kernels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = [_column_text(table.column(name), name) for name in columns]
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, ","), "", "\n")
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    return lines.cast(pa.large_string())


def _text(lines: Any) -> memoryview:
    """The concatenated text of a large_string array without nulls, in place (UTF-8)."""
    if len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset :]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[len(lines)]]


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


def records_json(table: Any) -> bytes | None:
    """The rows of a table as ``json.dumps`` writes :func:`table_records` of it, joined by
    ``", "`` (UTF-8); None where a value would need Python (an infinite float: the
    caller's ``json.dumps`` then refuses it as before)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return b""
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
        '{"params": {', parts[0], '}, "metrics": {', parts[1], "}}, ", ""
    )
    return bytes(_text(records.cast(pa.large_string()))[:-2])  # no ", " after the last


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
