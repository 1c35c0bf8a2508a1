"""Data that does not cover the period: a warning on the log and in the metadata; with
--strict-data an error (exit 2, one line, nothing written)."""

from __future__ import annotations

from tests.runner.bad_input import assert_refused
from tests.runner.helpers import END, full_results, run_cli


def _args(dataset, out, *extra):
    # the data starts 2024-01-02 (1 January has no bars); from 2023-12-11 that leaves 16 weekdays
    return [
        "--groups-file", dataset.groups, "--data-file", dataset.bars, "--start-date",
        "2023-12-11", "--end-date", END, "--workers", 1, "--skip-charts", "--output-dir", out,
        *extra,
    ]  # fmt: skip


def test_uncovered_start_is_warned_and_recorded(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(*_args(dataset, out))
    # Assert
    assert result.returncode == 0, result.stderr
    problem = "the data starts on 2024-01-02: 16 weekdays of the period 2023-12-11..2024-01-19"
    assert problem in (out / "run.log").read_text()
    meta = full_results(out)["metadata"]
    assert meta["start_date"] == "2023-12-11"
    assert meta["data"]["coverage"]["uncovered_before"] == 16
    assert meta["data"]["coverage"]["ok"] is False
    assert problem in meta["warnings"][0]
    last = [line for line in result.stdout.splitlines() if "data coverage" in line]
    assert len(last) == 1 and problem in last[0]
    assert result.stdout.index("data coverage") > result.stdout.index("done: ")


def test_strict_data_refuses(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(*_args(dataset, out, "--strict-data"))
    # Assert
    assert_refused(result, out, "bars.parquet", "16 weekdays", "--strict-data")
