"""The optimize page in a real headless Chromium (Debian's, driven by Playwright), as the
run report is tested: it loads offline with no console error, no request and no policy
violation, draws the optimisation history, the parameter importances and (two objectives)
the Pareto front, is not blank, and text from the user (a study name holding HTML) is
shown as text, never run."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image

from tests.analysis.report_helpers import chromium, open_page
from tests.runner.helpers import SYMBOL
from tests.search.helpers import invoke, metadata, optimize_args, space

HOSTILE = '<img src=x id=injected onerror="window.pwned=1">Evil & Co'
DRAWN = "() => window.optimizeDrawn === true"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("optimize_page")
    space(folder)
    out = folder / "out"
    done = invoke(
        *optimize_args(
            folder,
            out,
            "--trials",
            120,
            "--batch",
            40,
            "--objectives",
            "total_r,max_dd_r",
            "--study-name",
            HOSTILE,
            "--no-report",
        )
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def opened(run, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        page, seen = open_page(context, run / f"optimize_{SYMBOL}.html", ready=DRAWN)
        assert seen["drawn"] == [True]
        yield page, seen, (run / f"optimize_{SYMBOL}.html").as_uri()


def test_loads_offline_without_errors_and_draws_every_chart(opened):
    page, seen, url = opened

    resources = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    policy = page.evaluate(
        "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    )

    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert page.evaluate("window.cspViolations") == []
    assert seen["requests"] == [url]
    assert resources == []
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    # two histories, two importance charts, the Pareto front
    assert page.evaluate("window.optimizeDraws") == 5
    assert page.locator("#history-0 .main-svg").count() > 0
    assert page.locator("#importance-1 .main-svg").count() > 0
    assert page.locator("#pareto .main-svg").count() > 0


def test_the_history_holds_every_finished_trial(opened, run):
    page, _, _ = opened

    shown = page.evaluate(
        "document.getElementById('history-0').data.slice(0, 2).map(t => t.x.length)"
    )
    meta = metadata(run)["optimize"]

    finished = meta["outcomes"]["evaluated"] + meta["outcomes"]["duplicate"]
    assert sum(shown) <= finished and shown[0] > 0
    assert page.locator("#evaluated").inner_text() == str(meta["evaluated"])
    assert page.locator("#best tbody tr").count() == len(meta["best"][:50]) > 0


def test_the_study_name_is_shown_as_text(opened):
    page, seen, _ = opened

    assert page.locator("#injected").count() == 0
    assert page.evaluate("window.pwned") is None
    assert seen["dialogs"] == []
    assert HOSTILE in page.locator("h1").inner_text()
    assert HOSTILE in page.title()


def test_the_page_is_not_blank(opened, tmp_path):
    page, _, _ = opened
    shot = tmp_path / "page.png"

    page.screenshot(path=str(shot), full_page=False)

    pixels = image.imread(str(shot))
    assert float(np.std(pixels)) > 0.05
