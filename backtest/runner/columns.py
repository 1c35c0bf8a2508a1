"""Column helpers shared by the readers of results tables (charts, report)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def list_text(column: pa.ChunkedArray | pa.Array) -> Any:
    """A list column as its JSON text per row, ``"[1, 3]"`` (what ``json.dumps`` writes)."""
    return pc.binary_join_element_wise(
        "[", pc.binary_join(pc.cast(column, pa.list_(pa.string())), ", "), "]", ""
    )


def encoded(column: pa.ChunkedArray | pa.Array) -> tuple[list[Any], np.ndarray]:
    """A column's distinct values (first seen first; lists as Python lists, nulls as None)
    and each row's index into them: per-row work in Arrow, Python only per distinct value."""
    lists = pa.types.is_list(column.type)
    if lists:  # as their JSON text, so that equal lists are one value
        column = list_text(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    codes = column.dictionary_encode(null_encoding="encode")
    values = codes.dictionary.to_pylist()
    if lists:
        values = [None if v is None else json.loads(v) for v in values]
    return values, codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
