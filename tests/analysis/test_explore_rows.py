"""explore's numpy paths against what they stand for, over random tables with missing
values, NaN, infinities, -0.0 and ties: a filter's rows (:meth:`Combos.mask`) equal
plain SQL's over the same table (:func:`where_sql` in DuckDB); a page taken without the
order built (:func:`page_of`, sampled or not) and a walk of a built order (:func:`walk`)
equal the slice of the full stable sort."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.analysis import explore, explore_count, explore_digits, explore_rows
from backtest.analysis.explore import Combos
from backtest.analysis.explore_query import ROW, Query, where_sql
from backtest.analysis.explore_rows import (
    MAYBE,
    NO,
    YES,
    coded_page,
    nth_kept,
    page_of,
    text_matches,
    walk,
)

FLOATS = [-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 3.0, float("inf"), float("-inf"), float("nan")]
FLOATS += [1e-05, -125.0, 0.125]  # for text parts of digits alone
KEYS = st.sampled_from([*FLOATS, None])
# each filter syntax, on each kind of column (a float metric and parameter, ints, a flag,
# text, a list); operands near the values drawn
FILTERS = st.sampled_from(
    [
        *(f"{c}:{op}{v}" for c in ("total_r", "sl_mult", "trades", "prop_ok") for op in
          (">=", ">", "<", "<=", "=", "!=") for v in ("0", "1", "-1", "0.5", "1e999")),
        *(f"{c}:{r}" for c in ("total_r", "trades", "sl_mult")
          for r in ("0..1", "-1..0.5", "1..0")),
        "total_r:1.", "total_r:0.5", "total_r:-1.", "total_r:.0", "total_r:-0.0",
        "total_r:00.5", "total_r:1.50", "total_r:-.5", "total_r:inf", "total_r:nan",
        "total_r:=nan", "total_r:-", "total_r:1", "total_r:5", "sl_mult:5", "total_r:-1",
        "total_r:15", "total_r:12", "total_r:125", "total_r:05", "total_r:0", "total_r:1250",
        "trades:1", "trades:=12", "trades:!=12", "prop_ok:tru", "prop_ok:=false",
        "sl_mult:0.5", "sl_mult:=1.5", "direction:=long", "direction:!=long", "direction:ON",
        "direction:=", "direction:!=", "weekdays:1,2", "weekdays:=[0,2]", "weekdays:!=[1]",
        "weekdays:[",
    ]
)  # fmt: skip


default_few = explore.FEW


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    """Rows as explore holds them: ``row`` first, text dictionary-encoded."""
    n = draw(st.integers(1, 40))

    def column(values: st.SearchStrategy) -> list:
        return draw(st.lists(values, min_size=n, max_size=n))

    return pa.table(
        {
            ROW: pa.array(np.arange(n, dtype=np.int64)),
            "total_r": pa.array(column(KEYS), pa.float64()),
            "sl_mult": pa.array(column(st.sampled_from([0.5, 1.0, 1.5, None])), pa.float64()),
            "trades": pa.array(column(st.sampled_from([0, 1, 12, 120, None])), pa.int64()),
            "prop_ok": pa.array(column(st.sampled_from([True, False, None])), pa.bool_()),
            "direction": pa.array(
                column(st.sampled_from(["long", "short", "Long", "", None])), pa.string()
            ).dictionary_encode(),
            "weekdays": pa.array(
                column(st.sampled_from([[0, 2], [1, 2, 3], [1], [], None])), pa.list_(pa.int64())
            ),
        }
    )


@settings(max_examples=100, deadline=None)
@given(
    tables(),
    st.lists(FILTERS, min_size=1, max_size=3, unique_by=lambda f: f.split(":")[0]),
    st.booleans(),
)
def test_a_filter_keeps_the_rows_sql_keeps(table, texts, encoded):
    """Lists by their encoding (``encoded``) or, before it is done, by SQL; a float
    metric's part of digits alone by its digit index (``encoded``) or, before, by SQL."""
    filters = tuple(sorted(tuple(t.split(":", 1)) for t in texts))
    combos = Combos(table)
    try:
        combos.ready()
        if not encoded:
            combos._codes["weekdays"] = None  # as before the encoding is done
        else:
            combos.digits.build("total_r", combos._column("total_r"))
            assert combos.digits.wait("total_r") is not None
        where, params = where_sql(dict(filters))
        by_sql = combos._fetch(f"SELECT {ROW} FROM combos WHERE {where} ORDER BY {ROW}", params)

        assert np.flatnonzero(combos.mask(filters)).tolist() == by_sql[ROW].tolist()
    finally:
        combos.close()


