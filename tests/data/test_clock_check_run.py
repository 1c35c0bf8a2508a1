"""The runner checks the data's clock before it runs (issue 25 item 1): a --server-tz that
puts the cash open hours away is bad input (exit 2, one line, nothing written);
--ignore-clock-check runs anyway and the run's metadata records it."""

from __future__ import annotations

import pytest

from tests.data.clock_helpers import sample_frame, write_mt5_export
from tests.runner.bad_input import assert_refused
from tests.runner.helpers import full_results, run_args, run_cli, write_groups


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """GER40 sample bars on broker:NY+7 covering the runner tests' dates, and groups."""
    folder = tmp_path_factory.mktemp("clock_run")
    frame = sample_frame("GER40", "2024-01-01", "2024-01-19")
    bars = write_mt5_export(frame, folder / "GER40_export.csv", "broker:NY+7")
    return bars, write_groups(folder / "groups.json")


def test_a_posix_signed_server_tz_is_refused_before_anything_runs(export, tmp_path):
    # Arrange
    bars, groups = export
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(bars, groups, out, "--server-tz", "Etc/GMT+2"))
    # Assert
    line = assert_refused(result, out, str(bars), "the clock looks wrong", "--server-tz")
    assert "Etc/GMT+2 (UTC-2: POSIX inverts the sign)" in line
    assert "--server-tz broker:NY+7 puts it right (--ignore-clock-check runs anyway)" in line


def test_ignore_clock_check_runs_and_is_recorded(export, tmp_path):
    # Arrange
    bars, groups = export
    out = tmp_path / "out"
    # Act
    result = run_cli(
        *run_args(bars, groups, out, "--server-tz", "Etc/GMT+2", "--ignore-clock-check"),
        "--no-report",
        "--charts",
        "none",
    )
    # Assert
    assert result.returncode == 0, result.stderr
    meta = full_results(out)["metadata"]
    assert (meta["ignore_clock_check"], meta["server_tz"]) == (True, "Etc/GMT+2")
    assert "ignored (--ignore-clock-check)" in result.stdout + result.stderr
