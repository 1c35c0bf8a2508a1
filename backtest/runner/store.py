"""Per-combination results, column-wise: the one table format of every group's rows.

A group's combinations (``combo``, every resolved parameter, every section-6 metric) are
written by the process that ran them to its part file, atomically and durably, before the
group's checkpoint record; the record then stays small (the best combination, the part's
row count and sha256), whatever the group's size. The parts are the only copy of the
per-combination data until the run writes its results (``results_combos_{SYMBOL}.parquet``
is their concatenation, one row group per group), so resume, merge and collect read them,
and nothing holds the same data twice in JSON. Where the files are, and the rule by which
a group's rows are read: :mod:`backtest.runner.rundir`.

The column types are fixed here (:func:`combos_schema`), not inferred from a first group:
every part of every run, host and resume has the same schema. A table of an older results
format (:data:`LEGACY_TYPES`, :data:`backtest.runner.rundir.FORMAT_VERSION`) is still
opened and its rows given in today's types (:func:`widened`).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.runner.rundir import FORMAT_VERSION, PartError
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import PARAMS

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
FLOAT_PARAMS = frozenset(name for name, kind in PARAM_TYPES.items() if kind == pa.float64())


def combos_schema() -> pa.Schema:
    """``group_id``, ``combo``, the parameters, the metrics: the schema of every part and
    of ``results_combos_{SYMBOL}.parquet``."""
    fields = [pa.field("group_id", pa.string()), pa.field("combo", pa.int64())]
    fields += [pa.field(name, kind) for name, kind in PARAM_TYPES.items()]
    fields += [pa.field(name, kind) for name, kind in METRIC_TYPES.items()]
    return pa.schema(fields)


# The columns whose type an older results format stored otherwise, by format version.
# Format 1 held the news windows as int64 (whole minutes, below 2**53): float64 holds
# each exactly, so its tables are read widened, nothing lost.
LEGACY_TYPES: dict[int, dict[str, pa.DataType]] = {
    1: {"news_before": pa.int64(), "news_after": pa.int64()},
}


def table_format(schema: pa.Schema) -> int | None:
    """The results format whose columns and types ``schema`` has; None if none."""
    current = combos_schema()
    if schema.equals(current):
        return FORMAT_VERSION
    for version, types in LEGACY_TYPES.items():
        fields = [pa.field(f.name, types.get(f.name, f.type)) for f in current]
        if schema.equals(pa.schema(fields)):
            return version
    return None


def open_table(path: Path) -> pq.ParquetFile:
    """A part or results table to read, after checking that its columns and types are
    those of a results format (:func:`table_format`: a file from elsewhere is not trusted
    to be); PartError if not. Read its rows through :func:`widened`."""
    table_file = pq.ParquetFile(path)
    if table_format(table_file.schema_arrow) is None:
        raise PartError(f"{path}: not the columns and types of a results table")
    return table_file


# the columns an older format stored in another type (read widened to today's)
WIDENED = frozenset(name for types in LEGACY_TYPES.values() for name in types)


def widened(table: pa.Table) -> pa.Table:
    """``table`` (columns of a results table) with an older format's columns cast to
    today's types (:data:`LEGACY_TYPES`: int64 minutes to float64, exact); other columns
    as they are."""
    current = combos_schema()
    for name in WIDENED & set(table.column_names):
        want = current.field(name).type
        at = table.schema.get_field_index(name)
        if table.schema.field(at).type != want:
            table = table.set_column(at, current.field(name), table.column(at).cast(want))
    return table


# A resolved combination's values in schema order (KeyError: not resolved).
_PARAM_VALUES = operator.itemgetter(*PARAM_TYPES)


def param_columns(combos: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The values of each parameter (schema order) of resolved combinations: a batch's
    columns, built once for its table (:func:`batch_table`) and its digest
    (:meth:`ParamsDigest.update_columns`)."""
    if not combos:
        return [() for _ in PARAM_TYPES]
    return list(zip(*map(_PARAM_VALUES, combos)))


def batch_table(
    group_id: str,
    start: int,
    params: Sequence[dict[str, Any]],
    metrics: dict[str, np.ndarray],
    columns: Sequence[Sequence[Any]] | None = None,
) -> pa.Table:
    """The rows of combinations ``start..`` of a group: ``params`` resolved, ``metrics`` one
    array per name (NaN where the spec says null, as :func:`window_metrics` gives them);
    ``columns``: :func:`param_columns` of ``params`` when the caller has them."""
    n = len(params)
    if columns is None:
        columns = [[p.get(name) for p in params] for name in PARAM_TYPES]
    table: dict[str, pa.Array] = {
        "group_id": pa.array([group_id] * n, pa.string()),
        "combo": pa.array(np.arange(start, start + n, dtype=np.int64)),
    }
    for (name, kind), column in zip(PARAM_TYPES.items(), columns):
        table[name] = pa.array(column, kind)
    for name, kind in METRIC_TYPES.items():
        values = np.asarray(metrics[name])
        if kind == pa.float64():
            table[name] = pa.array(values.astype(np.float64), kind, from_pandas=True)
        else:
            table[name] = pa.array(values, kind)
    return pa.table(table, schema=combos_schema())


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

    def update(self, combos: Sequence[dict[str, Any]]) -> None:
        """Add resolved combinations."""
        self._hash.update(self.encoded(combos))

    @staticmethod
    def encoded(combos: Sequence[dict[str, Any]]) -> bytes:
        """What :meth:`update` hashes for ``combos`` (a search's workers encode their
        slices of a batch, the parent hashes them in order: :meth:`update_bytes`)."""
        return _encoded_columns(param_columns(combos))

    def update_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Add combinations given as :func:`param_columns` (the same bytes as
        :meth:`update` of them)."""
        self._hash.update(_encoded_columns(columns))

    def update_bytes(self, text: bytes) -> None:
        """Add combinations as :meth:`encoded` gave them."""
        self._hash.update(text)

    def update_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add combinations as rows of parameter values in schema order."""
        self._hash.update(_encoded_rows(rows))

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _encoded_rows(rows: Iterable[tuple[Any, ...]]) -> bytes:
    return "".join(f"{row!r}\n" for row in rows).encode()


