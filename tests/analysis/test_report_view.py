"""What a trader reads off the report, in a real headless Chromium (issue 25 item 7, issue 20
items 4 and 5): no header value cut off, a filter that is not a number says so, monthly R
empty outside the run's period, values in the heatmap's cells when they fit and no gaps
between cells on a 300 × 300 map, MT5's two columns with their definitions, the cost stress
table and the reconcile section styled, and a trade's day opened from the report (its IB
box and its fills)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib import image

from backtest.analysis.day import day_command, day_link
from backtest.analysis.report import report_path, write_report
from backtest.strategy.params import resolve_params
from tests.analysis.helpers import metrics, write_run
from tests.analysis.report_helpers import (
    DAY_DRAWN,
    REPORT_DRAWN,
    chromium,
    invoke,
    open_page,
    scroll_to,
    small_run,
)
from tests.analysis.test_report_sections import STRESS, _robustness, reconcile_document
from tests.runner.helpers import SYMBOL, full_results

WIDE = 300  # values of each of the two parameters of the large map


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run that saved its trades, with a robustness file (the cost stress) and a
    reconcile beside it, and its report written again with them."""
    out = small_run(tmp_path_factory.mktemp("view") / "run", "--save-trades")
    _robustness(out, STRESS)
    (out / f"reconcile_{SYMBOL}.json").write_text(json.dumps(reconcile_document()))
    write_report(out, SYMBOL)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture(scope="module")
def opened(browser, run):
    page, seen = open_page(browser, report_path(run, SYMBOL))
    scroll_to(page, "detail-section")  # the selected combination: monthly R, its trades
    yield page, seen
    page.close()


def _clean(page, seen):
    assert seen["drawn"] == [True]
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert page.evaluate("window.cspViolations") == []


def test_no_header_value_is_cut_and_shortened_ones_have_their_full_value(opened, run):
    page, seen = opened
    meta = full_results(run)["metadata"]

    cut = page.evaluate(
        "[...document.querySelectorAll('.facts > div')]"
        ".filter((d) => d.scrollWidth > d.clientWidth + 1).map((d) => d.textContent)"
    )
    titles = page.evaluate(
        "[...document.querySelectorAll('#header .facts span[title]')].map((s) => s.title)"
    )

    _clean(page, seen)
    assert cut == []
    assert meta["data_checksum"] in titles  # shown as its first 16 characters
    assert f"{meta['data']['first_bar']} .. {meta['data']['last_bar']}" in titles
    assert f"{meta['start_time']} .. {meta['end_time']}" in titles
    assert "bid_ask, spread fixed, slippage 0" in page.locator("#execution").inner_text()
    assert (meta["git_commit"] or "commit not recorded") in page.locator("#code").inner_text()


def test_a_filter_that_is_not_a_number_says_so(opened):
    page, _ = opened
    box = "#combos input[data-filter='total_r']"

    try:
        page.fill(box, ">=abc")
        count = page.locator("#table-count").inner_text()
        bad = page.evaluate(f"document.querySelector(\"{box}\").classList.contains('bad')")
        note = page.locator("#filter-note").inner_text(timeout=2000)
        page.fill(box, ">=0")
        kept = page.locator("#table-count").inner_text()
    finally:
        page.fill(box, "")  # the other tests see every row

    assert note == 'filter on total_r: "abc" is not a number (>= compares numbers), not applied'
    assert count.startswith("16 of 16 matching")  # the filter is not applied: not "0 of 0"
    assert bad
    assert not kept.startswith("16 of 16") and page.locator("#filter-note").inner_text() == ""


def _selected_trades(run, page):
    """The selected combination (the page's first row) and its recorded trades."""
    group, combo = page.evaluate(
        "[D.group_index[reportState.order[0]], D.combo_index[reportState.order[0]]]"
    )
    record = next(g for g in full_results(run)["groups"] if g["group_id"] == group)
    return group, combo, record["combos"][combo]["trades"]


def test_monthly_r_is_empty_outside_the_period(opened, run):
    page, _ = opened
    _, _, trades = _selected_trades(run, page)

    cells = page.evaluate(
        "[...document.querySelectorAll('#monthly tbody tr')].map((tr) => "
        "[...tr.cells].map((td) => [td.textContent, td.className, td.style.background]))"
    )

    (year,) = cells  # 2024-01-08 .. 2024-01-19
    assert year[0][0] == "2024"
    assert float(year[1][0]) == pytest.approx(sum(t["r"] for t in trades), abs=0.005)
    assert year[2:13] == [["", "", ""]] * 11  # February .. December: not in the period
    assert year[13][0] == year[1][0]  # the year's total


def test_the_mt5_columns_have_their_definitions(opened):
    page, _ = opened

    titles = page.evaluate(
        "Object.fromEntries(['recovery_factor', 'expected_payoff'].map((c) => "
        "[c, document.querySelector(`#combos th[data-col=${c}]`).title]))"
    )
    first = page.evaluate(
        "['total_r', 'max_dd_r', 'recovery_factor', 'total_pnl', 'trades', 'expected_payoff']"
        ".map((c) => D.columns.metric[c][reportState.order[0]])"
    )

    total_r, max_dd_r, recovery, pnl, trades, payoff = first
    assert titles["recovery_factor"].startswith("total_r / max_dd_r: MT5's recovery factor")
    assert titles["expected_payoff"].startswith("total_pnl / trades: MT5's expected payoff")
    assert recovery == pytest.approx(total_r / max_dd_r)
    assert payoff == pytest.approx(pnl / trades)