@settings(max_examples=80, deadline=None)
@given(
    tables(),
    st.sampled_from(["total_r", "trades", "prop_ok", "direction", "sl_mult", "weekdays", ROW]),
    st.booleans(),
    st.sampled_from(["", "total_r:>=0", "direction:!=long"]),
    st.integers(0, 45),
    st.integers(1, 12),
    st.booleans(),
)
def test_a_page_is_the_same_before_and_after_the_order_is_built(
    table, column, desc, text, offset, limit, few
):
    """``few``: a filter's rows sorted alone (explore.FEW), else ranked in the whole key."""
    query = Query.parse(f"sort={column}&desc={int(desc)}&offset={offset}&limit={limit}"
                        + (f"&filter={text}" if text else ""))  # fmt: skip
    combos = Combos(table)
    explore.FEW, default = (default_few if few else -1), explore.FEW
    try:
        combos.ready()
        before = combos.page(query, build=False)
        order = combos.order(column, desc)
        keep = combos.mask(query.filters) if query.filters else np.ones(len(order), bool)
        expected = order[keep[order]][offset : offset + limit]
        after = combos.page(query)

        assert before[0].tolist() == after[0].tolist() == expected.tolist()
        assert before[1] == after[1] == int(keep.sum())
    finally:
        explore.FEW = default
        combos.close()


@settings(max_examples=25, deadline=None)
@given(
    tables(),
    st.sampled_from(["1", "12", "125", "0", "99", "05"]),
    st.sampled_from(["", "trades:>=1", "direction:!=long", "sl_mult:1"]),
    st.sampled_from(["total_r", "trades", "direction", "weekdays", ROW]),
    st.booleans(),
    st.integers(1, 12),
    st.sampled_from([60.0, 0.0]),
)
def test_a_first_page_before_its_count_is_the_counted_pages_start(
    table, digits, other, column, desc, limit, budget
):
    """A float metric's part of digits alone before its digit index: the first page (the
    sort's order built or not) comes uncounted (total None), walked a few rows at
    a time, and is the first rows of the whole mask's; the count comes after. Out of
    time (a budget of 0: the first chunk only) it is the start of them, not whole."""
    combos = Combos(table)
    default = explore_count.FIRST, explore_count.BUDGET, explore_count.LEAST
    # chunks of 5, 20, ..: no give-up with 60 s
    explore_count.FIRST, explore_count.BUDGET, explore_count.LEAST = 5, budget, 1
    try:
        combos.ready()
        combos.digits.close()  # no index built: each new part's count stays slow
        for built in (False, True):
            spaces = "%20" * built  # a new filter (its rows not kept), the same part
            query = Query.parse(
                f"sort={column}&desc={int(desc)}&limit={limit}&filter=total_r:{digits}{spaces}"
                + (f"&filter={other}" if other else "")
            )
            if built:
                combos.order(column, desc)
            first = combos.page(query, build=built)
            combos.counting.wait(query.filters)
            order = combos.order(column, desc)
            keep = combos.mask(query.filters)
            expected = order[keep[order]][:limit].tolist()

            again = combos.page(query)

            assert first.total is None
            assert first.rows.tolist() == expected[: len(first.rows)]  # its start, exact
            assert first.whole or (budget == 0.0 and len(first.rows) < limit)
            if first.whole:
                assert first.rows.tolist() == expected
            assert (again.rows.tolist(), again.total, again.whole) == (
                expected,
                int(keep.sum()),
                True,
            )
    finally:
        explore_count.FIRST, explore_count.BUDGET, explore_count.LEAST = default
        combos.close()


