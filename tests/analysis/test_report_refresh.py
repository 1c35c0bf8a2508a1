"""The report follows the analyses (issue 25 item 5): `invoke walk-forward` ends with the HTML
report of its run, as every run does (its walk-forward equity over its trading days, in
headless Chromium); `invoke robustness` and `invoke control` rewrite it with their section
when the run has one, and write none when it has not."""

from __future__ import annotations

import pytest
import yaml

from backtest.analysis.panel import load_panel
from backtest.analysis.report import report_path
from backtest.data.bars import day_date
from tests.analysis.report_helpers import chromium, invoke, open_page, scroll_to
from tests.runner.helpers import SYMBOL, write_bars, write_groups

SPAN = ("2024-01-01", "2024-04-30")
CONTROL = ("2024-05-06", "2024-05-31")


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """`invoke walk-forward --groups-file` over four months (2M train, 1M test)."""
    root = tmp_path_factory.mktemp("refresh")
    bars = write_bars(root / "bars.parquet", *SPAN, seed=4)
    out = root / "out"
    done = invoke(
        "walk-forward",
        "--groups-file",
        write_groups(root / "groups.json"),
        "--data-file",
        bars,
        "--start-date",
        SPAN[0],
        "--end-date",
        SPAN[1],
        "--train",
        "2M",
        "--test",
        "1M",
        "--workers",
        1,
        "--output-dir",
        out,
    )
    return root, out, done


def test_walk_forward_ends_with_the_report_of_its_run(walked, tmp_path):
    _, out, done = walked
    path = report_path(out, SYMBOL)
    panel = load_panel(out, SYMBOL)
    windows = (("2024-03-01", "2024-03-31"), ("2024-04-01", "2024-04-30"))
    days = [day_date(int(d)).isoformat() for w in windows for d in panel.days_between(*w)]

    with chromium(tmp_path / "profile") as context:
        page, seen = open_page(context, path)
        scroll_to(page, "wf-equity")
        trace = page.evaluate("document.getElementById('wf-equity').data[0]")
        axis = page.evaluate("document.getElementById('wf-equity').layout.xaxis")

    assert done.returncode == 0, done.stderr
    assert f"report: {path} (" in done.stdout.splitlines()[-1]
    html = path.read_text()
    assert 'id="walk-forward"' in html and 'id="robustness"' in html
    assert seen["drawn"] == [True]
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert len(days) == len(trace["y"]) > 30
    assert trace["x"] == days  # the out-of-sample trading days, not their count
    assert axis["type"] == "date"


def test_robustness_rewrites_the_report_when_there_is_one(walked):
    _, out, _ = walked
    path = report_path(out, SYMBOL)
    robustness = out / f"robustness_{SYMBOL}.json"
    robustness.unlink()
    path.unlink(missing_ok=True)

    none = invoke("robustness", "--from", out)
    missing = path.exists()
    robustness.unlink()
    assert invoke("report", "--from", out).returncode == 0
    before = path.read_text()
    done = invoke("robustness", "--from", out)

    assert none.returncode == 0, none.stderr
    assert not missing  # no report: robustness writes none
    assert 'id="robustness"' not in before
    assert done.returncode == 0, done.stderr
    assert f"report: {path} (" in done.stdout.splitlines()[-1]
    html = path.read_text()
    assert 'id="robustness"' in html and 'id="cost-stress"' in html


def test_control_rewrites_the_report_when_there_is_one(walked):
    root, out, _ = walked
    path = report_path(out, SYMBOL)
    data = write_bars(root / "control.parquet", "2024-05-01", "2024-06-07", seed=9)
    config = root / "control.yaml"
    periods = {
        "control": {"start_date": CONTROL[0], "end_date": CONTROL[1], "data_file": str(data)}
    }
    config.write_text(yaml.safe_dump({"periods": periods}))
    before = path.read_text()

    done = invoke("control", "--from", out, "--top", "100%", "--config", config)

    assert done.returncode == 0, done.stderr
    assert 'id="control"' not in before
    assert f"report: {path} (" in done.stdout.splitlines()[-1]
    assert f"{CONTROL[0]} .. {CONTROL[1]}" in path.read_text()
