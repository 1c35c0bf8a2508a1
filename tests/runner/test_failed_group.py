"""A group that raises is recorded failed, the run goes on, and its file re-runs it."""

from __future__ import annotations

import csv
import json

from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli


def _summary_rows(out):
    with open(out / f"results_summary_{SYMBOL}.csv", newline="") as handle:
        return {row["group_id"]: row for row in csv.DictReader(handle)}


def test_failed_group_lands_in_failed_groups_and_reruns(baseline, dataset, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"

    broken = run_cli(
        *run_args(dataset.bars, dataset.groups, first, "--skip-charts"),
        fault="group_GER40_002:raise",
    )
    failed_file = first / f"failed_groups_{SYMBOL}.json"
    failed = json.loads(failed_file.read_text())
    rerun = run_cli(*run_args(dataset.bars, failed_file, second, "--skip-charts"))

    assert broken.returncode == 1
    assert [g["group_id"] for g in failed["groups"]] == ["group_GER40_002"]
    assert failed["groups"][0]["error"] == "RuntimeError: injected fault (IBSWEEP_FAULT)"
    assert failed["groups"][0]["params"] == {"ib_end": "09:30"}
    assert "ERROR - [" in broken.stdout and "group_GER40_002: failed: RuntimeError" in broken.stdout
    record = next(g for g in full_results(first)["groups"] if g["group_id"] == "group_GER40_002")
    assert (record["status"], record["combos"], record["best"]) == ("failed", [], None)
    assert list(_summary_rows(first)) == ["group_GER40_001"]
    assert _summary_rows(first)["group_GER40_001"] == _summary_rows(baseline.out)["group_GER40_001"]

    assert rerun.returncode == 0, rerun.stderr
    assert _summary_rows(second) == {
        "group_GER40_002": _summary_rows(baseline.out)["group_GER40_002"]
    }
    assert json.loads((second / f"failed_groups_{SYMBOL}.json").read_text())["groups"] == []


def test_rerunning_the_failed_file_on_the_same_output_dir_completes_the_run(
    baseline, dataset, tmp_path
):
    out = tmp_path / "out"
    broken = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts"), fault="group_GER40_001:raise"
    )

    rerun = run_cli(
        *run_args(dataset.bars, out / f"failed_groups_{SYMBOL}.json", out, "--skip-charts")
    )

    assert broken.returncode == 1
    assert rerun.returncode == 0, rerun.stderr
    assert "1 of 2 groups already finished" in rerun.stdout
    assert [g["group_id"] for g in full_results(out)["groups"]] == [
        "group_GER40_001",
        "group_GER40_002",
    ]
    assert (out / f"results_summary_{SYMBOL}.csv").read_bytes() == (
        baseline.out / f"results_summary_{SYMBOL}.csv"
    ).read_bytes()
