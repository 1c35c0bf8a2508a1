"""The PNG of one drawn day (`invoke day`): a PNG of 1800 × 900 px drawn from the right
bars: its ``ibsweep`` text chunk (what it was drawn from) names the Berlin day's bars as
pandas finds them in the raw file, the IB of the bars in [ib_start, ib_end), both levels,
the fills --save-trades recorded, the one news block of the symbol's currency and the ask
band; each option that names no drawable day is refused."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from backtest.analysis.day import day_paths, parse_date
from tests.analysis.day_helpers import day_run, raw_day, raw_ib, trades_on
from tests.analysis.report_helpers import invoke
from tests.runner.helpers import full_results

GROUP = "news"
DATE = "2024-01-10"
GROUPS = [
    {
        "group_id": GROUP,
        "params": {"ib_end": "09:30", "news_filter": True, "news_before": 30, "news_after": 15},
        "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [1.0, 2.0]},
    }
]
NEWS = (
    "time,currency,impact\n"
    "2024-01-10T11:00:00Z,EUR,high\n"  # 12:00 Berlin: blocks 11:30..12:15
    "2024-01-10T13:30:00Z,USD,high\n"  # not GER40's currency
    "2024-01-10T15:00:00Z,EUR,low\n"  # not high impact
)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("day-png")
    news = folder / "news.csv"
    news.write_text(NEWS)
    out, bars = day_run(folder, GROUPS, "--news-file", news)
    result = invoke("day", "--from", out, "--group", GROUP, "--combo", 0, "--date", DATE)
    assert result.returncode == 0, result.stderr
    return out, bars, result


def test_the_png_is_drawn_from_the_days_bars(drawn):
    out, bars, result = drawn
    path = day_paths(out, GROUP, 0, parse_date(DATE))["png"]
    day = raw_day(bars, DATE)
    low, high = raw_ib(day, "09:00", "09:30")
    recorded = full_results(out)["groups"][0]["combos"][0]["trades"]
    expected = trades_on(recorded, DATE)

    data = path.read_bytes()
    image = Image.open(path)
    drawn_from = json.loads(image.info["ibsweep"])

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.size == (1800, 900)
    assert drawn_from["bars"] == len(day) > 1000
    assert (drawn_from["first_bar"], drawn_from["last_bar"]) == (
        day["local"].iloc[0],
        day["local"].iloc[-1],
    )
    assert drawn_from["high"] == pytest.approx(day["high"].max())
    assert drawn_from["low"] == pytest.approx(day["low"].min())
    assert (drawn_from["ib"]["low"], drawn_from["ib"]["high"]) == (low, high)
    assert drawn_from["levels"] == {"long": high, "short": low}  # entry_buffer 0
    assert drawn_from["entries"] == [[t["entry_local"], t["entry_price"]] for t in expected]
    assert drawn_from["exits"] == [[t["exit_local"], t["exit_price"]] for t in expected]
    assert len(expected) == 1
    assert drawn_from["news_blocks"] == 1
    assert drawn_from["ask_band"] is True
    assert str(path) in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--date", "2024-01-13"), "--date 2024-01-13: no bars on that trading day (Sat)"),
        (
            ("--date", "2024-01-03"),
            "--date 2024-01-03: outside the run's period 2024-01-08..2024-01-19",
        ),
        (("--date", "2024-02-30"), "--date '2024-02-30': not a date (YYYY-MM-DD)"),
        (("--date", DATE, "--group", "nope"), "--group nope: not in the results"),
        (("--date", DATE, "--combo", "4"), "--combo 4: group news has 4 combinations (0..3)"),
        (("--date", DATE, "--combo", "x"), "--combo: 'x' is not a whole number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(drawn, args, expected):
    out, _, _ = drawn
    options = {"--group": GROUP, "--combo": "0", **dict(zip(args[::2], args[1::2]))}
    before = sorted(p.name for p in (out / "days").iterdir())

    result = invoke("day", "--from", out, *[x for kv in options.items() for x in kv])

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert sorted(p.name for p in (out / "days").iterdir()) == before  # nothing written


def test_a_day_without_a_trade_says_why_and_the_cost_model_has_no_ask_band(tmp_path):
    groups = [{"group_id": "no_wed", "params": {"weekdays": [0, 1, 3, 4]}, "grid": {}}]
    out, _ = day_run(tmp_path, groups, "--spread-model", "cost")

    result = invoke("day", "--from", out, "--group", "no_wed", "--combo", 0, "--date", DATE)

    assert result.returncode == 0, result.stderr
    assert "0 trades; no trade: weekday not traded (weekdays [0, 1, 3, 4], 0 = Monday)" in (
        result.stdout
    )
    drawn_from = json.loads(
        Image.open(day_paths(out, "no_wed", 0, parse_date(DATE))["png"]).info["ibsweep"]
    )
    assert drawn_from["entries"] == [] and drawn_from["ask_band"] is False
    assert drawn_from["ib"] is not None  # the IB is still drawn
