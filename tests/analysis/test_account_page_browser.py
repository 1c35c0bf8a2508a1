"""The Account page of invoke account in a real headless Chromium (Debian's, driven by
Playwright), as the run report is tested: it loads offline with no console error and no
request, draws its five charts, is not blank, shows the verdict and the rules, and text
from the analysis (here a program name holding HTML) is shown as text, never run."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image

from backtest.analysis.account import Settings, analyse
from backtest.analysis.account_files import provenance, write_account
from tests.analysis.account_helpers import account, pick_data, program
from tests.analysis.report_helpers import ACCOUNT_DRAWN, chromium, open_page

HOSTILE = '<img src=x id=injected onerror="window.pwned=1">Evil & Co'


def _dates(n: int) -> list[str]:
    import datetime as dt

    start = dt.date(2024, 1, 1)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(n)]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    dates = _dates(120)
    ger = pick_data("GER40", dates, [(d, float(rng.normal(150, 1500))) for d in dates])
    xau = pick_data("XAUUSD", dates, [(d, float(rng.normal(100, 1200))) for d in dates[::2]])
    prog = program(name=HOSTILE, phases=[{"profit_target_pct": 8}, {"profit_target_pct": 5}])
    acct = account([ger, xau], prog)
    settings = Settings(n_paths=500, levels=(0.5, 1.0, 1.5))
    result = analyse(acct, settings)
    out = tmp_path_factory.mktemp("account_page")
    return write_account(out, acct, result, provenance(settings, "invoke account ..."))["html"]


@pytest.fixture(scope="module")
def opened(page_file, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        page, seen = open_page(context, page_file, ready=ACCOUNT_DRAWN)
        assert seen["drawn"] == [True]
        yield page, seen, page_file.as_uri()


def test_loads_offline_without_errors_and_draws_every_chart(opened):
    page, seen, url = opened

    resources = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    policy = page.evaluate(
        "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    )

    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["requests"] == [url]
    assert resources == []
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert page.evaluate("window.accountDraws") == 5
    for chart in ("balance", "daily-loss", "risk-chart", "pass-curve", "replay-days"):
        assert page.evaluate(f"document.getElementById('{chart}').data.length") >= 1


def test_shows_the_question_the_rules_and_the_rules_date(opened):
    page, _, _ = opened

    assert page.locator("#verdict").inner_text().startswith("P(pass) ")
    assert "check your program's current rules" in page.locator("#rules-read").inner_text()
    assert "closed-trade balance only" in page.locator("#closed-only").inner_text()
    rules = page.locator("#rules tbody tr").all_inner_texts()
    assert any(r.startswith("max daily loss (equity)\tUNKNOWN") for r in rules)
    assert page.locator("#risk-table tbody tr").count() == 3
    assert page.locator("#simulation-phases tbody tr").count() == 2


def test_text_from_the_analysis_is_shown_not_run(opened):
    page, _, _ = opened

    assert HOSTILE in page.locator("h1").inner_text()
    assert page.locator("#injected").count() == 0
    assert page.evaluate("window.pwned === undefined")


def test_screenshot_is_not_blank(opened, tmp_path):
    page, _, _ = opened
    path = tmp_path / "account.png"

    page.screenshot(path=str(path), full_page=True)

    pixels = image.imread(path)[..., :3].reshape(-1, 3)
    colours = len(np.unique((pixels * 255).astype(np.uint8), axis=0))
    assert colours > 100
    assert np.mean(np.abs(pixels - pixels[0]).sum(axis=1) > 0.05) > 0.2
