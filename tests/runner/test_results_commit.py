"""The result files are one unit: when a run stops part-way through writing them, the
files already replaced are not trusted; readers use the run's checkpoint instead."""

from __future__ import annotations

import json

from backtest.analysis.merge import merge_dirs
from backtest.runner.outputs import commit_problem, read_results, result_paths
from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli


def test_a_run_that_stops_while_writing_results_commits_nothing(baseline, dataset, tmp_path):
    # Arrange: a finished, committed run; then its results_full cannot be replaced (a
    # directory holds its name), so the second writer stops after the two CSVs
    out = tmp_path / "out"
    first = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))
    old_summary = (out / f"results_summary_{SYMBOL}.csv").read_bytes()
    (out / f"results_full_{SYMBOL}.json").unlink()
    (out / f"results_full_{SYMBOL}.json").mkdir()

    # Act
    second = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))
    recovered = read_results(out, SYMBOL)
    merged = merge_dirs([out], tmp_path / "merged")

    # Assert
    assert first.returncode == 0, first.stderr
    assert second.returncode == 3 and "IsADirectoryError" in second.stderr
    assert (out / f"results_summary_{SYMBOL}.csv").read_bytes() == old_summary  # rewritten
    assert not (out / f"results_manifest_{SYMBOL}.json").exists()
    assert commit_problem(out, SYMBOL).startswith(f"no results_manifest_{SYMBOL}.json")
    assert recovered["metadata"]["recovered_from_checkpoint"] == str(out / "checkpoint.jsonl")
    expected = full_results(baseline.out)["groups"]
    assert [(g["group_id"], g["best"], g["combos"]) for g in recovered["groups"]] == [
        (g["group_id"], g["best"], g["combos"]) for g in expected
    ]
    assert merged.merged == ["group_GER40_001", "group_GER40_002"]
    assert commit_problem(tmp_path / "merged", SYMBOL) is None
    manifest = json.loads((tmp_path / "merged" / f"results_manifest_{SYMBOL}.json").read_text())
    assert sorted(manifest["files"]) == sorted(result_paths(tmp_path / "merged", SYMBOL))
