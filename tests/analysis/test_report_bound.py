"""The report's size is bounded whatever the run's (issue 26): a synthetic committed run
of 10^6 combinations (tests/analysis/big_run.py, the results schema written with
pyarrow) gives a page under 15 MB that embeds the best 20,000 by the ranking plus the
combination a walk-forward chose far down the ranking, says how many of how many and how
to see the rest, carries DuckDB's whole-run heatmaps and distributions, and opens in
headless Chromium without an error. One run, one report, one browser for the module."""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow.parquet as pq
import pytest

from backtest.analysis.aggregates import REPORT_ROWS
from backtest.analysis.report import report_path, write_report
from tests.analysis.big_run import SYMBOL, write_big_run
from tests.analysis.report_helpers import TABLE_DONE, chromium, open_page, scroll_to

ROWS = 1_000_000
LIMIT = 15_000_000  # bytes: the bound for a page that opens quickly
CHOSEN = ("g00007", 123)  # a walk-forward window's choice


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The run, its report (no trades re-run: no data file) and the page's JSON block."""
    out = write_big_run(tmp_path_factory.mktemp("big") / "out", ROWS)
    window = {"window": 1, "group_id": CHOSEN[0], "combo": CHOSEN[1]}
    (out / f"walk_forward_{SYMBOL}.json").write_text(json.dumps({"windows": [window]}))
    path = write_report(out, SYMBOL, rerun_data=False)
    html = path.read_text(encoding="utf-8")
    block = re.search(r'id="report-data">(.*?)</script>', html, re.S)
    assert block is not None
    return out, path, html, json.loads(block.group(1))


def test_the_page_stays_under_the_bound(big):
    _, path, _, data = big

    assert path.stat().st_size < LIMIT
    assert data["meta"]["combinations"] == ROWS


def test_it_embeds_the_best_rows_and_the_chosen_one(big):
    out, _, _, data = big
    totals = pq.read_table(out / f"results_combos_{SYMBOL}.parquet", columns=["total_r"])
    ranked = np.sort(totals.column(0).to_numpy())[::-1]
    embedded = list(zip(data["group_index"], data["combo_index"]))
    embedded_r = np.array(data["columns"]["metric"]["total_r"], dtype=float)

    assert data["meta"]["embedded"] == REPORT_ROWS + 1 == len(embedded)
    assert CHOSEN in embedded  # far below the best 20,000, embedded all the same
    chosen_r = embedded_r[embedded.index(CHOSEN)]
    assert chosen_r < ranked[REPORT_ROWS - 1]
    others = np.delete(embedded_r, embedded.index(CHOSEN))
    assert np.sort(others)[::-1].tolist() == ranked[:REPORT_ROWS].tolist()


def test_it_says_how_many_and_how_to_see_the_rest(big):
    out, _, html, _ = big

    note = re.search(r'<div class="warn" id="embedded-note">(.*?)</div>', html, re.S)

    assert note is not None
    text = note.group(1)
    assert f"{REPORT_ROWS + 1} of {ROWS} combinations" in text
    assert "--report-rows" in text
    assert f"query --from {out}" in text and f"explore --from {out}" in text


def test_whole_run_numbers_cover_every_combination(big):
    out, _, _, data = big
    table = pq.read_table(
        out / f"results_combos_{SYMBOL}.parquet", columns=["sl_mult", "tp_mult", "total_r"]
    )
    frame = table.to_pandas()
    best = frame.groupby(["sl_mult", "tp_mult"])["total_r"].max()
    run = data["run"]
    z = run["pairs"]["sl_mult|tp_mult"]["total_r"]
    xs, ys = run["values"]["sl_mult"], run["values"]["tp_mult"]

    assert (
        sum(run["distributions"]["total_r"]["counts"]) + run["distributions"]["total_r"]["missing"]
        == ROWS
    )
    for ix, x in enumerate(xs):
        for iy, y in enumerate(ys):
            assert z[iy][ix] == pytest.approx(best[(x, y)], rel=1e-5)


def test_it_opens_in_headless_chromium(big, tmp_path):
    out, path, _, _ = big
    with chromium(tmp_path / "profile") as context:
        page, seen = open_page(context, report_path(out, SYMBOL), timeout=120_000)
        scope = page.evaluate("() => document.getElementById('hm-scope').value")
        title = page.evaluate("() => document.getElementById('heatmap').layout.title.text")
        page.wait_for_function(TABLE_DONE, timeout=60_000)
        rows = page.evaluate("() => document.querySelectorAll('#combos tbody tr').length")
        scroll_to(page, "distribution", timeout=60_000)
        bars = page.evaluate("() => document.getElementById('distribution').data[0].y.length")
        draws = page.evaluate("() => window.heatmapDraws")
        page.select_option("#hm-scope", "page")
        page.wait_for_function(f"() => window.heatmapDraws > {draws}", timeout=60_000)
        around = page.evaluate("() => document.getElementById('heatmap').layout.title.text")
        note = page.evaluate("() => document.getElementById('hm-note').textContent")
        page.close()

    assert seen["drawn"] == [True]
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["requests"] == [path.as_uri()]
    assert scope == "run"  # not every combination is in the page: whole-run heatmaps first
    assert f"whole run: {ROWS} combinations" in title
    assert bars == 40
    assert rows == 1000
    assert "whole run" not in around and note.startswith("others fixed at the selected row's")


def test_a_parameter_that_varies_in_the_run_is_never_called_fixed(tmp_path):
    """With one row embedded every parameter has one value in the page; those that vary
    in the run stay columns (and heatmap axes), only the run's constants are 'fixed'."""
    from backtest.analysis.report import report_data
    from tests.analysis.big_run import GRID

    out = write_big_run(tmp_path / "out", 3_000, group_rows=1_000)

    data = report_data(out, SYMBOL, rerun_data=False, report_rows=1)

    constants = {name: values[0] for name, values in GRID.items() if len(values) == 1}
    assert data["meta"]["embedded"] == 1
    assert data["columns"]["fixed"] == constants
    assert set(data["columns"]["params"]) == set(GRID) - set(constants)
    assert set(data["run"]["varied"]) == set(GRID) - set(constants)