def test_values_are_written_in_the_heatmaps_cells_when_they_fit(opened):
    page, _ = opened

    template = page.evaluate("document.getElementById('heatmap').data[0].texttemplate")
    z = page.evaluate("document.getElementById('heatmap').data[0].z")
    labels = page.evaluate(
        "[...document.querySelectorAll('#heatmap g.heatmap-label text')].map((t) => t.textContent)"
    )

    assert template == "%{z:.2f}"
    assert sorted(labels) == sorted(f"{v:.2f}" for row in z for v in row if v is not None)


def test_the_cost_stress_table_and_the_reconcile_are_styled(opened):
    page, seen = opened

    def style(selector, prop):
        return page.evaluate(
            f"getComputedStyle(document.querySelector({json.dumps(selector)})).{prop}"
        )

    _clean(page, seen)
    assert page.locator("#cost-stress tbody tr").count() == 4
    assert page.locator("#stress-verdict").inner_text() == "survives 1.5x costs: yes"
    assert style("#stress-verdict", "backgroundColor") == "rgb(232, 245, 233)"
    assert style("#reconcile tr.matched td", "backgroundColor") == "rgb(243, 251, 243)"
    assert style("#reconcile tr.missed td", "backgroundColor") == "rgb(253, 241, 241)"
    assert style("#reconcile tr.extra td", "backgroundColor") == "rgb(253, 248, 232)"
    assert style("#reconcile td.text", "whiteSpace") == "normal"
    assert style("#reconcile .warn", "borderLeftColor") == "rgb(239, 108, 0)"
    assert page.locator("#reconcile img").count() == 0  # the deal's comment is text


def test_a_trades_day_opens_from_the_report(opened, run):
    page, _ = opened
    group, combo, trades = _selected_trades(run, page)
    day = trades[0]["entry_time"][:10]
    drawn = invoke("day", "--from", run, "--group", group, "--combo", combo, "--date", day)
    same_day = [t for t in trades if t["entry_time"].startswith(day)]

    link = page.locator("#trades a.day-link").first
    href, title, text = link.get_attribute("href"), link.get_attribute("title"), link.inner_text()
    link.click()
    page.wait_for_function(DAY_DRAWN, timeout=20_000)
    shapes = page.evaluate("document.getElementById('day').layout.shapes.map((s) => s.name)")
    entries = page.evaluate(
        "document.getElementById('day').data.find((t) => t.name === 'entries').y"
    )
    page.go_back()
    page.wait_for_function(REPORT_DRAWN, timeout=20_000)

    assert drawn.returncode == 0, drawn.stderr
    assert text == day
    assert href == day_link(group, combo, day)
    assert title == f"this day drawn; written by: {day_command(run, group, combo, day)}"
    assert "IB box" in shapes
    assert entries == [t["entry_price"] for t in same_day]


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A run of one group of 300 × 300 combinations (its metrics a smooth pattern)."""
    base = resolve_params(SYMBOL, {})
    sl = [round(0.1 + 0.01 * i, 2) for i in range(WIDE)]
    tp = [round(0.5 + 0.01 * j, 2) for j in range(WIDE)]
    combos = [
        {
            "params": {**base, "sl_mult": a, "tp_mult": b},
            "metrics": metrics(float(10 * np.sin(7 * a) * np.cos(5 * b))),
        }
        for a in sl
        for b in tp
    ]
    record = {"group_id": "g", "status": "ok", "elapsed_s": 1.0, "combos": combos, "best": 0}
    out = write_run(tmp_path_factory.mktemp("wide") / "run", [record])
    write_report(out, SYMBOL)
    return out


def test_a_300_by_300_heatmap_is_not_blank_and_its_3d_axes_are_readable(browser, wide, tmp_path):
    page, seen = open_page(browser, report_path(wide, SYMBOL))
    trace = page.evaluate(
        "(({xgap, ygap, texttemplate, x}) => ({xgap, ygap, texttemplate, n: x.length}))"
        "(document.getElementById('heatmap').data[0])"
    )
    page.click("#draw-surface")
    page.wait_for_function("() => window.reportDrawn.surface === 1")
    scene = page.evaluate("document.getElementById('surface').layout.scene")
    shot = tmp_path / "heatmap.png"
    page.locator("#heatmap .nsewdrag").first.screenshot(path=str(shot))
    _clean(page, seen)
    page.close()

    pixels = image.imread(shot)[..., :3].reshape(-1, 3)
    near_white = np.mean(pixels.min(axis=1) > 0.93)
    assert trace == {"xgap": 0, "ygap": 0, "texttemplate": "", "n": WIDE}
    assert near_white < 0.1  # with 1-pixel gaps between 2-pixel cells: well over half
    for axis in ("xaxis", "yaxis"):
        assert len(scene[axis]["tickvals"]) <= 9
        assert len(scene[axis]["ticktext"]) == len(scene[axis]["tickvals"])
