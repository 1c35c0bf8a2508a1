"""Walk-forward chooses on each train window what a plain run over that window ranks first,
and reports for the test window exactly what a plain run of that combination gives."""

from __future__ import annotations

import json
import math

import pytest

from backtest.analysis.walk_forward import WalkForwardSettings, make_windows, run_walk_forward
from backtest.runner.options import RunOptions
from backtest.strategy.metrics import METRIC_KEYS
from tests.runner.helpers import run_cli, write_bars, write_groups

SPAN = ("2024-01-01", "2024-06-30")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf")
    return root, write_bars(root / "bars.parquet", *SPAN, seed=21), write_groups(root / "g.json")


def plain_run(root, bars, groups, start, end, name):
    """All combinations of a plain runner process over start..end, in summary order."""
    out = root / name
    result = run_cli(
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--start-date",
        start,
        "--end-date",
        end,
        "--workers",
        1,
        "--skip-charts",
        "--output-dir",
        out,
    )
    assert result.returncode == 0, result.stderr
    full = json.loads((out / "results_full_GER40.json").read_text())
    return [
        (g["group_id"], i, c["metrics"]) for g in full["groups"] for i, c in enumerate(g["combos"])
    ]


def argmax(rows, key, min_trades=0):
    """Highest ``key`` among rows with enough trades; ties to the earlier row (summary order)."""
    best = None
    for row in rows:
        value, trades = row[2][key], row[2]["trades"]
        if trades < min_trades or trades == 0:
            continue
        if best is None or value > best[2][key]:
            best = row
    return best


@pytest.mark.parametrize("objective, min_trades", [("total_r", 0), ("sharpe", 30)])
def test_each_window_equals_plain_runs(data, objective, min_trades):
    root, bars, groups = data
    options = RunOptions(
        groups_file=groups,
        data_file=bars,
        start_date=SPAN[0],
        end_date=SPAN[1],
        workers=1,
        skip_charts=True,
        output_dir=root / f"wf_{objective}",
    )

    settings = WalkForwardSettings(
        "2M", "1M", objective=objective, min_trades=min_trades, with_robustness=False
    )
    done = run_walk_forward(options, settings)

    windows = done["result"]["windows"]
    assert len(windows) == 4  # Jan-Feb/Mar, Feb-Mar/Apr, Mar-Apr/May, Apr-May/Jun
    for w in windows:
        train = plain_run(
            root, bars, groups, w["train_start"], w["train_end"], f"{objective}_tr{w['window']}"
        )
        gid, combo, _ = argmax(train, objective, min_trades)
        assert (w["group_id"], w["combo"]) == (gid, combo), w["window"]
        test = plain_run(
            root, bars, groups, w["test_start"], w["test_end"], f"{objective}_te{w['window']}"
        )
        expected = next(m for g, i, m in test if (g, i) == (gid, combo))
        for key in METRIC_KEYS:
            got, want = w["test_metrics"][key], expected[key]
            if isinstance(want, float) and isinstance(got, float):
                assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), key
            else:
                assert got == want, key
    files = done["paths"]
    assert {p.name for p in files.values()} == {
        "walk_forward_GER40.csv",
        "walk_forward_GER40.json",
        "walk_forward_GER40.png",
    }
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_windows_rolling_and_anchored():
    import datetime as dt

    start, end = dt.date(2023, 1, 1), dt.date(2023, 12, 31)

    rolling = make_windows(start, end, "6M", "3M")
    anchored = make_windows(start, end, "6M", "3M", anchored=True)

    assert [(w.train_start.isoformat(), w.test_end.isoformat()) for w in rolling] == [
        ("2023-01-01", "2023-09-30"),
        ("2023-04-01", "2023-12-31"),
    ]
    assert [(w.train_start.isoformat(), w.train_end.isoformat()) for w in anchored] == [
        ("2023-01-01", "2023-06-30"),
        ("2023-01-01", "2023-09-30"),
    ]
    assert rolling[1].test_start.isoformat() == "2023-10-01"
