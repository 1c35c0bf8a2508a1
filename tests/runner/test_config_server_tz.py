"""A symbol's broker clock in the config (``server_tz``) is used when no --server-tz is
given, checked like the option, and recorded."""

from __future__ import annotations

from tests.runner.bad_input import assert_refused
from tests.runner.helpers import full_results, run_args, run_cli


def _config(tmp_path, value: str):
    path = tmp_path / "ibsweep.yaml"
    path.write_text(f"symbols:\n  GER40: {{server_tz: '{value}'}}\n")
    return path


def test_configured_server_tz_is_used_and_recorded(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    config = _config(tmp_path, "broker:NY+7")
    # Act
    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--config", config, "--no-report")
    )
    # Assert: recorded; a Parquet file holds UTC times, so it says the zone is not used
    assert result.returncode == 0, result.stderr
    assert full_results(out)["metadata"]["server_tz"] == "broker:NY+7"
    assert "server_tz broker:NY+7 not used" in result.stdout + result.stderr


def test_a_bad_configured_server_tz_names_the_config_key(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    config = _config(tmp_path, "Mars/Olympus")
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--config", config))
    # Assert
    assert_refused(result, out, "symbols.GER40.server_tz", "Mars/Olympus")
