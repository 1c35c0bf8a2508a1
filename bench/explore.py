"""``invoke explore`` over 10^7 combinations: start-up, memory and each query's time.

Writes a synthetic ``results_combos`` table of the real schema (pyarrow, seeded: 100
groups of 100,000 rows as the 10^7 scale run writes them, one row group per group; grid
parameters, random metrics with some missing) unless ``--table`` names one, loads it as
``invoke explore`` does (:func:`backtest.analysis.explore.load_combos`: Arrow in memory,
DuckDB's view of it), then times the API's queries: first pages answered by DuckDB
before a column's order is built, the builds, then pages at the start, the middle and
the end of the sorted table, filters on parameters and metrics, the next page of a
filtered query. Prints wall and CPU milliseconds per query with the machine's load
average beside them (2 cores shared: wall time is the load's as much as the code's), and
the process's resident memory.

    python -m bench.explore [--rows 10000000] [--table T.parquet] [--keep DIR] [--limit 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from backtest.analysis.explore import Combos, Query, load_combos  # noqa: E402
from backtest.runner.store import METRIC_TYPES, PARAM_TYPES, combos_schema  # noqa: E402

GROUP = 100_000
TIMES = ["07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00", "11:00"]
WEEKDAYS = [[0, 1, 2, 3, 4], [0, 1, 2, 3], [1, 2, 3, 4], [0, 2, 4]]


def _pick(rng: np.random.Generator, n: int, values: list, kind: pa.DataType) -> pa.Array:
    """``n`` values drawn from ``values`` (a grid's) as a column of type ``kind``."""
    codes = pa.array(rng.integers(0, len(values), n).astype(np.int32))
    if pa.types.is_list(kind):
        return pa.DictionaryArray.from_arrays(codes, pa.array(values, kind)).dictionary_decode()
    return pa.DictionaryArray.from_arrays(codes, pa.array(values, kind)).cast(kind)


def synthetic_table(n: int, seed: int = 0) -> pa.Table:
    """``n`` rows of :func:`combos_schema`: groups of ``GROUP``, grid parameters, metrics
    normal (counts uniform, flags 30 % true), 2 % of float metrics missing."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) // GROUP
    ids = pa.array([f"group_GER40_{g + 1:03d}" for g in range(int(group[-1]) + 1)])
    columns = {
        "group_id": pa.DictionaryArray.from_arrays(pa.array(group.astype(np.int32)), ids).cast(
            pa.string()
        ),
        "combo": pa.array(np.arange(n) % GROUP),
    }
    grid: dict[str, list] = {"direction": ["long", "short", "both"], "weekdays": WEEKDAYS}
    for name, kind in PARAM_TYPES.items():
        if name in grid:
            values = grid[name]
        elif kind == pa.string():
            values = TIMES
        elif kind == pa.float64():
            values = [round(v, 2) for v in np.linspace(0.1, 5.0, 50)]
        elif kind == pa.int64():
            values = list(range(0, 31, 5))
        else:
            values = [True, False]
        columns[name] = _pick(rng, n, values, kind)
    for name, kind in METRIC_TYPES.items():
        if kind == pa.float64():
            columns[name] = pa.array(rng.normal(size=n), mask=rng.random(n) < 0.02)
        elif kind == pa.int64():
            columns[name] = pa.array(rng.integers(0, 800, n))
        else:
            columns[name] = pa.array(rng.random(n) < 0.3)
    return pa.table(columns, schema=combos_schema())


# (what, query string, how): "duckdb": before the sort's order is built (DuckDB's top-N
# sort answers), "build": the order built (once per column and direction), "query": the API
# as it answers once the orders are built; the queries are what a user does.
STEPS = [
    ("first page by sharpe, DuckDB's top-N", "sort=sharpe&desc=1", "duckdb"),
    ("first page by ib_start (text), DuckDB's", "sort=ib_start", "duckdb"),
    ("filtered first page, DuckDB's", "sort=avg_r&filter=trades:>=400", "duckdb"),
    ("order by total_r desc built", "sort=total_r&desc=1", "build"),
    ("order by sharpe desc built", "sort=sharpe&desc=1", "build"),
    ("order by sharpe asc built", "sort=sharpe", "build"),
    ("order by ib_start asc built", "sort=ib_start", "build"),
    ("top page by total_r", "sort=total_r&desc=1", "query"),
    ("page 2 by total_r", "sort=total_r&desc=1&offset={limit}", "query"),
    ("middle page by sharpe", "sort=sharpe&desc=1&offset={middle}", "query"),
    ("last page by sharpe", "sort=sharpe&offset={last}", "query"),
    ("middle page by ib_start", "sort=ib_start&offset={middle}", "query"),
    (
        "filter trades>=400, direction=long",
        "sort=total_r&desc=1&filter=trades:>=400&filter=direction:=long",
        "query",
    ),
    (
        "the same, page 2",
        "sort=total_r&desc=1&filter=trades:>=400&filter=direction:=long&offset={limit}",
        "query",
    ),
    (
        "the same, by sharpe",
        "sort=sharpe&desc=1&filter=trades:>=400&filter=direction:=long",
        "query",
    ),
    (
        "filter range sl_mult 1..2, sharpe>1",
        "sort=total_r&desc=1&filter=sl_mult:1..2&filter=sharpe:>1",
        "query",
    ),
    ("filter text ib_start '08:'", "sort=total_r&desc=1&filter=ib_start:08:", "query"),
    ("filter profit_factor!=0 (missing match)", "sort=sharpe&filter=profit_factor:!=0", "query"),
]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def run(table: Path, limit: int) -> None:
    """Load ``table`` and time :data:`STEPS`; print the figures."""
    import duckdb

    print(
        f"table {table} ({table.stat().st_size / 1e6:.0f} MB); duckdb {duckdb.__version__}, "
        f"pyarrow {pa.__version__}, numpy {np.__version__}; load average {_load()}"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    combos = Combos(load_combos(table))
    print(
        f"load into memory (Arrow, DuckDB's view): {time.perf_counter() - wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU; {combos.count:,} rows, "
        f"{combos.table.nbytes / 1e6:.0f} MB of columns; RSS {_rss_mb():.0f} MB; "
        f"load average {_load()}"
    )
    n = combos.count
    fill = {"limit": limit, "middle": n // 2, "last": max(0, n - limit)}
    print(f"{'step':44} {'wall ms':>8} {'CPU ms':>8} {'matching':>10}  load average")
    for what, text, how in STEPS:
        query = Query.parse(text.format(**fill) + f"&limit={limit}")
        wall, cpu = time.perf_counter(), time.process_time()
        if how == "build":
            combos.order(query.sort, query.desc)
            total = n
        else:
            total = combos.query(query, build=how == "query")["total"]
        took, used = 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)
        print(f"{what:44} {took:8.0f} {used:8.0f} {total:10,}  {_load()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS after the queries {_rss_mb():.0f} MB (peak {peak:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--table", type=Path, help="a results_combos Parquet file to use")
    parser.add_argument("--keep", type=Path, help="write the synthetic table here (reused)")
    parser.add_argument("--limit", type=int, default=1000, help="rows per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="explore-bench-") as tmp:
        table = args.table
        if table is None:
            table = (args.keep or Path(tmp)) / f"results_combos_synthetic_{args.rows}.parquet"
            if not table.is_file():
                started = time.perf_counter()
                table.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(synthetic_table(args.rows), table, row_group_size=GROUP)
                print(f"wrote {table} in {time.perf_counter() - started:.1f} s")
        run(table, args.limit)


if __name__ == "__main__":
    main()
