"""DuckDB's answers equal the pandas/pyarrow readers' on every query the code made before
it read runs through SQL (issue 26): top-N by each ranking with --min-trades and
--require-prop-ok, the report's order by any metric (better direction, non-finite last),
a group's best, a (group, combo) lookup, the count that qualifies, the whole-run
heatmap cells and the distributions; on random tables (hypothesis) with null and NaN
metrics, no-trade rows, drawdown-free gains and ties. The tie order is the same in
both: the lower run-order row first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.analysis.aggregates import distributions, pair_maps, top_rows
from backtest.analysis.ranking import OBJECTIVES, ranking, run_frame
from backtest.analysis.sql import (
    frame_connection,
    in_rows,
    ordered_rows,
    qualifying,
    ranked_rows,
    rows_of,
)
from backtest.analysis.table import RunTable

# Few distinct values: ties are frequent. NaN and None: a stored null, and a NaN that a
# file from elsewhere may hold (the run's own writer stores nulls).
VALUES = st.sampled_from([-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, float("inf"), float("nan"), None])
TRADES = st.sampled_from([0, 1, 5, 20])


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    """A run's rows in run order: 1..3 groups of 1..12 combinations, two parameters."""
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    n = sum(sizes)

    def column(values: st.SearchStrategy) -> list:
        return draw(st.lists(values, min_size=n, max_size=n))

    metrics = {m: column(VALUES) for m in ("total_r", "sharpe", "profit_factor", "max_dd_r")}
    metrics.update({m: column(VALUES) for m in ("avg_r", "winrate")})
    return pa.table(
        {
            "group_id": [f"g{k}" for k, size in enumerate(sizes) for _ in range(size)],
            "combo": [c for size in sizes for c in range(size)],
            "sl_mult": column(st.sampled_from([0.5, 1.0, 1.5])),
            "ib_end": column(st.sampled_from(["09:00", "10:00"])),
            **{m: pa.array(v, pa.float64(), from_pandas=False) for m, v in metrics.items()},
            "trades": column(TRADES),
            "prop_ok": column(st.sampled_from([True, False, None])),
        }
    )


def old_frame(table: pa.Table, rank_by: str) -> pd.DataFrame:
    """What :func:`run_frame` gave the old readers (RunTable.frame: nulls as NaN)."""

    class Columns:
        def frame(self, names: list[str]) -> pd.DataFrame:
            return table.select(names).to_pandas()

    return run_frame(Columns(), rank_by, require_prop_ok=True)  # type: ignore[arg-type]


def old_order(table: pa.Table, metric: str, higher: bool) -> np.ndarray:
    """The report's old order by a metric that is not an objective (report._order)."""
    values = pa.compute.cast(table.column(metric), pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.flatnonzero(np.isfinite(values))
    ranked = finite[np.argsort((-1.0 if higher else 1.0) * values[finite], kind="stable")]
    return np.concatenate([ranked, np.flatnonzero(~np.isfinite(values))])


@settings(max_examples=80, deadline=None)
@given(
    tables(),
    st.sampled_from(OBJECTIVES),
    st.sampled_from([0, 1, 6]),
    st.booleans(),
    st.integers(1, 40),
)
def test_ranking_top_n_and_counts(table, rank_by, min_trades, prop, top):
    con = frame_connection(table)
    old = ranking(old_frame(table, rank_by), rank_by, min_trades, prop)

    assert ranked_rows(con, rank_by, min_trades, prop).tolist() == old.tolist()
    assert ranked_rows(con, rank_by, min_trades, prop, top).tolist() == old[:top].tolist()
    assert qualifying(con, rank_by, min_trades, prop) == len(old)


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from(OBJECTIVES), st.data())
def test_a_groups_best_and_a_lookup(table, rank_by, data):
    con = frame_connection(table)
    groups = table.column("group_id").to_pylist()
    gid = data.draw(st.sampled_from(sorted(set(groups))))
    mine = np.flatnonzero(np.array(groups) == gid)
    frame = old_frame(table, rank_by).iloc[mine].reset_index(drop=True)
    old = ranking(frame, rank_by)
    best = mine[old[0]] if len(old) else None

    found = ranked_rows(con, rank_by, limit=1, where=f"group_id = '{gid}'")

    assert (int(found[0]) if len(found) else None) == best
    combos = table.column("combo").to_pylist()
    pairs = [(g, c) for g, c in zip(groups, combos)] + [(gid, 99), ("nope", 0)]
    assert rows_of(con, pairs) == [*range(table.num_rows), None, None]


