"""A table's parameters digest (the integrity rule's check of a folded group's rows) is
the digest of its rows as Python reads them, whatever the values: made per distinct
value in Python and per row in Arrow, it must hash exactly the text the row-by-row
:class:`ParamsDigest` hashes (a differential test against it)."""

from __future__ import annotations

import math

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.runner.store import PARAM_TYPES, ParamsDigest, pylist, table_digest

# Floats that format alike or not at all alike: signed zeros, NaN (read as None),
# infinities, neighbours, and the few values a grid holds.
FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 0.1, 0.30000000000000004, 1e-5]),
    st.floats(allow_nan=True, allow_infinity=True),
)
TEXTS = st.one_of(st.sampled_from(["08:00", "long", "'", '"', "\\", "é", ""]), st.text())
INTS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, -1, 2]))


def _values(kind: pa.DataType, nulls: bool) -> st.SearchStrategy:
    """Values of a column of ``kind``; with ``nulls``, None among them (in lists too)."""
    null = [st.none()] if nulls else []
    if kind == pa.float64():
        return st.one_of(FLOATS, *null)
    if kind == pa.string():
        return st.one_of(TEXTS, *null)
    if kind == pa.bool_():
        return st.one_of(st.booleans(), *null)
    if kind == pa.int64():
        return st.one_of(INTS, *null)
    days = st.lists(st.one_of(INTS, *null), max_size=4)
    return st.one_of(st.sampled_from([[0, 1, 2, 3, 4], [], [3]]), days, *null)


@st.composite
def _column(draw: st.DrawFn, kind: pa.DataType, rows: int) -> list:
    """A column of the type, as a grid makes them: a few values repeated (nulls among
    them, or none at all: the fast paths)."""
    grid = draw(st.lists(_values(kind, draw(st.booleans())), min_size=1, max_size=3))
    return draw(st.lists(st.sampled_from(grid), min_size=rows, max_size=rows))


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(0, 12))
    columns = {name: draw(_column(kind, rows)) for name, kind in PARAM_TYPES.items()}
    split = draw(st.integers(0, rows))  # two chunks: the digest reads every chunk in order
    arrays = {}
    for name, kind in PARAM_TYPES.items():
        values = columns[name]
        arrays[name] = pa.chunked_array(
            [pa.array(values[:split], kind), pa.array(values[split:], kind)], kind
        )
    return pa.table(arrays)


def _row_by_row(table: pa.Table) -> str:
    """The digest as it was first written: each row's repr, one after another."""
    digest = ParamsDigest()
    digest.update_rows(zip(*(pylist(table.column(name)) for name in PARAM_TYPES)))
    return digest.hexdigest()


@settings(max_examples=100, deadline=None)
@given(tables())
def test_digest_is_the_row_by_row_digest(table):
    # Act
    digest = table_digest(table)

    # Assert
    assert digest == _row_by_row(table)


def test_digest_tells_signed_zeros_apart():
    # Arrange: two rows of grid values, then the same with the second's 0.0 as -0.0
    # (equal as numbers, not as text: each is its own distinct value)
    row = {
        name: {pa.float64(): 0.0, pa.string(): "08:00", pa.bool_(): False, pa.int64(): 2}.get(
            kind, [0, 1]
        )
        for name, kind in PARAM_TYPES.items()
    }
    first_float = next(n for n, k in PARAM_TYPES.items() if k == pa.float64())
    same = pa.table({n: pa.array([v, v], PARAM_TYPES[n]) for n, v in row.items()})
    signed = same.set_column(
        same.schema.get_field_index(first_float), first_float, pa.array([0.0, -0.0])
    )

    # Act
    digests = table_digest(same), table_digest(signed)

    # Assert
    assert digests == (_row_by_row(same), _row_by_row(signed))
    assert digests[0] != digests[1]
