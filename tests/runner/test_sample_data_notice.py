"""A local run on built-in sample data says so in its metadata and in its last line."""

from __future__ import annotations

import subprocess
import sys

from tests.runner.helpers import REPO, full_results, run_cli, runner_env, write_groups


def _config(tmp_path):
    config = tmp_path / "short.yaml"
    config.write_text(
        "periods:\n  in_sample:\n    start_date: '2024-01-08'\n    end_date: '2024-01-12'\n"
        f"    data_file: {tmp_path / 'absent.parquet'}\n"
        f"run:\n  sample_dir: {tmp_path / 'sample'}\n"
    )
    return config


def test_runner_run_on_sample_data_ends_saying_so(tmp_path):
    # Arrange
    out = tmp_path / "out"
    args = ["--groups-file", write_groups(tmp_path / "g.json"), "--config", _config(tmp_path)]
    # Act
    result = run_cli(*args, "--workers", 1, "--skip-charts", "--output-dir", out)
    # Assert
    assert result.returncode == 0, result.stderr
    log_lines = (result.stdout + result.stderr).strip().splitlines()
    assert "SAMPLE DATA: these results come from built-in sample data" in log_lines[-1]
    assert "random walk with no edge, not market data" in log_lines[-1]
    data = full_results(out)["metadata"]["data"]
    assert data["source"] == "sample"
    assert data["path"].startswith(str(tmp_path / "sample"))


def test_invoke_backtest_on_sample_data_ends_saying_so(tmp_path):
    # Arrange
    out = tmp_path / "out"
    groups, config = write_groups(tmp_path / "g.json"), _config(tmp_path)
    command = [sys.executable, "-m", "invoke", "backtest", "--groups-file", str(groups)]
    command += [
        "--config",
        str(config),
        "--workers",
        "1",
        "--skip-charts",
        "--output-dir",
        str(out),
    ]
    # Act
    result = subprocess.run(
        command, cwd=REPO, env=runner_env(), capture_output=True, text=True, timeout=120
    )
    # Assert
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("SAMPLE DATA: ")
