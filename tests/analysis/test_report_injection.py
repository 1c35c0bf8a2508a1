"""Nothing in a run's results runs as script in its report (issue 21, item 8).

A results_full edited by whoever made it (its manifest recomputed, as ``invoke merge`` or
``fab collect`` would then take it) carries script in every field it can: the text
fields reach the page as text; fields that must be numbers are refused when the results
are read; the page escapes whatever it is handed even so; and its Content-Security-Policy
runs only the page's own scripts, so that an escaping slip would still run nothing. Each
page is opened in real headless Chromium: any dialog, request (the leak goes to
``http://127.0.0.1:9/leak``), Content-Security-Policy violation or error fails the test.
"""

from __future__ import annotations

import pytest

from backtest.analysis.report import render, report_data, report_path, write_report
from backtest.runner.outputs import METADATA
from backtest.runner.reading import Fields, Items, Kind, ResultsError
from tests.analysis.hostile_helpers import XSS, tampered
from tests.analysis.report_helpers import chromium, invoke, open_page, scroll_to, small_run
from tests.runner.helpers import SYMBOL

# Report fields computed by the report itself, not read from the results.
COMPUTED = ("groups_ok", "groups_failed", "combinations", "embedded", "sample")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run that saved its trades (shown in the page) and compact trades."""
    folder = tmp_path_factory.mktemp("injection")
    return small_run(folder / "run", "--save-trades", "--save-daily")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def _poison_text(document: dict, spec: Fields) -> list[str]:
    """Set every text field ``spec`` knows (nested objects alike, lists of text as one
    item) to :data:`XSS` in ``document``, except the symbol; the names set."""
    names = []
    for key, sub in spec.fields.items():
        if isinstance(sub, Fields):
            inner = document.setdefault(key, {})
            names += [f"{key}.{name}" for name in _poison_text(inner, sub)]
        elif isinstance(sub, Items) and sub.item == Kind("text", frozenset({str})):
            document[key] = [XSS]
            names.append(key)
        elif isinstance(sub, Kind) and str in sub.types and key != "symbol":
            document[key] = XSS
            names.append(key)
    return names


def _poison(document: dict) -> None:
    """Script in every text field of the metadata, an added field, and the text fields
    of every saved trade."""
    meta = document["metadata"]
    assert len(_poison_text(meta, METADATA)) >= 25
    meta["added_by_a_host"] = XSS
    meta["git_commit"] = XSS  # the header's fields beside what the results reader knows
    meta["symbol_settings"].update(spread_model=XSS, spread_source=XSS)
    for group in document["groups"]:
        for combo in group["combos"]:
            for trade in combo.get("trades") or []:
                trade.update(direction=XSS, exit_reason=XSS, exit_time=XSS)
                trade["entry_time"] = trade["entry_time"][:10] + XSS


def _assert_nothing_ran(page, seen, path):
    assert seen["dialogs"] == []
    assert seen["requests"] == [path.as_uri()]  # the file itself: no leak, no image
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("window.cspViolations") == []
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["drawn"] == [True]


def test_script_in_every_text_field_of_the_results_is_shown_as_text(run, browser, tmp_path):
    # Arrange: every text field of the metadata and of the trades holds script
    out = tampered(run, tmp_path / "out", _poison)

    # Act: the report as a user writes it, then opened
    done = invoke("report", "--from", out)
    path = report_path(out, SYMBOL)
    page, seen = open_page(browser, path)
    page.click("#combos tbody tr:first-child")  # the trades table and monthly R redrawn
    scroll_to(page, "detail-section")

    # Assert
    assert done.returncode == 0, done.stderr
    _assert_nothing_ran(page, seen, path)
    assert XSS in page.locator("#header").inner_text()  # the header shows it as text
    assert XSS in page.locator("#trades").inner_text()
    page.close()


def test_every_report_field_handed_to_the_page_is_escaped(run, browser, tmp_path):
    # Arrange: the page's data with script in every field the results fill, numbers
    # included (the read check is bypassed: the page must be safe on its own)
    payload = report_data(run, SYMBOL)
    for key in payload["meta"]:
        if key not in COMPUTED:
            payload["meta"][key] = XSS
    payload["meta"]["costs"] = dict.fromkeys(payload["meta"]["costs"], XSS)
    payload["meta"]["warnings"] = [XSS]
    path = tmp_path / "report.html"

    # Act
    path.write_text(render(payload), encoding="utf-8")
    page, seen = open_page(browser, path)
    scroll_to(page, "detail-section")

    # Assert: the prop-firm view (its limits went into innerHTML unescaped) shows text
    _assert_nothing_ran(page, seen, path)
    assert XSS in page.locator("#prop-facts").inner_text()
    page.close()


def test_the_policy_runs_no_script_but_the_pages_own(run, browser, tmp_path):
    # Arrange: a report with an inline handler and an inline script put in as if an
    # escape had been missed
    html = report_path(run, SYMBOL).read_text(encoding="utf-8")
    injected = (
        "<body><img src=x onerror=\"window.pwned=1;alert('handler')\">"
        "<script>window.pwned=2;alert('script')</script>"
    )
    path = tmp_path / "report.html"
    path.write_text(html.replace("<body>", injected, 1), encoding="utf-8")

    # Act
    page, seen = open_page(browser, path)

    # Assert: the handler, the script and the image refused by the policy; the page's
    # own scripts ran
    policy = page.get_attribute("meta[http-equiv='Content-Security-Policy']", "content")
    refused = {v.split()[0] for v in page.evaluate("window.cspViolations")}
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.evaluate("window.pwned") is None
    assert seen["dialogs"] == []
    assert refused == {"script-src-attr", "script-src-elem", "img-src"}
    assert seen["requests"] == [path.as_uri(), (tmp_path / "x").as_uri()]  # x: refused
    assert seen["drawn"] == [True]
    page.close()


@pytest.mark.parametrize(
    "field",
    [
        "daily_loss_limit_pct",
        "max_loss_limit_pct",
        "risk",
        "account_size",
        "workers",
        "data.bars",
        "symbol_settings.spread",
        "symbol_settings.slippage",
    ],
)
def test_script_in_a_number_field_is_refused_when_the_results_are_read(run, tmp_path, field):
    # Arrange
    def edit(document):
        where = document["metadata"]
        *parents, name = field.split(".")
        for parent in parents:
            where = where[parent]
        where[name] = XSS

    out = tampered(run, tmp_path / "out", edit)

    # Act
    with pytest.raises(ResultsError) as refused:
        write_report(out, SYMBOL)

    # Assert: the file and the field named
    assert f"results_full_{SYMBOL}.json: metadata.{field} " in str(refused.value)
    assert "is not a" in str(refused.value)


def test_invoke_report_refuses_script_in_the_loss_limit_with_one_line(run, tmp_path):
    # Arrange: the attack, in renderProp's field
    out = tampered(run, tmp_path / "out", lambda d: d["metadata"].update(daily_loss_limit_pct=XSS))
    before = report_path(out, SYMBOL).read_bytes()

    # Act
    done = invoke("report", "--from", out)

    # Assert: exit 2, one line naming the file and the field, the old page untouched
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in done.stderr
    assert f"results_full_{SYMBOL}.json: metadata.daily_loss_limit_pct " in line
    assert report_path(out, SYMBOL).read_bytes() == before