@pytest.mark.parametrize("sample", [4, 1 << 15])
@settings(max_examples=300, deadline=None)
@given(
    st.lists(KEYS.filter(lambda v: v is not None), min_size=0, max_size=300),
    st.integers(0, 320),
    st.integers(1, 60),
    st.sampled_from([None, 0.0, 0.3, 0.7, 1.0]),
    st.integers(0, 9),
    st.booleans(),
)
def test_page_of_is_a_slice_of_the_stable_sort(sample, keys, offset, limit, kept, seed, spread):
    """Of every row, or of the rows a mask keeps (numbered among them): ``kept`` of them.
    ``spread``: keys of many values instead (fewer ties: the sample's bounds are tight)."""
    key = np.array(keys, dtype=np.float64)
    if spread:
        key = np.round(np.random.default_rng(seed).normal(size=len(key) * 5), 2)
    keep = None if kept is None else np.random.default_rng(seed).random(len(key)) < kept
    rows = np.arange(len(key)) if keep is None else np.flatnonzero(keep)
    offset %= len(rows) + 1  # mostly a page that has rows
    explore_rows.SAMPLE, default = sample, explore_rows.SAMPLE
    try:
        found = page_of(key, offset, limit, keep)
    finally:
        explore_rows.SAMPLE = default

    expected = rows[np.argsort(key[rows], kind="stable")][offset : offset + limit]
    assert found.tolist() == expected.tolist()


def test_a_page_in_the_middle_of_a_grid_ordered_key_ranks_few_rows(monkeypatch):
    """A run's rows follow its grid: a key whose values repeat with the grid's period. A
    sample of every k-th row, k that period, saw one value of it only and ranked the whole
    key; the random sample's bounds hold, and only the rows near the page are ranked."""
    # Arrange: period 7, a sample of 1,024 of 7,168 rows (every 7th before)
    monkeypatch.setattr(explore_rows, "SAMPLE", 1024)
    n = 1024 * 7
    key = (np.arange(n) % 7) * 1000 + np.random.default_rng(0).random(n)
    ranked: list[int] = []
    window = explore_rows._window

    def counted(values: np.ndarray, start: int, stop: int) -> np.ndarray:
        ranked.append(len(values))
        return window(values, start, stop)

    monkeypatch.setattr(explore_rows, "_window", counted)

    # Act
    found = page_of(key, n // 2, 100)

    # Assert
    assert found.tolist() == np.argsort(key, kind="stable")[n // 2 : n // 2 + 100].tolist()
    assert ranked and max(ranked) < n // 4


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 300_000), st.integers(0, 300_000), st.integers(1, 3000), st.integers(0, 9))
def test_walk_is_the_filtered_order(n, offset, limit, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(n).astype(np.int32)
    keep = rng.random(n) < rng.choice([0.0001, 0.01, 0.5, 1.0])

    assert (
        walk(order, keep, offset, limit).tolist()
        == order[keep[order]][offset : offset + limit].tolist()
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300_000), st.integers(0, 9), st.integers(0, 50))
def test_nth_kept_is_the_kept_rows_at_those_ranks(n, seed, many):
    rng = np.random.default_rng(seed)
    keep = rng.random(n) < rng.choice([0.0001, 0.01, 0.5, 1.0])
    kept = np.flatnonzero(keep)
    ranks = np.sort(rng.integers(0, len(kept), many)) if len(kept) else np.zeros(0, np.int64)

    assert nth_kept(keep, ranks).tolist() == kept[ranks].tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(KEYS.filter(lambda v: v is not None), min_size=1, max_size=6),
    st.lists(st.integers(0, 5), min_size=0, max_size=300),
    st.lists(st.booleans(), min_size=300, max_size=300),
    st.integers(0, 320),
    st.integers(1, 60),
)
def test_coded_page_is_a_slice_of_the_stable_sort(keys, codes, keep, offset, limit):
    """Keys with ties among the codes (-0.0 and 0.0, NaN twice) too, with a filter."""
    keys = np.array(keys, dtype=np.float64)
    codes = np.array(codes, dtype=np.int8) % len(keys)
    keep = np.array(keep[: len(codes)], dtype=bool)
    kept = np.flatnonzero(keep)
    expected = kept[np.argsort(keys[codes][kept], kind="stable")][offset : offset + limit]

    found = coded_page(codes, keys, offset, limit, keep)

    assert found is None or found.tolist() == expected.tolist()
    if found is None:  # it spans more values than it counts
        assert len(np.unique(keys[codes][expected])) > 1


