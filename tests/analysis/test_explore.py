"""``invoke explore`` as a real process on a real run: its API sorts, filters and pages
over every row (orders computed here by hand from the Parquet file), refuses a bad column
with a 400 that names it, its page in headless Chromium pages through rows that are not
embedded in the report, and SIGINT or SIGTERM stop it with exit 0, nothing on stderr and
the port free, also while DuckDB works in the background (a larger table of its own).

The run is the runner's small one (16 combinations, its report embeds all of them); its
table then gains 60 rows the report does not hold (a run's table larger than its page),
with ties and missing values in the metrics sorted on."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.analysis.explore import Combos, load_combos
from backtest.analysis.explore_query import Query
from backtest.runner.outputs import result_paths
from backtest.runner.store import batch_table, combos_schema, row_record
from tests.analysis.report_helpers import chromium, invoke, open_page, small_run
from tests.runner.helpers import REPO, SYMBOL, runner_env

EXTRA = 60  # rows added to the run's table, not in its report


def _grow(out: Path) -> list[dict[str, Any]]:
    """The run's table with EXTRA rows appended (groups ``extra_00``..: total_r 100..106,
    repeating, so that they sort first and tie; profit_factor missing in every third);
    every row as a dict, with its position as ``row``."""
    path = result_paths(out, SYMBOL)["parquet"]
    real = pq.read_table(path)
    template = row_record(real, 0)
    metrics = {name: np.full(EXTRA, template["metrics"][name]) for name in template["metrics"]}
    k = np.arange(EXTRA)
    metrics["total_r"] = 100.0 + k % 7
    metrics["trades"] = 10 + k % 5
    metrics["profit_factor"] = np.where(k % 3 == 0, np.nan, 1.0 + k / 100)
    parts = [
        batch_table(
            f"extra_{g:02d}",
            0,
            [template["params"]] * 10,
            {n: v[10 * g : 10 * g + 10] for n, v in metrics.items()},
        )
        for g in range(EXTRA // 10)
    ]
    grown = pa.concat_tables([real, *parts])
    pq.write_table(grown, path)
    return [{"row": i, **r} for i, r in enumerate(grown.to_pylist())]


def _start(
    out: Path, *extra: Any, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """``invoke explore`` on ``out`` as a process (``env``: more environment); it and the
    URL it printed."""
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "invoke"),
            "explore",
            "--from",
            str(out),
            "--no-browser",
            *map(str, extra),
        ],
        cwd=REPO,
        env={**runner_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("explore: http://127.0.0.1:"):
            return process, line.split()[1]
    process.wait(30)
    raise AssertionError(f"no URL; exit {process.returncode}: {process.stderr.read()}")


def _stop(process: subprocess.Popen, number: int = signal.SIGINT) -> tuple[int, str, str]:
    """Signal ``number`` to the process (0: none, it was sent); its exit code, the rest of
    its output, its errors."""
    if number:
        process.send_signal(number)
    try:
        rest, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, rest, errors


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Any]:
    out = small_run(tmp_path_factory.mktemp("explore"))
    return {"out": out, "rows": _grow(out)}


@pytest.fixture(scope="module")
def server(run) -> Iterator[str]:
    process, url = _start(run["out"])
    yield url
    _stop(process)


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _api(server: str, query: str) -> dict[str, Any]:
    status, answer = _get(f"{server}api/combos?{query}")
    assert status == 200, answer
    return answer


def _ids(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["group_id"], r["combo"]) for r in rows]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sorted(rows: list[dict[str, Any]], column: str, desc: bool) -> list[dict[str, Any]]:
    """By ``column``, missing values last either way, ties in run order (as the page)."""
    present = sorted((r for r in rows if not _missing(r[column])), key=lambda r: r["row"])
    present.sort(key=lambda r: r[column], reverse=desc)  # stable: ties stay in run order
    return present + [r for r in rows if _missing(r[column])]


@pytest.mark.parametrize(
    ("column", "desc"), [("total_r", True), ("profit_factor", False), ("trades", True)]
)
def test_sorts_every_row_with_ties_and_missing_values(server, run, column, desc):
    answer = _api(server, f"sort={column}&desc={int(desc)}&limit=1000")

    assert answer["total"] == answer["count"] == 16 + EXTRA
    assert _ids(answer["rows"]) == _ids(_sorted(run["rows"], column, desc))


def test_pages_are_slices_of_the_whole_order(server, run):
    whole = _ids(_sorted(run["rows"], "total_r", True))

    pages = [_api(server, f"sort=total_r&desc=1&offset={o}&limit=7") for o in range(0, 77, 7)]

    assert [len(p["rows"]) for p in pages] == [7] * 10 + [6]
    assert sum((_ids(p["rows"]) for p in pages), []) == whole
    assert _api(server, "sort=total_r&offset=500&limit=7")["rows"] == []


def test_filters_on_parameters_and_metrics(server, run):
    direction = run["rows"][0]["direction"]
    expected = [
        r
        for r in run["rows"]
        if r["trades"] >= 12 and r["direction"] == direction and r["total_r"] <= 104
    ]
    query = f"filter=trades:>=12&filter=direction:={direction}&filter=total_r:-1000..104"

    answer = _api(server, f"sort=profit_factor&desc=1&limit=5&offset=2&{query}")

    assert answer["total"] == len(expected) > 7
    assert _ids(answer["rows"]) == _ids(_sorted(expected, "profit_factor", True)[2:7])
    # a missing value matches != only; a substring, case-blind, of the group id
    assert (
        _api(server, "filter=profit_factor:!=1.5&limit=1")["total"] == 16 + EXTRA - 1
    )  # k=50: 1.5
    assert _api(server, "filter=profit_factor:>=0&limit=1")["total"] == sum(
        not _missing(r["profit_factor"]) for r in run["rows"]
    )
    assert _api(server, "filter=group_id:EXTRA_01&limit=1")["total"] == 10


def test_duckdb_and_the_built_orders_answer_alike(run):
    """Before a sort's order is built DuckDB sorts (top-N); after, the order is sliced:
    both give the hand-computed pages."""
    combos = Combos(load_combos(result_paths(run["out"], SYMBOL)["parquet"]))
    cases = [
        ("profit_factor", False, ""),
        ("total_r", True, "&filter=trades:>=12"),
        ("group_id", True, "&filter=profit_factor:!=1.5"),
        ("weekdays", False, ""),
    ]
    try:
        for column, desc, filters in cases:
            query = Query.parse(f"sort={column}&desc={int(desc)}&offset=3&limit=9{filters}")
            kept = [
                r
                for r in run["rows"]
                if all(
                    (r["trades"] >= 12) if f == "trades:>=12" else r["profit_factor"] != 1.5
                    for f in filters.split("&filter=")[1:]
                )
            ]
            key = (lambda r: str(r["weekdays"]).replace(" ", "")) if column == "weekdays" else None
            rows = [dict(r, weekdays=key(r)) for r in kept] if key else kept
            expected = _ids(_sorted(rows, column, desc)[3:12])
            by_duckdb = combos.query(query, build=False)
            combos.order(column, desc)
            by_order = combos.query(query)

            assert _ids(by_duckdb["rows"]) == _ids(by_order["rows"]) == expected, column
            assert by_duckdb["total"] == by_order["total"] == len(kept)
    finally:
        combos.close()


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("sort=nope", "unknown column 'nope'"),
        ("filter=nope:1", "unknown column 'nope'"),
        ("sort=total_r;DROP TABLE combos", "unknown column 'total_r;DROP TABLE combos'"),
        ("filter=ib_start:>5", 'filter on ib_start: ">5" compares numbers'),
        ("filter=trades:>=many", 'filter on trades: "many" is not a number'),
        ("limit=-1", "limit: '-1' is not a whole number"),
        ("order=total_r", "unknown parameter 'order'"),
    ],
)
def test_a_bad_query_is_a_400_that_says_why(server, query, named):
    status, answer = _get(f"{server}api/combos?{urllib.parse.quote(query, safe='=&:')}")

    assert status == 400
    assert named in answer["error"]
    assert _api(server, "limit=1")["count"] == 16 + EXTRA  # the table is still there


WAIT = 90_000  # ms: a page of 5 MB (plotly.js) on a busy 2-core machine
# The report drawn (its heatmap) and the table drawn from the API.
EXPLORED = (
    "() => window.heatmapDraws >= 1 && window.exploreDraws >= 1 "
    "&& window.exploreState.last !== null"
)


def _shown(page: Any) -> list[tuple[str, int]]:
    return [
        (g, int(k))
        for g, k in page.evaluate(
            "[...document.querySelectorAll('#combos tbody tr')].map(tr => "
            "[tr.children[1].textContent, tr.children[2].textContent])"
        )
    ]


def test_the_page_pages_through_rows_it_does_not_embed(server, run, tmp_path):
    with chromium(tmp_path / "profile") as browser:
        page, seen = open_page(browser, server, timeout=WAIT, ready=EXPLORED)
        embedded = page.evaluate("D.group_index.length")
        first = _shown(page)
        page.fill("#row-limit", "10")
        page.dispatch_event("#row-limit", "change")
        page.wait_for_function("() => window.exploreState.last.limit === 10", timeout=WAIT)
        page.click("#explore-next")
        page.wait_for_function("() => window.exploreState.last.offset === 10", timeout=WAIT)
        second = _shown(page)
        count = page.text_content("#table-count")
        # a float metric's part of digits alone: its first page before its count
        page.fill('input[data-filter="total_r"]', "10")
        page.wait_for_function(
            "() => window.exploreState.last.filters.total_r === '10' "
            "&& window.exploreState.last.total !== null",
            timeout=WAIT,
        )
        tens, counting = _shown(page), page.evaluate("window.exploreCounting")
        counted = page.text_content("#table-count")
        violations = page.evaluate("window.cspViolations")

    by_rank = _ids(_sorted(run["rows"], "total_r", True))
    assert seen["drawn"] == [True]
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert violations == []  # the added script and its requests are allowed, nothing else
    assert {u.split("?")[0] for u in seen["requests"]} == {server, f"{server}api/combos"}
    assert embedded == 16
    assert first == by_rank  # every row, the report's rank order
    assert second == by_rank[10:20]  # page 2 of 10 rows: not embedded in the page
    assert all(g.startswith("extra_") for g, _ in second)
    assert count.startswith(f"rows 11..20 of {16 + EXTRA} matching")
    # the first answer had no count: "counting…" shown, the query sent again until it came
    texts = [r for r in run["rows"] if not _missing(r["total_r"]) and "10" in repr(r["total_r"])]
    assert counting >= 1
    assert tens == _ids(_sorted(texts, "total_r", True))[:10]
    assert counted.startswith(f"rows 1..10 of {len(texts)} matching")


def _port_free(port: int) -> bool:
    """Nothing listens on ``port`` and a server may listen there again (as http.server
    does, with SO_REUSEADDR: the closed connections' TIME_WAIT does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
        return True


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_cleanly(run, number):
    process, url = _start(run["out"])
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    assert url.startswith("http://127.0.0.1:")
    assert _api(url, "limit=1")["count"] == 16 + EXTRA
    assert not _port_free(port)

    code, rest, errors = _stop(process, number)

    assert (code, errors) == (0, "")
    assert "explore: stopped" in rest
    assert _port_free(port)


ROWS = 1 << 19  # the old code aborted in 17 of 20 runs at this size (1 of 6 at 2^18)
DIGITS = ("total_pnl", "total_r")  # float metrics filtered by a text part of digits alone


def _wide(out: Path, rows: int) -> None:
    """``out``'s table replaced by ``rows`` rows made at once (numpy): every column
    constant but :data:`DIGITS`' (random: writing their values as text is DuckDB's work)."""
    columns: dict[str, pa.Array] = {}
    for field in combos_schema():
        kind = field.type
        if pa.types.is_string(kind):
            codes = pa.array(np.zeros(rows, np.int32))
            columns[field.name] = pa.DictionaryArray.from_arrays(codes, ["x"]).cast(kind)
        elif pa.types.is_list(kind):
            offsets = pa.array(np.arange(rows + 1, dtype=np.int32))
            columns[field.name] = pa.ListArray.from_arrays(offsets, pa.array(np.zeros(rows, int)))
        elif field.name in DIGITS:
            columns[field.name] = pa.array(np.random.default_rng(0).normal(size=rows))
        else:
            columns[field.name] = pa.array(np.zeros(rows, kind.to_pandas_dtype()))
    table = pa.table(columns, schema=combos_schema())
    pq.write_table(table, result_paths(out, SYMBOL)["parquet"], compression="none")


def test_a_rare_part_shows_its_first_rows_searching_then_its_count(run, tmp_path):
    """A float metric's part of digits alone that the walk cannot decide in its time (here
    none: IBSWEEP_EXPLORE_BUDGET 0, past the first chunk of 2^16 rows) answers with the
    rows found so far ("whole": false); the page shows "(searching…)", asks again, and
    shows the whole page with its count when it comes."""
    # Arrange
    out = tmp_path / "out"
    shutil.copytree(run["out"], out)
    _wide(out, 1 << 17)
    values = pq.read_table(result_paths(out, SYMBOL)["parquet"], columns=["total_pnl"])
    assert values.column(0).equals(  # total_r holds the same values (_wide)
        pq.read_table(result_paths(out, SYMBOL)["parquet"], columns=["total_r"]).column(0)
    )
    matching = sum("98765" in repr(v) for v in values.column(0).to_pylist())
    process, url = _start(out, env={"IBSWEEP_EXPLORE_BUDGET": "0"})

    # Act
    try:
        first = _api(url, "filter=total_pnl:98765&limit=10")
        with chromium(tmp_path / "profile") as browser:
            page, seen = open_page(browser, url, timeout=WAIT, ready=EXPLORED)
            # another column (total_pnl's digit index is built by now: not searched)
            page.fill('input[data-filter="total_r"]', "98765")
            page.wait_for_function(
                "() => window.exploreState.last.filters.total_r === '98765' "
                "&& window.exploreState.last.total !== null",
                timeout=WAIT,
            )
            searching = page.evaluate("window.exploreSearching")
            counted = page.text_content("#table-count")
    finally:
        code, _, errors = _stop(process, signal.SIGINT)

    # Assert
    assert first["whole"] is False and first["total"] is None
    assert len(first["rows"]) < 10 < matching  # the first rows only, out of time
    assert searching >= 1
    assert counted.startswith(f"rows 1..{matching} of {matching} matching")  # 100 a page
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert (code, errors) == (0, "")


def test_a_signal_during_work_in_duckdb_stops_it_as_when_idle(run, tmp_path):
    """SIGINT while DuckDB works in the background (two float metrics' first page
    answered before its count, asked again until the count came and on after the
    signal, as the page does; the columns' digit indexes being built meanwhile) ends it
    as an idle server ends: exit 0, nothing on stderr. A thread still in DuckDB when the
    interpreter finalizes aborts the process instead (``terminate called ... FATAL:
    exception not rethrown``, exit -6)."""
    out = tmp_path / "out"
    shutil.copytree(run["out"], out)
    _wide(out, ROWS)
    process, url = _start(out)

    query = "&".join(f"filter={column}:12" for column in DIGITS) + "&limit=10"
    first = _api(url, query)
    for _ in range(10_000):  # until counted: their digit indexes are being built
        if _api(url, query)["total"] is not None:
            break
    process.send_signal(signal.SIGINT)
    with contextlib.suppress(OSError):  # asked until refused, cut off or 503: stopping
        for _ in range(10_000):
            if _get(f"{url}api/combos?{query}")[0] != 200:
                break
    code, rest, errors = _stop(process, 0)

    assert first["total"] is None  # answered before its count
    assert (code, errors) == (0, "")
    assert rest.endswith("explore: stopped\n")


def test_bad_folder_or_port_is_one_line_and_exit_2(run, tmp_path):
    missing = invoke("explore", "--from", tmp_path / "nowhere", "--no-browser")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = invoke(
            "explore", "--from", run["out"], "--no-browser", "--port", taken.getsockname()[1]
        )

    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nowhere'}: not a directory"
    assert busy.returncode == 2
    assert busy.stderr.startswith("error: --port ") and "cannot listen" in busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1
