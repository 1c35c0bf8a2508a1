"""``invoke explore`` over 10^7 combinations: start-up, memory and each query's time.

Writes a synthetic ``results_combos`` table of the real schema (pyarrow, seeded: 100
groups of 100,000 rows as the 10^7 scale run writes them, one row group per group; grid
parameters, random metrics with some missing) unless ``--table`` names one, loads it as
``invoke explore`` does (:func:`backtest.analysis.explore.load_combos`: Arrow in memory,
DuckDB's view of it), then times the API's queries (:func:`steps`): every column's
first page before its order is built (both directions), pages in the middle and at the
end before it is, the builds, pages of built orders, every filter syntax new on a built
order and on one not built, filters combined, later pages of a filter; a float metric's
first text part of digits alone (``12``, ``123``, ``12345``, one of no match, each on a
column of its own): its page (answered before its count, :mod:`explore_count`) and when
its count arrives. Prints wall and
CPU milliseconds per query with the machine's load average beside them (2 cores shared:
wall time is the load's as much as the code's), the worst of each kind of query, and
the process's resident memory.

    python -m bench.explore [--rows 10000000] [--table T.parquet] [--keep DIR] [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from backtest.analysis.explore import Combos, load_combos  # noqa: E402
from backtest.analysis.explore_digits import build_index  # noqa: E402
from backtest.analysis.explore_query import Query  # noqa: E402
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


# (kind, what, query string, how): "unbuilt": before the sort's order is built (a page
# taken without sorting), "build": the order built (once per column and direction, in
# the background), "query": the API as it answers once the orders are built. Every
# filter is new (its rows not kept yet) unless the step says "again". The worst of each
# kind is printed at the end.
DIGITS = "total_pnl:12"  # a float metric's text part of digits alone
FILTERS = [  # the first two paired last with a column (the others' pairs as before them)
    ("text part of a metric: digits", DIGITS),
    ("text part of a metric: -", "total_pnl:-"),
    ("range", "sl_mult:1..2"),
    (">=", "trades:>=400"),
    (">", "sharpe:>1"),
    ("<", "avg_r:<-1"),
    ("<=", "max_dd_r:<=0"),
    ("= number", "tp_mult:=1.5"),
    ("!= number (missing match)", "profit_factor:!=0"),
    ("=text", "direction:=long"),
    ("!=text", "ib_end:!=10:00"),
    ("text part", "ib_start:08:"),
    ("text part of a number", "trades:40"),
    ("text part of a flag", "prop_ok:tru"),
    ("=text of a number", "news_before:=10"),
    ("text part of a list", "weekdays:1,2"),
    ("=text of a list", "weekdays:=[0,2,4]"),
    ("text part of a metric", "total_pnl:0.12"),
]
SORTED = ["total_r", "sharpe", "ib_start"]  # orders built before the "query" steps


def digit_steps() -> list[tuple[str, str, str, str]]:
    """After :data:`DIGITS`'s first query: its column's digit index waited for, built
    again alone (its CPU without the queries'), then parts of 1-5 digits by it (new
    filters: ``%20`` makes ``12`` new), on a built order and on unbuilt ones."""
    column = DIGITS.split(":")[0]
    out = [
        ("digit index built (background)", "wait for it", f"filter={DIGITS}", "digits"),
        ("digit index built (background)", "built again, alone", f"filter={DIGITS}", "alone"),
    ]
    for part in ("1", "12%20%20%20", "123", "12345"):
        out.append(
            (
                "digits part, index built",
                f"{column}:{part.replace('%20', '')}",
                f"sort=total_r&desc=1&filter={column}:{part}",
                "query",
            )
        )
    # the first parts of digits alone of other float columns (their indexes not built):
    # the page, then its count, then the index waited for (not to load the next steps)
    for part, other, sort in (
        ("123", "winrate", "sort=avg_r"),
        ("12345", "avg_r", "sort=total_r&desc=1"),
        ("99999999", "worst_day_r", "sort=total_r&desc=1"),
    ):
        built = "desc=1" in sort
        out += [
            (
                "digits part, index not built",
                f"{other}:{part}; by {sort.split('&')[0][5:]}",
                f"{sort}&filter={other}:{part}",
                "first" if built else "first unbuilt",
            ),
            ("digit index built (background)", f"{other}: wait", f"filter={other}:1", "digits"),
        ]
    for part, sort in (("12%20%20%20%20", "winrate"), ("123%20%20%20", "group_id")):
        out.append(
            (
                "digits part, index built",
                f"{column}:{part.replace('%20', '')}; by {sort}",
                f"sort={sort}&filter={column}:{part}",
                "unbuilt",
            )
        )
    return out


def steps(columns: list[str]) -> list[tuple[str, str, str, str]]:
    """The queries timed: what a user does on the page, each kind in its worst places."""
    out = [
        (
            "sort, order not built: first page",
            f"{c} {'desc' if d else 'asc'}",
            f"sort={c}&desc={d}",
            "unbuilt",
        )
        for c in columns
        for d in (1, 0)
    ]
    for c in ("sharpe", "ib_start", "trades", "sl_mult", "weekdays"):
        out += [
            (
                "sort, order not built: page k",
                f"{c} middle",
                f"sort={c}&offset={{middle}}",
                "unbuilt",
            ),
            (
                "sort, order not built: page k",
                f"{c} last",
                f"sort={c}&desc=1&offset={{last}}",
                "unbuilt",
            ),
        ]
    out += [
        ("order built (background)", f"{c} {'desc' if d else 'asc'}", f"sort={c}&desc={d}", "build")
        for c in SORTED
        for d in (1, 0)
    ]
    out += [
        ("sort, order built: page k", "total_r desc top", "sort=total_r&desc=1", "query"),
        (
            "sort, order built: page k",
            "total_r desc page 2",
            "sort=total_r&desc=1&offset={limit}",
            "query",
        ),
        (
            "sort, order built: page k",
            "sharpe desc middle",
            "sort=sharpe&desc=1&offset={middle}",
            "query",
        ),
        ("sort, order built: page k", "sharpe asc last", "sort=sharpe&offset={last}", "query"),
        ("sort, order built: page k", "ib_start middle", "sort=ib_start&offset={middle}", "query"),
    ]
    for name, text in FILTERS:
        kind, how = "new filter, order built", "query"
        if text == DIGITS:  # the first on its column: its page, its count (the index started)
            kind, how = "digits part, index not built", "first"
        out.append((kind, name, f"sort=total_r&desc=1&filter={text}", how))
        if text == DIGITS:
            out += digit_steps()
    for (name, text), column in zip(FILTERS[::-1], columns):
        if column in SORTED:
            continue
        out.append(
            (
                "new filter, order not built",
                f"{name}; by {column}",
                f"sort={column}&filter={text}%20",  # %20: new (not kept) rows
                "unbuilt",
            )
        )
    both = "filter=trades:>=400&filter=direction:=long"
    out += [
        ("new filters combined", "trades>=400, =long", f"sort=total_r&desc=1&{both}", "query"),
        (
            "new filters combined",
            "trades>=400, =long, sl 1..2",
            f"sort=total_r&desc=1&{both}&filter=sl_mult:1..2",
            "query",
        ),
        (
            "new filters combined",
            "sharpe>1, ib_start 08:, !=0",
            "sort=sharpe&desc=1&filter=sharpe:>1&filter=ib_start:08:&filter=profit_factor:!=0",
            "query",
        ),
        ("filter again: page k", "page 2", f"sort=total_r&desc=1&{both}&offset={{limit}}", "query"),
        (
            "filter again: page k",
            "middle",
            f"sort=total_r&desc=1&{both}&offset={{fmiddle}}",
            "query",
        ),
        ("filter again: page k", "last", f"sort=total_r&desc=1&{both}&offset={{flast}}", "query"),
        ("filter again: page k", "other sort, built", f"sort=sharpe&desc=1&{both}", "query"),
        (
            "filter again: page k",
            "other sort, not built",
            f"sort=avg_r&{both}&offset={{fmiddle}}",
            "unbuilt",
        ),
    ]
    return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _record(
    worst: dict[str, tuple[float, float, str]],
    slowest: dict[str, tuple[float, str]],
    kind: str,
    what: str,
    took: float,
    used: float,
    matching: str,
    echo: bool,
) -> None:
    """One step's line printed (``echo``), kept in ``worst`` if it is its kind's worst by
    CPU (the code's), and in ``slowest`` if by wall time (what a user waits)."""
    if echo:
        print(f"{kind:36} {what:32} {took:8.0f} {used:8.0f} {matching:>10}  {_load()}")
    if used > worst.get(kind, (0.0, 0.0, ""))[1]:
        worst[kind] = (took, used, what)
    if took > slowest.get(kind, (-1.0, ""))[0]:
        slowest[kind] = (took, what)


# kinds of step that are work in the background, not an answer of the API: no page waits
# for them (every other kind is an answer, issue 26's "each query under 200 ms")
BACKGROUND = (
    "order built (background)",
    "digit index built (background)",
    "digits part: its count arrives",
)


def summary(slowest: dict[str, tuple[float, str]]) -> dict[str, Any]:
    """The slowest answer of the API (wall ms, its step) and the slowest count of a digits
    part to arrive, from the slowest step (wall) of each kind."""
    answers = {k: v for k, v in slowest.items() if k not in BACKGROUND}
    kind = max(answers, key=lambda k: answers[k][0])
    count = slowest.get("digits part: its count arrives", (float("nan"), ""))
    return {
        "answer_ms": answers[kind][0],
        "answer_step": f"{kind}: {answers[kind][1]}",
        "count_ms": count[0],
    }


def run(table: Path, limit: int, echo: bool = True) -> dict[str, Any]:
    """Load ``table`` and time :func:`steps`; print the figures (``echo``); the
    :func:`summary` with the rows and the memory."""
    import duckdb

    say = print if echo else (lambda *_: None)
    say(
        f"table {table} ({table.stat().st_size / 1e6:.0f} MB); duckdb {duckdb.__version__}, "
        f"pyarrow {pa.__version__}, numpy {np.__version__}; load average {_load()}"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    combos = Combos(load_combos(table))
    say(
        f"load into memory (Arrow, DuckDB's view): {time.perf_counter() - wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU; {combos.count:,} rows, "
        f"{combos.table.nbytes / 1e6:.0f} MB of columns; RSS {_rss_mb():.0f} MB; "
        f"load average {_load()}"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    combos.ready()
    say(
        "columns encoded, scratch touched (a thread started with the table): "
        f"{time.perf_counter() - wall:.1f} s more wall, {time.process_time() - cpu:.1f} s CPU; "
        f"RSS {_rss_mb():.0f} MB"
    )
    n = combos.count
    fill = {"limit": limit, "middle": n // 2, "last": max(0, n - limit)}
    say(f"{'kind':36} {'step':32} {'wall ms':>8} {'CPU ms':>8} {'matching':>10}  load")
    worst: dict[str, tuple[float, float, str]] = {}
    slowest: dict[str, tuple[float, str]] = {}
    for kind, what, text, how in steps(list(combos.table.column_names[1:])):
        if "{fmiddle}" in text or "{flast}" in text:  # of the filters of "both"
            kept = int(combos.mask(Query.parse(text.split("&offset")[0]).filters).sum())
            fill |= {"fmiddle": kept // 2, "flast": max(0, kept - limit)}
        query = Query.parse(text.format(**fill) + f"&limit={limit}")
        wall, cpu = time.perf_counter(), time.process_time()
        if how == "build":
            combos.order(query.sort, query.desc)
            total = n
        elif how in ("digits", "alone"):
            column = query.filters[0][0]
            if how == "digits":
                combos.digits.wait(column)
            else:
                build_index(combos.table.column(column).chunk(0))
            total = n
        elif how.startswith("first"):  # the page (its count pending), then the count
            answer = combos.query(query, build=how == "first")
            took, used = 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)
            found = f"{len(answer['rows'])} rows so far, searching"
            state = "counting" if answer["whole"] else found
            total = answer["total"]
            matching = state if total is None else f"{total:,}"
            _record(worst, slowest, kind, what, took, used, matching, echo)
            kind, what = "digits part: its count arrives", f"{what} (from the query)"
            combos.counting.wait(query.filters)  # the page asks again until the count is there
            total = combos.query(query, build=how == "first")["total"]
        else:
            total = combos.query(query, build=how == "query")["total"]
        took, used = 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)
        _record(worst, slowest, kind, what, took, used, f"{total:,}", echo)
    say(f"\nworst of each kind ({limit} rows a page; CPU is the code's, wall the load's too):")
    for kind, (took, used, what) in worst.items():
        say(f"{kind:36} {took:8.0f} ms wall {used:8.0f} ms CPU  ({what})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(f"RSS after the queries {_rss_mb():.0f} MB (peak {peak:.0f} MB)")
    combos.close()
    return {"rows": n, **summary(slowest), "rss_mb": _rss_mb(), "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--table", type=Path, help="a results_combos Parquet file to use")
    parser.add_argument("--keep", type=Path, help="write the synthetic table here (reused)")
    parser.add_argument("--limit", type=int, default=1000, help="rows per page")
    parser.add_argument("--json", action="store_true", help="print only the summary, as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="explore-bench-") as tmp:
        table = args.table
        if table is None:
            table = (args.keep or Path(tmp)) / f"results_combos_synthetic_{args.rows}.parquet"
            if not table.is_file():
                started = time.perf_counter()
                table.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(synthetic_table(args.rows), table, row_group_size=GROUP)
                if not args.json:
                    print(f"wrote {table} in {time.perf_counter() - started:.1f} s")
        got = run(table, args.limit, echo=not args.json)
        if args.json:
            print(json.dumps(got))


if __name__ == "__main__":
    main()
