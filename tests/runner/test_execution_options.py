"""The execution options of spec section 8 on the runner's command line: applied,
recorded, and refused as one line when they cannot go together."""

from __future__ import annotations

from tests.runner.helpers import full_results, run_args, run_cli


def test_run_options_override_the_symbols_execution_settings(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--spread-model", "cost"),
        "--slippage",
        "0.5",
        "--skip-charts",
        "--no-report",
    )
    # Assert
    assert result.returncode == 0, result.stderr
    settings = full_results(out)["metadata"]["symbol_settings"]
    assert settings["spread_model"] == "cost"
    assert settings["spread_source"] == "fixed"
    assert settings["slippage"] == 0.5


def test_cost_model_with_the_datas_spread_is_one_line_and_writes_nothing(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out),
        "--spread-model",
        "cost",
        "--spread-source",
        "data",
    )
    # Assert
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--spread-source" in result.stderr and "bid_ask" in result.stderr
    assert not out.exists()


def test_negative_slippage_is_refused(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out), "--slippage", "-1")
    # Assert
    assert result.returncode == 2
    assert "slippage" in result.stderr and ">= 0" in result.stderr
    assert not out.exists()
