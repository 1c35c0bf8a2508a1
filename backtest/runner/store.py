"""Per-combination results, column-wise: one part file per finished group.

A group's combinations (``combo``, every resolved parameter, every section-6 metric) are
written by the process that ran them to ``OUT/parts/{group_id}.parquet``, atomically and
durably, before the group's checkpoint record; the record then stays small (the best
combination, the part's row count and sha256), whatever the group's size. The parts are
the only copy of the per-combination data until the run writes its results
(``results_combos_{SYMBOL}.parquet`` is their concatenation, one row group per group), so
resume, merge and collect read them, and nothing holds the same data twice in JSON.

The column types are fixed here (:func:`combos_schema`), not inferred from a first group:
every part of every run, host and resume has the same schema.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.data.files import file_checksum
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import PARAMS

PARTS_DIR = "parts"
# results_full holds every combination inline up to this many in a run (io-contract).
INLINE_LIMIT = 100_000

# The Arrow type of each parameter's column, from the registry's column names.
_ARROW = {
    "string": pa.string(),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "list<int64>": pa.list_(pa.int64()),
}
PARAM_TYPES: dict[str, pa.DataType] = {p.name: _ARROW[p.column] for p in PARAMS}
_INT_METRICS = ("trades", "max_losing_streak", "skipped")
METRIC_TYPES: dict[str, pa.DataType] = {
    name: pa.int64() if name in _INT_METRICS else pa.bool_() if name == "prop_ok" else pa.float64()
    for name in METRIC_KEYS
}
_FLOAT_PARAMS = frozenset(name for name, kind in PARAM_TYPES.items() if kind == pa.float64())


class PartError(ValueError):
    """A part file that is missing or is not the one its record names."""


def combos_schema() -> pa.Schema:
    """``group_id``, ``combo``, the parameters, the metrics: the schema of every part and
    of ``results_combos_{SYMBOL}.parquet``."""
    fields = [pa.field("group_id", pa.string()), pa.field("combo", pa.int64())]
    fields += [pa.field(name, kind) for name, kind in PARAM_TYPES.items()]
    fields += [pa.field(name, kind) for name, kind in METRIC_TYPES.items()]
    return pa.schema(fields)


def open_table(path: Path) -> pq.ParquetFile:
    """A part or results table to read, after checking that its columns and types are
    :func:`combos_schema`'s (a file from elsewhere is not trusted to be); PartError if not."""
    table_file = pq.ParquetFile(path)
    if not table_file.schema_arrow.equals(combos_schema()):
        raise PartError(f"{path}: not the columns and types of a results table")
    return table_file


def batch_table(
    group_id: str, start: int, params: Sequence[dict[str, Any]], metrics: dict[str, np.ndarray]
) -> pa.Table:
    """The rows of combinations ``start..`` of a group: ``params`` resolved, ``metrics`` one
    array per name (NaN where the spec says null, as :func:`window_metrics` gives them)."""
    n = len(params)
    columns: dict[str, pa.Array] = {
        "group_id": pa.array([group_id] * n, pa.string()),
        "combo": pa.array(np.arange(start, start + n, dtype=np.int64)),
    }
    for name, kind in PARAM_TYPES.items():
        columns[name] = pa.array([p.get(name) for p in params], kind)
    for name, kind in METRIC_TYPES.items():
        values = np.asarray(metrics[name])
        if kind == pa.float64():
            columns[name] = pa.array(values.astype(np.float64), kind, from_pandas=True)
        else:
            columns[name] = pa.array(values, kind)
    return pa.table(columns, schema=combos_schema())


def records_table(group_id: str, combos: Sequence[dict[str, Any]]) -> pa.Table:
    """The rows of a group given as ``{"params", "metrics"}`` records (results_full inline)."""
    metrics = {
        name: np.array(
            [np.nan if c["metrics"].get(name) is None else c["metrics"][name] for c in combos]
        )
        for name in METRIC_KEYS
    }
    for name in _INT_METRICS + ("prop_ok",):
        metrics[name] = np.array([c["metrics"].get(name) for c in combos])
    return batch_table(group_id, 0, [c["params"] for c in combos], metrics)


