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
# values of a parameter that can be a heatmap's axis: a square pair of such axes fits the
# heatmaps' budget for one metric (346 × 346 cells)
MAX_AXIS_VALUES = int(HEATMAP_NUMBERS**0.5)


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


def varied(
    con: duckdb.DuckDBPyConnection, params: Sequence[str], most: int = MAX_AXIS_VALUES
) -> dict[str, list[Any] | None]:
    """Each parameter that takes more than one value in the whole run: its values in axis
    order (:func:`ordered_values`), or None when it takes more than ``most`` (no axis of a
    heatmap: an optimizer's continuous parameter). Two scans, whatever the parameters."""
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(DISTINCT {p}) + max(({p} IS NULL)::INT)" for p in params)
        + f" FROM {VIEW}"
    ).fetchall()[0]
    many = {p: int(n) for p, n in zip(params, counts) if n and n > 1}
    listed = [p for p, n in many.items() if n <= most]
    found = (
        con.execute(
            "SELECT "
            + ", ".join(
                f"list(DISTINCT {p}) FILTER (WHERE {p} IS NOT NULL), bool_or({p} IS NULL)"
                for p in listed
            )
            + f" FROM {VIEW}"
        ).fetchall()[0]
        if listed
        else ()
    )
    out: dict[str, list[Any] | None] = dict.fromkeys(many)
    for n, name in enumerate(listed):
        values = list(found[2 * n] or []) + ([None] if found[2 * n + 1] else [])
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
    axes = ", ".join(names)
    # First each cell of all the axes at once (fewer rows than the run's), then the pairs.
    per_cell = ", ".join(f"{_best(m, higher[m])} AS m{k}" for k, m in enumerate(metrics))
    best = ", ".join(f"{'max' if higher[m] else 'min'}(m{k})" for k, m in enumerate(metrics))
    answer = con.sql(
        f"WITH cells AS (SELECT {axes}, {per_cell} FROM {VIEW} GROUP BY {axes}) "
        f"SELECT grouping({axes}) AS g, {axes}, {best} FROM cells "
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
    value (null, or no trades for a ratio). Two scans, whatever the metrics."""
    values = [f"(CASE WHEN isfinite({m}::DOUBLE) THEN {m}::DOUBLE END)" for m in metrics]
    stats = con.execute(
        "SELECT "
        + ", ".join(f"min({v}), max({v}), count(*) - count({v})" for v in values)
        + f" FROM {VIEW}"
    ).fetchall()[0]
    out: dict[str, Any] = {}
    buckets = []
    for k, m in enumerate(metrics):
        lo, hi, missing = stats[3 * k : 3 * k + 3]
        out[m] = {"lo": _short(lo), "hi": _short(hi), "counts": [0] * bins, "missing": missing}
        if lo is not None:
            width = (hi - lo) / bins if hi > lo else 1.0
            place = f"least(floor(({values[k]} - {lo!r}) / {width!r})::BIGINT, {bins - 1})"
            bucket = f"CASE WHEN {values[k]} IS NOT NULL THEN {place} END"  # least skips nulls
            buckets.append((k, f"{bucket} AS b{k}"))
    if buckets:
        names = [f"b{k}" for k, _ in buckets]
        found = con.sql(
            f"WITH v AS (SELECT {', '.join(e for _, e in buckets)} FROM {VIEW}) "
            f"SELECT grouping({', '.join(names)}), {', '.join(names)}, count(*) FROM v "
            f"GROUP BY GROUPING SETS ({', '.join(f'({n})' for n in names)})"
        ).fetchall()
        by_mask = {
            ((1 << len(names)) - 1) & ~(1 << (len(names) - 1 - i)): (i, k)
            for i, (k, _) in enumerate(buckets)
        }
        for row in found:
            i, k = by_mask[row[0]]
            if row[1 + i] is not None:
                out[metrics[k]]["counts"][int(row[1 + i])] = int(row[-1])
    return out


def whole_run(con: duckdb.DuckDBPyConnection, rank_by: str, higher: dict[str, bool]) -> dict:
    """What the report shows of every combination: the heatmaps' best value per cell over
    each pair of the :data:`MAX_AXES` parameters with the most values (the ranking metric
    and the lead metrics, :func:`pair_maps`), and each metric's :func:`distributions`."""
    from backtest.runner.outputs import LEAD_METRICS, table_columns

    metric_names, param_names = table_columns()
    found = varied(con, param_names)
    values = {n: v for n, v in found.items() if v is not None}
    most = sorted(values, key=lambda n: -len(values[n]))[:MAX_AXES]
    axes = [n for n in param_names if n in most]
    shown = [rank_by, *(m for m in LEAD_METRICS if m != rank_by and m in metric_names)]
    return {
        "params": axes,
        "values": {n: values[n] for n in axes},
        "varied": list(found),
        **pair_maps(con, {n: values[n] for n in axes}, shown, higher),
        "distributions": distributions(con, metric_names),
    }
