"""The same run twice gives byte-identical tables and the same full results."""

from __future__ import annotations

from tests.runner.helpers import (
    combos_bytes,
    full_results,
    run_args,
    run_cli,
    summary_bytes,
    without_run_time,
)


def test_second_run_gives_identical_results(baseline, dataset, tmp_path):
    out = tmp_path / "again"

    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    assert result.returncode == 0, result.stderr
    assert summary_bytes(out) == summary_bytes(baseline.out)
    assert combos_bytes(out) == combos_bytes(baseline.out)
    assert without_run_time(full_results(out)) == without_run_time(full_results(baseline.out))