def table_records(table: pa.Table) -> list[dict[str, Any]]:
    """``{"params", "metrics"}`` per row, in row order (nulls as None): a part inline."""
    params = [pylist(table.column(name)) for name in PARAM_TYPES]
    metrics = [pylist(table.column(name)) for name in METRIC_TYPES]
    return [
        {"params": dict(zip(PARAM_TYPES, p)), "metrics": dict(zip(METRIC_TYPES, m))}
        for p, m in zip(zip(*params), zip(*metrics))
    ]


def pylist(column: pa.ChunkedArray) -> list[Any]:
    """``column.to_pylist()``, through numpy where that is exact (numbers, flags): several
    times faster on the millions of cells of a large run."""
    kind = column.type
    if pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False)  # nulls as NaN
        out = values.tolist()
        for i in np.flatnonzero(np.isnan(values)).tolist():
            out[i] = None
        return out
    if (pa.types.is_integer(kind) or pa.types.is_boolean(kind)) and column.null_count == 0:
        return column.to_numpy(zero_copy_only=False).tolist()
    return column.to_pylist()


def row_record(table: pa.Table, row: int) -> dict[str, Any]:
    """One row as ``{"params", "metrics"}``."""
    return table_records(table.slice(row, 1))[0]


class ParamsDigest:
    """sha256 of a group's resolved combinations, in order: a resume compares it instead
    of the parameters themselves (which only the part or the table holds). Each
    combination is hashed as the ``repr`` of its row, parameters in schema order and
    floats as floats (``sl_mult`` 1 and 1.0 alike), as its table row reads back."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, combos: Iterable[dict[str, Any]]) -> None:
        """Add resolved combinations."""
        rows = (
            tuple(float(p[k]) if k in _FLOAT_PARAMS else p[k] for k in PARAM_TYPES) for p in combos
        )
        self.update_rows(rows)

    def update_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add combinations as rows of parameter values in schema order."""
        self._hash.update("".join(f"{row!r}\n" for row in rows).encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def part_path(out_dir: Path, group_id: str) -> Path:
    """``OUT/parts/{group_id}.parquet`` (a group id never names another folder)."""
    if Path(group_id).name != group_id or group_id in {".", ".."}:
        raise PartError(f"group_id {group_id!r} cannot name a file in {Path(out_dir) / PARTS_DIR}")
    return Path(out_dir) / PARTS_DIR / f"{group_id}.parquet"


def write_part(out_dir: Path, group_id: str, tables: Iterable[pa.Table]) -> dict[str, Any]:
    """Write a group's rows (one row group per table, as they come) to its part file,
    atomically and durably (temp file, fsync, rename, fsync of the folder); what its
    checkpoint record keeps: ``{"file", "rows", "sha256"}``."""
    target = part_path(out_dir, group_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{group_id}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, combos_schema(), compression="zstd") as writer:
            for table in tables:
                writer.write_table(table)
                rows += table.num_rows
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # as every other result file (mkstemp made it 0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return {"file": f"{PARTS_DIR}/{target.name}", "rows": rows, "sha256": file_checksum(target)}


def part_problem(out_dir: Path, record: dict[str, Any], deep: bool = True) -> str | None:
    """Why an ok record's rows are not usable; None if they are. A part file must have its
    record's sha256; rows folded into the run's table (``part.table``) must be there, as
    many as the record says, with its parameters (``deep``: their digest)."""
    part = record.get("part")
    if isinstance(part, dict) and isinstance(part.get("table"), str):
        try:
            rows = _folded_rows(Path(out_dir), record)
        except PartError as exc:
            return str(exc)
        if deep and table_digest(rows) != record.get("params_sha256"):
            return f"{part['table']}: group {record['group_id']} holds other parameters"
        return None
    if not isinstance(part, dict) or not isinstance(part.get("file"), str):
        return "its record names no part file"
    path = Path(out_dir) / part["file"]
    if Path(part["file"]).parent != Path(PARTS_DIR) or path.name != f"{record['group_id']}.parquet":
        return f"its part file {part['file']!r} is not {PARTS_DIR}/{record['group_id']}.parquet"
    if path.is_symlink():
        return f"{path} is a symbolic link (never read)"
    if not path.is_file():
        return f"{path} is missing"
    if file_checksum(path) != part.get("sha256"):
        return f"{path} is not the file its record commits (sha256 differs)"
    return None


def read_part(out_dir: Path, record: dict[str, Any]) -> pa.Table:
    """A finished group's rows from its part file (or the run's table it was folded into),
    checked against its record."""
    if "table" in (record.get("part") or {}):
        return _folded_rows(Path(out_dir), record)
    problem = part_problem(out_dir, record)
    if problem is not None:
        raise PartError(f"group {record.get('group_id')}: {problem}")
    table = pq.read_table(Path(out_dir) / record["part"]["file"], schema=combos_schema())
    if table.num_rows != record.get("combos_count") or table.num_rows != record["part"]["rows"]:
        raise PartError(f"group {record['group_id']}: its part has {table.num_rows} rows")
    return table


def folded(record: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The record once its rows are in the run's committed table ``table_name`` (its part
    file is then deleted: the data is never held twice)."""
    return {**record, "part": {"table": table_name, "rows": record["combos_count"]}}


def _folded_rows(out_dir: Path, record: dict[str, Any]) -> pa.Table:
    """A folded group's row group of ``out_dir``'s table (found by its group_id statistics)."""
    name = record["part"]["table"]
    gid = record["group_id"]
    if Path(name).name != name or not name.startswith("results_combos_"):
        raise PartError(f"group {gid}: {name!r} is not a results table of {out_dir}")
    try:
        table_file, index = _table_index(out_dir / name)
        if gid not in index:
            raise PartError(f"group {gid}: {out_dir / name} does not hold it")
        rows = table_file.read_row_group(index[gid])
    except (OSError, pa.ArrowException) as exc:
        raise PartError(f"group {gid}: {out_dir / name} is not readable: {exc}") from None
    if rows.num_rows != record.get("combos_count"):
        raise PartError(f"group {gid}: {out_dir / name} holds {rows.num_rows} of its rows")
    return rows


_TABLES: dict[Path, tuple[tuple[int, int, int], Any, dict[str, int]]] = {}


def _table_index(path: Path) -> tuple[Any, dict[str, int]]:
    """The open table file and its row group per group id, cached while the file is the
    same (a run of 10,000 groups reads its table's footer once, not once per group)."""
    stat = path.stat()
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    cached = _TABLES.get(path)
    if cached is None or cached[0] != key:
        table_file = open_table(path)
        index = {}
        for n in range(table_file.num_row_groups):
            stats = table_file.metadata.row_group(n).column(0).statistics
            if stats is not None and stats.has_min_max and stats.min == stats.max:
                index[stats.min] = n
        _TABLES.clear()
        _TABLES[path] = cached = (key, table_file, index)
    return cached[1], cached[2]


def table_digest(table: pa.Table) -> str:
    """:class:`ParamsDigest` of a table's parameter columns (a folded group's check)."""
    digest = ParamsDigest()
    digest.update_rows(zip(*(pylist(table.column(name)) for name in PARAM_TYPES)))
    return digest.hexdigest()


def group_rows(out_dir: Path, record: dict[str, Any]) -> pa.Table:
    """An ok group's rows, from its inline ``combos`` (results_full) or from its part."""
    if "combos" in record:
        return records_table(record["group_id"], record["combos"])
    return read_part(out_dir, record)
