"""The report's rows and whole-run numbers, by DuckDB over the view ``combos``
(:mod:`backtest.analysis.sql`): which rows the page embeds (the best ``report_rows`` by
the ranking, plus the selected ones), and what it shows of every combination of the run
however many it embeds: the best value of a metric per cell of each pair of varied
parameters (the whole-run heatmaps and surfaces) and each metric's distribution.

Each is one SQL query over the run's table, streaming: memory does not grow with the
number of combinations (docs/ANALYSIS.md, "Report": "A bounded page")."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from backtest.analysis.sql import VIEW, ordered_rows, rank_where, ranked_rows

if TYPE_CHECKING:
    import duckdb

REPORT_ROWS = 20_000  # combinations the page embeds (--report-rows), plus the selected ones
HEATMAP_NUMBERS = 120_000  # cells x metrics of the whole-run heatmaps, all pairs together
BINS = 40  # bars of each metric's distribution
MAX_AXES = 6  # parameters with the most values that get whole-run heatmaps (pairs of them)


def top_rows(con: duckdb.DuckDBPyConnection, rank_by: str, higher: bool, limit: int) -> np.ndarray:
    """The first ``limit`` rows of the report's order: the project's ranking for its
    objectives (:mod:`backtest.analysis.ranking`; what does not rank follows in run order),
    else by value in the metric's better direction (``higher``; non-finite last; ties: run
    order)."""
    from backtest.analysis.ranking import OBJECTIVES

    if rank_by not in OBJECTIVES:
        return ordered_rows(con, rank_by, higher, limit)
    ranked = ranked_rows(con, rank_by, limit=limit)
    if len(ranked) >= limit:
        return ranked
    rest = con.sql(
        f"SELECT row FROM {VIEW} WHERE NOT coalesce({rank_where(rank_by)}, false) "
        f"ORDER BY row LIMIT {limit - len(ranked)}"
    ).fetchnumpy()["row"]
    return np.concatenate([ranked, np.asarray(rest, dtype=np.int64)])


def take(con: duckdb.DuckDBPyConnection, rows: np.ndarray, columns: Sequence[str]) -> pa.Table:
    """The ``columns`` of ``rows`` (sorted run-order indices), in run order."""
    names = ", ".join(columns)
    return con.sql(
        f"SELECT {names} FROM {VIEW} SEMI JOIN (SELECT unnest(?::BIGINT[]) AS row) USING (row) "
        "ORDER BY row",
        params=[np.asarray(rows, dtype=np.int64).tolist()],
    ).to_arrow_table()


def value_key(value: Any) -> Any:
    """A hashable key of a parameter value that keeps 1, 1.0 and True apart (lists as JSON)."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return (type(value).__name__, value)


