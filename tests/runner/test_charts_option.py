"""--charts top:N draws the best N groups' charts and the whole-run heatmaps at the end
of a run; --charts none (or --skip-charts) and --no-report leave them out; the HTML
report is written by default."""

from __future__ import annotations

import json

from backtest.runner.charts import run_heatmap_path
from tests.runner.helpers import SYMBOL, run_args, run_cli, summary_bytes


def _best_group(out):
    return summary_bytes(out).decode().splitlines()[1].split(",")[0]


def test_top_1_draws_the_best_group_and_the_whole_run(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--charts", "top:1"))

    assert result.returncode == 0, result.stderr
    best = _best_group(out)
    whole = {
        run_heatmap_path(out / "charts", SYMBOL, x, y).name
        for x, y in (("tp_mult", "ib_end"), ("tp_mult", "sl_mult"), ("ib_end", "sl_mult"))
    }
    assert {p.name for p in (out / "charts").iterdir()} == {
        f"{best}_equity.png",
        f"{best}_heatmap.png",
        *whole,
    }
    assert (out / f"report_{SYMBOL}.html").is_file()
    assert (
        "charts: 1 of 2 groups (--charts top:1) and 3 whole-run heatmaps"
        in result.stdout + result.stderr
    )


def test_none_and_no_report_write_neither(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--charts", "none", "--no-report")
    )

    assert result.returncode == 0, result.stderr
    assert not (out / "charts").exists()
    assert not (out / f"report_{SYMBOL}.html").exists()
    assert json.loads((out / f"results_full_{SYMBOL}.json").read_text())["groups"]


def test_a_bad_value_is_one_line_and_exit_2(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--charts", "top:0"))

    assert result.returncode == 2
    assert result.stderr == "error: --charts: 'top:0' is not top:N (N >= 1), all or none\n"
    assert not out.exists()
