"""The HTML report in a real headless Chromium (Debian's, driven by Playwright): it
loads offline with no console error and no request, a header click sorts the table,
changing the heatmap's parameter redraws it, the page is not blank, a sample-data run
shows the red banner, and it opens with its first screen drawn while every other chart
draws when scrolled to (the 3D surface on a click): none is lost. One browser session for
the whole module."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from matplotlib import image

from backtest.analysis.report import report_path, write_report
from tests.analysis.report_helpers import (
    chromium,
    open_page,
    sample_run,
    scroll_to,
    small_run,
)
from tests.analysis.test_report_sections import _analysis_files
from tests.runner.helpers import SYMBOL, full_results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return {"file": small_run(folder / "file"), "sample": sample_run(folder / "sample")}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module, with a fresh profile."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def _open(browser, out):
    """The report of ``out`` in a new tab; the tab and what it logged and requested."""
    path = report_path(out, SYMBOL)
    page, seen = open_page(browser, path)
    return page, seen, path.as_uri()


@pytest.fixture(scope="module")
def opened(browser, runs):
    page, seen, url = _open(browser, runs["file"])
    yield page, seen, url
    page.close()


def test_loads_without_console_errors_or_requests(opened):
    page, seen, url = opened

    resources = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")

    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert page.evaluate("window.cspViolations") == []  # the policy refuses none of its own
    assert seen["requests"] == [url]  # the file itself, nothing else
    assert resources == []
    assert page.locator("#sample-banner").count() == 0  # real data: no banner


def _rows(page):
    """(group_id, combo) of the table's rows, top to bottom."""
    return page.evaluate(
        "[...document.querySelectorAll('#combos tbody tr')].map(tr => "
        "[tr.children[1].textContent, +tr.children[2].textContent])"
    )


def test_clicking_a_column_sorts_the_table(opened, runs):
    page, _, _ = opened
    combos = [
        (g["group_id"], k, c["metrics"]["max_dd_r"])
        for g in full_results(runs["file"])["groups"]
        for k, c in enumerate(g["combos"])
    ]
    by_dd = [[g, k] for g, k, _ in sorted(combos, key=lambda c: c[2])]  # stable: run order
    by_dd_desc = [[g, k] for g, k, _ in sorted(combos, key=lambda c: -c[2])]
    ranked = _rows(page)  # at first: by total_r, best first

    page.click("#combos th[data-col='max_dd_r']")  # lower is better: smallest first
    first = _rows(page)
    page.click("#combos th[data-col='max_dd_r']")
    second = _rows(page)

    assert first == by_dd
    assert second == by_dd_desc
    assert first != ranked  # the click changed the order


def test_changing_the_heatmap_parameters_redraws_it(opened):
    page, _, _ = opened
    before = page.evaluate("window.heatmapDraws")
    x_before = page.evaluate("document.getElementById('heatmap').data[0].x")

    page.select_option("#hm-x", "sl_mult")
    page.wait_for_function(f"window.heatmapDraws > {before}", timeout=5000)

    x_after = page.evaluate("document.getElementById('heatmap').data[0].x")
    title = page.evaluate("document.getElementById('heatmap').layout.title.text")
    assert x_before == ["0.5", "1", "1.5", "2"]  # tp_mult, the most varied parameter
    assert x_after == ["0.5", "1"]  # sl_mult's values
    assert "by sl_mult × ib_end" in title


def test_screenshot_is_not_blank(opened, tmp_path):
    page, _, _ = opened
    path = tmp_path / "report.png"

    page.screenshot(path=str(path))

    pixels = image.imread(path)[..., :3].reshape(-1, 3)
    colours = len(np.unique((pixels * 255).astype(np.uint8), axis=0))
    not_background = np.mean(np.abs(pixels - pixels[0]).sum(axis=1) > 0.05)
    assert colours > 100
    assert not_background > 0.2


def test_a_sample_data_run_shows_the_banner(browser, runs):
    page, seen, _ = _open(browser, runs["sample"])
    meta = json.loads((runs["sample"] / f"results_full_{SYMBOL}.json").read_text())["metadata"]

    banner = page.locator("#sample-banner")

    assert meta["data"]["source"] == "sample"
    assert banner.is_visible()
    assert "SAMPLE DATA" in banner.inner_text()
    assert (
        page.evaluate("getComputedStyle(document.getElementById('sample-banner')).backgroundColor")
        == "rgb(198, 40, 40)"
    )
    assert [m for m in seen["console"] if m[0] == "error"] == []
    page.close()


# What each chart of the page waits for (its element's data-chart): the heatmap is the
# first screen's chart; a section with a file in OUT adds its chart (walk-forward).
CHARTS = {
    "heatmap": "at once",
    "surface": "on request",
    "distribution": "in view",
    "equity": "in view",
    "prop": "in view",
    "wf-equity": "in view",
}
DRAWN = (
    "[...document.querySelectorAll('[data-chart]')]"
    ".filter((e) => e.data && e.data.length).map((e) => e.id).sort()"
)


def test_every_deferred_chart_draws_when_scrolled_to_or_asked_for(browser, runs, tmp_path):
    # Arrange: the run with its walk-forward, robustness and control files beside it
    out = shutil.copytree(runs["file"], tmp_path / "out")
    _analysis_files(out)
    write_report(out, SYMBOL)

    # Act: open it; scroll to each element that waits, as a reader does; ask for the surface
    page, seen = open_page(browser, report_path(out, SYMBOL))
    charts = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-chart]')]"
        ".map((e) => [e.id, e.dataset.chart]))"
    )
    at_open, waiting = page.evaluate(DRAWN), page.evaluate("window.reportPending().sort()")
    for element in waiting:
        scroll_to(page, element)
    page.click("#draw-surface")
    page.wait_for_function("() => window.reportDrawn.surface === 1")
    drawn = page.evaluate(DRAWN)
    surface = page.evaluate("document.getElementById('surface').data[0].type")
    page.select_option("#hm-x", "sl_mult")  # once drawn, the surface follows the heatmap
    page.wait_for_function("() => window.reportDrawn.surface === 2", timeout=20_000)
    surface_x = page.evaluate("document.getElementById('surface').layout.scene.xaxis.title.text")

    # Assert
    assert charts == CHARTS
    assert at_open == ["heatmap"]  # the first screen's chart, no other
    assert waiting == ["detail-section", "distribution", "wf-equity"]
    assert drawn == sorted(CHARTS)  # no chart lost
    assert page.evaluate("window.reportPending()") == []
    assert surface == "surface" and surface_x == "sl_mult"
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert page.evaluate("window.cspViolations") == []
    page.close()
