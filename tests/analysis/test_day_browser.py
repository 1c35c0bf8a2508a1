"""The page of one drawn day (`invoke day`) in a real headless Chromium: it loads offline
(no request, no console error), draws, and shows the IB box where the raw bars put the IB
and each of the day's fills where --save-trades recorded them, with their SL and TP; the
trades table lists them; in the bid_ask model the ask band is there."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from backtest.analysis.day import day_link, day_paths
from tests.analysis.day_helpers import day_run, raw_day, raw_ib, trades_on
from tests.analysis.report_helpers import DAY_DRAWN, chromium, invoke, open_page
from tests.runner.helpers import full_results

GROUP = "multi"
COMBO = 0
GROUPS = [
    {
        "group_id": GROUP,
        "params": {"ib_end": "09:30", "max_trades_per_day": 3},
        "grid": {"sl_mult": [0.25, 0.5], "tp_mult": [0.5, 1.0]},
    }
]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """The run, the day with the most recorded trades of the combination, and its page."""
    out, bars = day_run(tmp_path_factory.mktemp("day"), GROUPS)
    trades = full_results(out)["groups"][0]["combos"][COMBO]["trades"]
    dates = [t["entry_time"][:10] for t in trades]  # UTC date = Berlin date before 23:00
    date = max(sorted(set(dates)), key=dates.count)
    result = invoke("day", "--from", out, "--group", GROUP, "--combo", COMBO, "--date", date)
    assert result.returncode == 0, result.stderr
    return out, bars, date, trades_on(trades, date)


@pytest.fixture(scope="module")
def page(drawn, tmp_path_factory):
    out, _, date, _ = drawn
    path = out / day_link(GROUP, COMBO, date)
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        tab, seen = open_page(context, path, timeout=20_000, ready=DAY_DRAWN)
        assert seen["drawn"] == [True]
        yield tab, seen, path.as_uri()


def _shapes(tab):
    return tab.evaluate("document.getElementById('day').layout.shapes")


def _trace(tab, name):
    return tab.evaluate(
        f"document.getElementById('day').data.find((t) => t.name === {json.dumps(name)})"
    )


def test_the_page_is_the_stable_file_and_loads_offline(drawn, page):
    out, _, date, _ = drawn
    tab, seen, url = page

    assert url == day_paths(out, GROUP, COMBO, dt.date.fromisoformat(date))["html"].as_uri()
    assert [m for m in seen["console"] if m[0] == "error"] == []
    assert seen["requests"] == [url]  # the file itself, nothing else
    assert tab.evaluate("performance.getEntriesByType('resource').length") == 0


def test_the_ib_box_is_where_the_raw_bars_put_the_ib(drawn, page):
    _, bars, date, _ = drawn
    tab, _, _ = page
    low, high = raw_ib(raw_day(bars, date), "09:00", "09:30")

    boxes = [s for s in _shapes(tab) if s.get("name") == "IB box"]
    rendered = tab.evaluate("document.querySelectorAll('#day .shapelayer path').length")

    assert len(boxes) == 1
    assert (boxes[0]["y0"], boxes[0]["y1"]) == (low, high)
    assert boxes[0]["x1"] == f"{date} 09:30"
    assert rendered == len(_shapes(tab))  # every shape is drawn in the SVG
    names = {s.get("name") for s in _shapes(tab)}
    assert {"IB window", "IBH", "IBL", "buy stop L", "sell stop S"} <= names


def test_the_fills_are_the_recorded_trades_of_the_day(drawn, page):
    _, _, _, expected = drawn
    tab, _, _ = page

    entries, exits = _trace(tab, "entries"), _trace(tab, "exits")
    markers = tab.evaluate(
        "[...document.querySelectorAll('#day .scatterlayer .trace')]"
        ".map((g) => g.querySelectorAll('.points path').length)"
    )
    rows = tab.locator("#fills tbody tr").count()

    assert len(expected) >= 2  # the day chosen has several trades
    assert entries["x"] == [t["entry_local"] for t in expected]
    assert entries["y"] == [t["entry_price"] for t in expected]
    assert exits["x"] == [t["exit_local"] for t in expected]
    assert exits["y"] == [t["exit_price"] for t in expected]
    assert markers.count(len(expected)) >= 2  # the entry and exit markers are drawn
    assert rows == len(expected)
    names = {s.get("name") for s in _shapes(tab)}
    for n, trade in enumerate(expected, start=1):
        sl = next(s for s in _shapes(tab) if s.get("name") == f"SL #{n}")
        assert sl["y0"] == trade["sl"] and sl["x0"] == trade["entry_local"]
        assert (f"TP #{n}" in names) == (trade["tp"] is not None)


def test_the_ask_band_is_drawn_in_the_bid_ask_model(drawn, page):
    _, bars, date, _ = drawn
    tab, _, _ = page
    day = raw_day(bars, date)

    band = _trace(tab, "ask band")

    assert len(band["y"]) == len(day)
    assert band["y"][0] == pytest.approx(float(day["high"][0]) + 1.0)  # + the fixed spread 1.0
