"""Re-running a finished run on its own output directory computes nothing and leaves
every result file byte-identical (metadata included)."""

from __future__ import annotations

from tests.runner.helpers import SYMBOL, copy_run, run_args, run_cli

FILES = (
    f"results_summary_{SYMBOL}.csv",
    f"results_combos_{SYMBOL}.csv",
    f"results_full_{SYMBOL}.json",
    f"failed_groups_{SYMBOL}.json",
    "checkpoint.jsonl",
)


def test_rerun_of_a_finished_run_leaves_its_files_identical(baseline, dataset, tmp_path):
    out = copy_run(baseline.out, tmp_path / "out")
    before = {name: (out / name).read_bytes() for name in FILES}

    result = run_cli(*run_args(dataset.bars, dataset.groups, out))

    assert result.returncode == 0, result.stderr
    assert "2 of 2 groups already finished" in result.stdout
    assert "INFO - [" not in result.stdout  # no group computed again
    assert "workers" not in result.stdout  # no worker is started, none is counted
    assert {name: (out / name).read_bytes() for name in FILES} == before
