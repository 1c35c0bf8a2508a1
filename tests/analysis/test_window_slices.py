"""A window's metrics from one run's compact trades equal a separate run over that window.

Trades never span days (a position still open is closed at ``close_time`` or at the
day's last bar), so a window of trading days is a slice of the whole run: no bar is
walked again. Checked against real runner processes over random windows.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from backtest.analysis.panel import load_panel, settings_of
from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.data.bars import day_date
from backtest.data.loaders import load_bars
from backtest.engines.run import run_combos
from backtest.runner.groups import expand_group, load_groups_file
from backtest.strategy.metrics import METRIC_KEYS
from tests.runner.helpers import run_cli, write_bars, write_groups

SPAN = ("2024-01-01", "2024-03-29")


@pytest.fixture(scope="module", params=["1000", "0.5"])
def whole_run(tmp_path_factory, request):
    """The whole span once; risk 0.5 makes lots fall below volume_min on wide-IB days."""
    folder = tmp_path_factory.mktemp("slices")
    bars = write_bars(folder / "bars.parquet", *SPAN, seed=11)
    groups = write_groups(folder / "groups.json")
    out = folder / "whole"
    args = [
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--workers",
        1,
        "--skip-charts",
        "--risk",
        request.param,
    ]
    result = run_cli(
        *args, "--start-date", SPAN[0], "--end-date", SPAN[1], "--output-dir", out, "--save-daily"
    )
    assert result.returncode == 0, result.stderr
    return folder, bars, groups, out, args


def _same(expected, actual, key):
    if isinstance(expected, float) and isinstance(actual, float):
        assert math.isclose(expected, actual, rel_tol=1e-12, abs_tol=1e-12), key
    else:
        assert expected == actual, key


def test_random_windows_equal_separate_runs(whole_run):
    folder, _, _, out, args = whole_run
    panel = load_panel(out, "GER40")
    days = panel.trading_days
    rng = random.Random(5)
    skipped_somewhere = False
    for n in range(3):
        a, b = sorted(rng.sample(range(len(days)), 2))
        start, end = day_date(int(days[a])).isoformat(), day_date(int(days[b])).isoformat()
        window_out = folder / f"window{n}"
        result = run_cli(
            *args, "--start-date", start, "--end-date", end, "--output-dir", window_out
        )
        assert result.returncode == 0, result.stderr
        separate = json.loads((window_out / "results_full_GER40.json").read_text())
        expected = [c["metrics"] for g in separate["groups"] for c in g["combos"]]

        frame = panel.metrics(start, end, settings_of(panel.metadata))

        assert len(frame) == len(expected) == 16
        skipped_somewhere = skipped_somewhere or any(m["skipped"] for m in expected)
        for i, metrics in enumerate(expected):
            for key in METRIC_KEYS:
                value = frame[key].iloc[i].item()
                value = None if isinstance(value, float) and math.isnan(value) else value
                _same(metrics[key], value, f"window {start}..{end} combo {i} {key}")
        daily = panel.daily_r(start, end)
        assert daily.shape == (len(panel.days_between(start, end)), 16)
        np.testing.assert_allclose(
            daily.sum(axis=0), [m["total_r"] for m in expected], rtol=1e-5, atol=1e-4
        )
    assert skipped_somewhere == (panel.metadata["risk"] < 1)


def test_trades_never_span_days(whole_run):
    _, bars_path, groups_path, _, _ = whole_run
    bars = load_bars(bars_path, symbol_spec("GER40")).between(*SPAN)
    combos = [c for g in load_groups_file(groups_path).groups for c in expand_group(g)]

    results = run_combos(bars, combos, RunSettings())

    trades = np.concatenate([r.trades for r in results])
    assert len(trades) > 100
    assert (bars.day[trades["entry_bar"]] == bars.day[trades["exit_bar"]]).all()