@st.composite
def doubles(draw: st.DrawFn) -> float:
    """Doubles where a text part's test is hard: decimals of few digits (0.12, 1.5e-4,
    1e16) and a few ulps either side of them, multiples of powers of ten, any double."""
    if draw(st.booleans()):
        return draw(st.floats())
    digits = draw(st.integers(0, 10**6))
    value = float(f"{digits}e{draw(st.integers(-9, 17))}")
    for _ in range(draw(st.integers(0, 3))):
        value = float(np.nextafter(value, draw(st.sampled_from([np.inf, -np.inf]))))
    return -value if draw(st.booleans()) else value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(doubles(), min_size=1, max_size=60),
    st.one_of(
        st.from_regex(r"-?[0-9]{0,3}\.[0-9]{0,3}", fullmatch=True),
        st.sampled_from(
            ["0.", ".0", "-0.0", "00.1", "0.10", "1.0", "-.", "e", "12", "1.5e", "-", "-1"]
            + ["-0", "-12", "e-", "e+1", "nan", "inf", "-inf", "1-", "x", "1 2", "+", "."]
        ),
    ),
    st.data(),
)
def test_text_matches_a_float_is_what_sql_decides(values, part, data):
    """A yes is a text SQL finds ``part`` in, a no one it does not (a maybe either)."""
    import duckdb

    if data.draw(st.booleans()):  # a part of one value's text, around its point
        text = repr(data.draw(st.sampled_from(values)))
        dot = text.find(".")
        if dot >= 0:
            part = text[data.draw(st.integers(0, dot)) : data.draw(st.integers(dot + 1, len(text)))]
    table = pa.table({"x": pa.array(values + [None], pa.float64())})
    con = duckdb.connect()
    con.register("t", table)
    hits = con.execute(
        "SELECT contains(lower(coalesce(CAST(x AS VARCHAR), '')), ?) FROM t", [part]
    ).fetchnumpy()
    hit = next(iter(hits.values())).astype(bool)
    con.close()
    x = table.column("x").combine_chunks()
    valid = np.asarray(x.is_valid())
    found = text_matches(np.asarray(x.fill_null(0.0)), valid, part)

    if found is None:  # the part does not pin the decimal point: SQL tests every row
        assert part.isdigit()
        return
    assert not hit[found == NO].any()
    assert hit[found == YES].all()
    assert set(found.tolist()) <= {NO, YES, MAYBE}