def _encoded_columns(columns: Sequence[Sequence[Any]]) -> bytes:
    """:func:`_encoded_rows` of the rows of ``columns`` (schema order), float parameters
    as floats, column by column: a tuple's ``repr`` is its items' joined by ``", "``
    between parentheses (more than one item), and a column of a grid holds few
    distinct values, each turned to text once (:func:`_reprs`)."""
    cells = [
        _reprs(list(map(float, values)) if name in FLOAT_PARAMS else values)
        for name, values in zip(PARAM_TYPES, columns)
    ]
    return "".join(f"({row})\n" for row in map(", ".join, zip(*cells))).encode()


def _reprs(values: Sequence[Any]) -> list[str]:
    """``repr`` of each value; through a table of the distinct values where equal values
    have one ``repr``: values of one type of str, int, bool or float, and float zeros of
    one sign (0.0 and -0.0 are equal, their texts are not)."""
    kinds = set(map(type, values))
    if len(kinds) == 1 and kinds <= _SAME_TEXT:
        distinct = set(values)
        if float in kinds and 0.0 in distinct:
            numbers = np.array(values, dtype=np.float64)
            negative = np.signbit(numbers[numbers == 0.0])
            if negative.any() and not negative.all():
                return list(map(repr, values))
        text = {value: repr(value) for value in distinct}
        return list(map(text.__getitem__, values))
    return list(map(repr, values))


# the types whose equal values have the same ``repr`` (floats but for the zeros)
_SAME_TEXT = frozenset((str, int, bool, float))


def table_digest(table: pa.Table) -> str:
    """:class:`ParamsDigest` of a table's parameter columns (a folded group's check): the
    same text, each row's ``repr`` as :func:`pylist` gives its values, made in Arrow per
    row and in Python per distinct value of a column (a group's grid has few)."""
    import pyarrow.compute as pc

    params = table.select(list(PARAM_TYPES))
    if params.num_rows == 0:
        return ParamsDigest().hexdigest()
    texts = []
    for at, name in enumerate(PARAM_TYPES):
        reprs, codes = _distinct_reprs(params.column(name).combine_chunks())
        if at == 0:
            reprs = ["(" + r for r in reprs]
        if at == len(PARAM_TYPES) - 1:
            reprs = [r + (",)\n" if at == 0 else ")\n") for r in reprs]
        texts.append(pa.array(reprs, pa.large_string()).take(pa.array(codes)))
    rows = pc.binary_join_element_wise(*texts, pa.scalar(", ", pa.large_string()))
    offsets = np.frombuffer(rows.buffers()[1], np.int64)[rows.offset : rows.offset + len(rows) + 1]
    data = memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
    return hashlib.sha256(data).hexdigest()


def _distinct_reprs(column: pa.Array) -> tuple[list[str], np.ndarray]:
    """The ``repr`` of each distinct value of ``column`` as :func:`pylist` gives it, and
    each row's index into them. Values are told apart exactly: floats by their bits,
    strings by their bytes, lists of numbers by their text; other columns per row."""
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_floating(kind) or (
        (pa.types.is_integer(kind) or pa.types.is_boolean(kind)) and column.null_count == 0
    ):
        values = column.to_numpy(zero_copy_only=False)  # as pylist: nulls as NaN
        keys = values.view(f"u{values.itemsize}") if values.dtype.kind == "f" else values
        distinct, first, codes = np.unique(keys, return_index=True, return_inverse=True)
        reprs = [repr(v) for v in values[first].tolist()]
        if values.dtype.kind == "f":  # NaN as None, as pylist gives it
            reprs = ["None" if r == "nan" else r for r in reprs]
        return reprs, codes.reshape(-1)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = column.dictionary_encode(null_encoding="encode")
        return [repr(v) for v in encoded.dictionary.to_pylist()], encoded.indices.to_numpy()
    if (
        pa.types.is_list(kind)
        and pa.types.is_integer(kind.value_type)
        and column.null_count == 0
        and pc.list_flatten(column).null_count == 0
    ):
        text = pc.binary_join(pc.cast(column, pa.list_(pa.string())), ", ")
        encoded = text.dictionary_encode()
        return [f"[{t}]" for t in encoded.dictionary.to_pylist()], encoded.indices.to_numpy()
    return [repr(v) for v in column.to_pylist()], np.arange(len(column))