@settings(max_examples=60, deadline=None)
@given(
    tables(),
    st.sampled_from(["total_r", "max_dd_r", "winrate", "trades", "prop_ok"]),
    st.booleans(),
)
def test_the_reports_order_by_any_metric(table, metric, higher):
    con = frame_connection(table)
    old = old_order(table, metric, higher)

    assert ordered_rows(con, metric, higher).tolist() == old.tolist()
    if metric == "max_dd_r":  # not an objective: the report orders by value
        assert top_rows(con, metric, higher, 5).tolist() == old[:5].tolist()


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from(OBJECTIVES), st.integers(1, 40))
def test_the_reports_order_by_an_objective(table, rank_by, limit):
    """The ranking, then the rows that do not rank in run order (the old report._order)."""
    con = frame_connection(table)
    ranked = ranking(old_frame(table, rank_by), rank_by)
    rest = np.setdiff1d(np.arange(table.num_rows), ranked)
    old = np.concatenate([ranked, rest])

    assert top_rows(con, rank_by, True, limit).tolist() == old[:limit].tolist()


@settings(max_examples=40, deadline=None)
@given(tables())
def test_heatmap_cells_and_distributions(table):
    con = frame_connection(table)
    values = {"sl_mult": [0.5, 1.0, 1.5], "ib_end": ["09:00", "10:00"]}
    metrics = ["total_r", "max_dd_r"]
    maps = pair_maps(con, values, metrics, {"total_r": True, "max_dd_r": False})
    frame = table.to_pandas()
    finite = frame[["sl_mult", "ib_end", *metrics]].replace([np.inf, -np.inf], np.nan)
    cells = finite.groupby(["sl_mult", "ib_end"]).agg({"total_r": "max", "max_dd_r": "min"})

    z = maps["pairs"]["sl_mult|ib_end"]
    for metric in metrics:
        for ix, x in enumerate(values["sl_mult"]):
            for iy, y in enumerate(values["ib_end"]):
                old = cells[metric].get((x, y), np.nan)
                assert z[metric][iy][ix] == (None if pd.isna(old) else old)
    shape = distributions(con, ["total_r"], bins=4)["total_r"]
    kept = finite["total_r"].dropna().to_numpy()
    assert shape["missing"] == table.num_rows - len(kept)
    if len(kept):
        lo, hi = kept.min(), kept.max()
        counts, _ = np.histogram(kept, bins=4, range=(lo, hi if hi > lo else lo + 4))
        assert shape["counts"] == counts.tolist()


def test_a_committed_run_reads_as_runtable_numbers_it(tmp_path):
    """The view over the committed Parquet table: RunTable's rows, in RunTable's order."""
    from backtest.analysis.sql import connect, query
    from tests.analysis.big_run import write_big_run

    out = write_big_run(tmp_path / "out", 2_500, group_rows=1_000)
    runs = RunTable.read(out, "GER40")
    con = connect(out)
    old = ranking(run_frame(runs, "sharpe", True), "sharpe", 5, True)

    assert ranked_rows(con, "sharpe", 5, True).tolist() == old.tolist()
    assert runs.locate([0, 999, 1000, 2499]) == (
        ["g00000", "g00000", "g00001", "g00002"],
        [0, 999, 0, 499],
    )
    found = query(con, f"SELECT group_id, combo FROM combos WHERE {in_rows([0, 999, 1000, 2499])}")
    assert sorted(zip(*found.to_pydict().values())) == [
        ("g00000", 0),
        ("g00000", 999),
        ("g00001", 0),
        ("g00002", 499),
    ]
    pairs = [("g00001", 0), ("g00002", 499), ("g00000", 1000), ("g00009", 0)]
    assert rows_of(con, pairs) == [runs.row(g, c) for g, c in pairs] == [1000, 2499, None, None]
