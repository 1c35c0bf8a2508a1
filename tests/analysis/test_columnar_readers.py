"""The analysis readers give the same answers when results_full holds no combinations
(above the inline limit: they read the Parquet table, or the parts of a run read from
its checkpoint) as on the same run with every combination inline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import backtest.runner.outputs as outputs
from tests.runner.helpers import END, SYMBOL, run_args, write_bars, write_groups


def _run(folder: Path, bars: Path, groups: Path, name: str) -> Path:
    """The runner in this process (its workers fork from it: a patched limit holds)."""
    from backtest.runner.main import main

    out = folder / name
    extra = ("--no-report", "--skip-charts", "--save-daily", "--save-trades", "top:2")
    args = run_args(bars, groups, out, *extra)
    assert main([str(a) for a in args]) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One sweep three times: inline, compact (table only), compact read from its
    checkpoint (manifest gone: the parts hold the rows)."""
    folder = tmp_path_factory.mktemp("columnar_readers")
    bars = write_bars(folder / "bars.parquet", "2024-01-01", END)
    groups = write_groups(folder / "groups.json")
    inline = _run(folder, bars, groups, "inline")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outputs, "INLINE_LIMIT", 5)
        compact = _run(folder, bars, groups, "compact")
    fallback = folder / "fallback"
    shutil.copytree(compact, fallback)
    outputs.manifest_path(fallback, SYMBOL).unlink()
    full = json.loads((compact / f"results_full_{SYMBOL}.json").read_text())
    assert full["metadata"]["combos_inline"] is False
    assert all("combos" not in g for g in full["groups"])
    return {"inline": inline, "compact": compact, "fallback": fallback}


SHOWN = ("columns", "group_index", "combo_index", "details", "detail_source", "groups")


@pytest.mark.parametrize("rank_by", ["total_r", "sharpe", "max_dd_r", "prop_ok"])
def test_report_data_is_the_same(runs, rank_by):
    from backtest.analysis.report import report_data

    # Act
    got = {k: report_data(out, SYMBOL, rank_by, detail=5) for k, out in runs.items()}

    # Assert
    want = got["inline"]
    assert want["meta"]["combinations"] == 16 and len(want["columns"]["metric"]["total_r"]) == 16
    assert set(want["columns"]["params"]) == {"ib_end", "sl_mult", "tp_mult"}
    assert want["details"]  # the best five have trades to show
    for kind in ("compact", "fallback"):
        assert {k: got[kind][k] for k in SHOWN} == {k: want[k] for k in SHOWN}, kind
        assert got[kind]["meta"]["combinations"] == 16


@pytest.mark.parametrize(
    "options",
    [("total_r", 0, False), ("r_over_dd", 1, False), ("profit_factor", 0, True)],
)
def test_rank_run_is_the_same(runs, options):
    from backtest.analysis.ranking import rank_run

    # Act
    got = {k: rank_run(out, SYMBOL, *options, top=6) for k, out in runs.items()}

    # Assert
    rows = got["inline"][1]
    assert rows and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    for kind in ("compact", "fallback"):
        assert got[kind][1] == rows
        assert got[kind][0].read_bytes() == got["inline"][0].read_bytes()


def test_control_comparison_is_the_same(runs, tmp_path):
    from backtest.analysis.control import compare_control

    # Arrange: the bars' days before the in-sample period (a control is out of sample)
    bars = runs["inline"].parent / "bars.parquet"

    # Act
    csv = {
        kind: compare_control(
            out,
            top="25%",
            min_count=2,
            output_dir=tmp_path / kind,
            data_file=str(bars),
            start_date="2024-01-01",
            end_date="2024-01-05",
            rank_by="sharpe",
            min_trades=1,
        ).read_text()
        for kind, out in runs.items()
    }

    # Assert
    assert len(csv["inline"].splitlines()) == 1 + 4  # 25 % of 16
    assert csv["compact"] == csv["inline"] and csv["fallback"] == csv["inline"]


def test_candidate_and_rerun_lookups_are_the_same(runs):
    from backtest.analysis.rerun import rerun
    from backtest.promotion.candidate import load_candidate

    # Act (committed results only: a checkpoint names no data file to re-run with)
    committed = ("inline", "compact")
    candidates = {k: load_candidate(runs[k], "group_GER40_002", 5, SYMBOL) for k in committed}
    again = {k: rerun(runs[k], SYMBOL, [("group_GER40_002", 5)])[0][0] for k in committed}

    # Assert
    assert candidates["inline"].params["ib_end"] == "09:30"
    assert candidates["compact"].params == candidates["inline"].params
    assert candidates["compact"].metrics == candidates["inline"].metrics
    assert again["inline"].pick.params == candidates["inline"].params
    assert again["inline"].records and again["inline"].differences == {}
    assert again["compact"].records == again["inline"].records
    assert again["compact"].pick == again["inline"].pick


def test_panel_is_the_same(runs):
    from backtest.analysis.panel import load_panel

    # Act
    panels = {k: load_panel(out, SYMBOL) for k, out in runs.items()}

    # Assert
    want = panels["inline"]
    assert len(want) == 16 and want.params[9]["ib_end"] == "09:30"
    for kind in ("compact", "fallback"):
        assert list(panels[kind].params) == list(want.params)
        assert list(panels[kind].group_id) == list(want.group_id)
        assert panels[kind].params[-1] == want.params[15]


def test_whole_run_heatmaps_are_the_same(runs, tmp_path):
    from functools import partial

    from backtest.runner.charts import run_heatmap_charts
    from backtest.runner.rundir import group_rows

    # Arrange: the inline run's records with their combinations, the compact run's parts
    inline = outputs.read_results(runs["inline"], SYMBOL, combos=False)["groups"]
    compact = outputs.read_results(runs["fallback"], SYMBOL, combos=False)["groups"]

    # Act
    want = run_heatmap_charts(tmp_path / "inline", SYMBOL, inline)
    got = run_heatmap_charts(
        tmp_path / "compact", SYMBOL, compact, rows=partial(group_rows, runs["fallback"])
    )

    # Assert
    assert [p.name for p in want] == [p.name for p in got] and len(want) == 3
    assert [p.read_bytes() for p in got] == [p.read_bytes() for p in want]


def test_charts_task_is_the_same(runs):
    from invoke import Context

    from tasks.analysis import charts

    # Act
    for out in runs.values():
        charts(Context(), str(out))

    # Assert
    names = sorted(p.name for p in (runs["inline"] / "charts").iterdir())
    groups = [n for n in names if n.startswith("group_")]
    assert len(groups) == 4  # equity and heatmap of both groups
    assert len(names) > 4 and all(n.startswith("whole_run_") for n in set(names) - set(groups))
    for kind in ("compact", "fallback"):
        folder = runs[kind] / "charts"
        assert sorted(p.name for p in folder.iterdir()) == names
        for name in names:
            assert (folder / name).read_bytes() == (runs["inline"] / "charts" / name).read_bytes()