def ordered_values(values: Sequence[Any]) -> list[int]:
    """Indices of ``values`` in the order an axis shows them: by number when all are
    numbers, else by their text."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return sorted(
        range(len(values)), key=lambda k: values[k] if numeric else str(value_key(values[k]))
    )


def varied(con: duckdb.DuckDBPyConnection, params: Sequence[str]) -> dict[str, list[Any]]:
    """Each parameter that takes more than one value in the whole run: its values, in axis
    order (:func:`ordered_values`)."""
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(DISTINCT {p}) + max(({p} IS NULL)::INT)" for p in params)
        + f" FROM {VIEW}"
    ).fetchall()[0]
    out = {}
    for name, n in zip(params, counts or ()):
        if n and n > 1:
            values = [v for (v,) in con.sql(f"SELECT DISTINCT {name} FROM {VIEW}").fetchall()]
            out[name] = [values[k] for k in ordered_values(values)]
    return out


def _best(metric: str, higher: bool) -> str:
    value = f"(CASE WHEN isfinite({metric}::DOUBLE) THEN {metric}::DOUBLE END)"
    return f"{'max' if higher else 'min'}({value})"


def pair_maps(
    con: duckdb.DuckDBPyConnection,
    values: dict[str, list[Any]],
    metrics: Sequence[str],
    higher: dict[str, bool],
    budget: int = HEATMAP_NUMBERS,
) -> dict[str, Any]:
    """Per pair (x, y) of varied parameters and per metric, the best value over every
    combination of the run in each (x, y) cell (the others free): ``z[iy][ix]``, None
    where no combination has a finite value. One scan (GROUPING SETS). When every pair and
    metric would exceed ``budget`` numbers, only the first metric is kept, then only the
    pairs that fit (fewest cells first)."""
    names = list(values)
    pairs = sorted(
        itertools.combinations(names, 2), key=lambda p: len(values[p[0]]) * len(values[p[1]])
    )
    cells = [len(values[x]) * len(values[y]) for x, y in pairs]
    metrics = list(metrics)
    if sum(cells) * len(metrics) > budget:
        metrics = metrics[:1]
    kept, used = [], 0
    for pair, n in zip(pairs, cells):
        if used + n * len(metrics) <= budget:
            kept.append(pair)
            used += n * len(metrics)
    out: dict[str, Any] = {"metrics": metrics, "pairs": {}, "left_out": len(pairs) - len(kept)}
    if not kept:
        return out
    sets = ", ".join(f"({x}, {y})" for x, y in kept)
    best = ", ".join(_best(m, higher[m]) for m in metrics)
    grouping = f"grouping({', '.join(names)})"
    answer = con.sql(
        f"SELECT {grouping} AS g, {', '.join(names)}, {best} FROM {VIEW} "
        f"GROUP BY GROUPING SETS ({sets})"
    ).fetchall()
    index = {n: {value_key(v): i for i, v in enumerate(values[n])} for n in names}
    bit = {n: 1 << (len(names) - 1 - i) for i, n in enumerate(names)}  # 1: not grouped
    full = (1 << len(names)) - 1
    maps = {
        (x, y): {m: [[None] * len(values[x]) for _ in values[y]] for m in metrics} for x, y in kept
    }
    by_mask = {full & ~bit[x] & ~bit[y]: (x, y) for x, y in kept}
    for row in answer:
        x, y = by_mask[row[0]]
        ix = index[x][value_key(row[1 + names.index(x)])]
        iy = index[y][value_key(row[1 + names.index(y)])]
        for m, v in zip(metrics, row[1 + len(names) :]):
            maps[(x, y)][m][iy][ix] = _short(v)
    out["pairs"] = {f"{x}|{y}": z for (x, y), z in maps.items()}
    return out


def _short(value: Any) -> Any:
    from backtest.analysis.report_sections import short

    return None if value is None else short(float(value))


def distributions(
    con: duckdb.DuckDBPyConnection, metrics: Sequence[str], bins: int = BINS
) -> dict[str, Any]:
    """Each metric over every combination: ``lo``, ``hi`` and ``counts`` of ``bins`` equal
    bins between them (the last one closed), and ``missing``: how many have no finite
    value (null, or no trades for a ratio)."""
    out = {}
    for m in metrics:
        value = f"(CASE WHEN isfinite({m}::DOUBLE) THEN {m}::DOUBLE END)"
        lo, hi, missing = con.execute(
            f"SELECT min({value}), max({value}), count(*) - count({value}) FROM {VIEW}"
        ).fetchall()[0] or (None, None, 0)
        counts = [0] * bins
        if lo is not None:
            width = (hi - lo) / bins if hi > lo else 1.0
            found = con.sql(
                f"SELECT least(floor(({value} - {lo!r}) / {width!r})::BIGINT, {bins - 1}) AS b, "
                f"count(*) FROM {VIEW} WHERE {value} IS NOT NULL GROUP BY b"
            ).fetchall()
            for b, n in found:
                counts[int(b)] = int(n)
        out[m] = {"lo": _short(lo), "hi": _short(hi), "counts": counts, "missing": int(missing)}
    return out


def whole_run(con: duckdb.DuckDBPyConnection, rank_by: str, higher: dict[str, bool]) -> dict:
    """What the report shows of every combination: the heatmaps' best value per cell over
    each pair of the :data:`MAX_AXES` parameters with the most values (the ranking metric
    and the lead metrics, :func:`pair_maps`), and each metric's :func:`distributions`."""
    from backtest.runner.outputs import LEAD_METRICS, table_columns

    metric_names, param_names = table_columns()
    values = varied(con, param_names)
    most = sorted(values, key=lambda n: -len(values[n]))[:MAX_AXES]
    axes = [n for n in param_names if n in most]
    shown = [rank_by, *(m for m in LEAD_METRICS if m != rank_by and m in metric_names)]
    return {
        "params": axes,
        "values": {n: values[n] for n in axes},
        "varied": list(values),
        **pair_maps(con, {n: values[n] for n in axes}, shown, higher),
        "distributions": distributions(con, metric_names),
    }