@st.composite
def digit_doubles(draw: st.DrawFn) -> float | None:
    """Doubles of every kind of text: tiny and huge (``1e-05``, ``1.5e+300``), negative,
    integers, short decimals, nan, inf, -0.0, any double; and missing values."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        return draw(st.sampled_from([0.0, -0.0, float("nan"), float("inf"), float("-inf")]))
    if kind == 2:
        return draw(st.floats())
    value = float(f"{draw(st.integers(0, 10**6))}e{draw(st.integers(-330, 310))}")
    return -value if draw(st.booleans()) else value


@settings(max_examples=100, deadline=None)
@given(
    st.lists(digit_doubles(), min_size=1, max_size=60),
    st.one_of(st.from_regex(r"[0-9]{1,5}", fullmatch=True), st.integers(0, 40)),
    st.integers(1, 70),
)
def test_a_digit_index_tells_what_sql_decides(values, part, chunk):
    """A part of 1-5 digits (or one cut from a value's text, ``part`` its start): one or
    two digits exactly (no maybe), longer ones a yes or no only where SQL agrees; written
    ``chunk`` rows at a time."""
    import duckdb

    table = pa.table({"x": pa.array(values, pa.float64())})
    con = duckdb.connect()
    con.register("t", table)
    if isinstance(part, int):
        texts = [t for (t,) in con.execute("SELECT CAST(x AS VARCHAR) FROM t").fetchall() if t]
        digits = "".join(c if c.isdigit() else " " for c in " ".join(texts)).split() or ["7"]
        run = digits[part % len(digits)]
        part = run[part % len(run) : part % len(run) + 1 + part % 5] or run
    hits = con.execute("SELECT contains(CAST(x AS VARCHAR), ?) AS hit FROM t", [part]).fetchnumpy()
    hit = np.ma.filled(hits["hit"], False).astype(bool)
    con.close()
    explore_digits.CHUNK, default = chunk, explore_digits.CHUNK
    try:
        found = explore_digits.build_index(table.column("x").combine_chunks()).matches(part)
    finally:
        explore_digits.CHUNK = default

    assert not hit[found == NO].any()
    assert hit[found == YES].all()
    assert set(found.tolist()) <= ({NO, YES} if len(part) <= 2 else {NO, MAYBE})


def test_a_digits_query_starts_the_index_and_the_next_use_it():
    """The first part of digits alone of a float column is SQL's over every row and starts
    the column's index; once it is built the same rows come from it."""
    values = [12.5, 1.25, -312.0, None, 1e-12, float("nan"), 0.125, 125.0]
    combos = Combos(pa.table({ROW: pa.array(np.arange(8)), "total_r": pa.array(values)}))
    try:
        combos.ready()
        assert combos.digits.get("total_r") is None
        first = combos.mask((("total_r", "12"),))
        assert combos.digits.wait("total_r") is not None
        combos._cache.clear()
        after = combos.mask((("total_r", "12"),))

        assert np.flatnonzero(first).tolist() == np.flatnonzero(after).tolist() == [0, 2, 4, 6, 7]
        assert np.flatnonzero(combos.mask((("total_r", "125"),))).tolist() == [6, 7]
    finally:
        combos.close()


def test_a_first_page_walked_in_many_chunks_has_each_row_once(monkeypatch):
    """The walk of an unbuilt sort takes ranks ``start .. start + size`` a chunk at a
    time: a third chunk must start where the second ended (it once took ``start + size``
    rows from ``start``, and the chunks overlapped: a row twice on the page)."""
    # Arrange: 400 rows, every 13th has a 7 in total_r; sl_mult of 10 values (ties)
    n = 400
    table = pa.table(
        {
            ROW: pa.array(np.arange(n, dtype=np.int64)),
            "total_r": pa.array(np.where(np.arange(n) % 13 == 0, 7.5, 0.5)),
            "sl_mult": pa.array((np.arange(n) % 10) * 0.5),
        }
    )
    monkeypatch.setattr(explore_count, "FIRST", 5)
    monkeypatch.setattr(explore_count, "BUDGET", 60.0)
    monkeypatch.setattr(explore_count, "LEAST", 1)
    query = Query.parse("sort=sl_mult&limit=20&filter=total_r:7")
    combos = Combos(table)
    try:
        combos.ready()
        combos.digits.close()  # no digit index: the page is walked

        # Act
        first = combos.page(query, build=False)

        # Assert
        combos.counting.wait(query.filters)
        order = combos.order("sl_mult", False)
        keep = combos.mask(query.filters)
        assert first.total is None and first.whole
        assert first.rows.tolist() == order[keep[order]][:20].tolist()
    finally:
        combos.close()
