"""results_full metadata names the data (source, path, checksum, first and last bar) and
the costs and symbol settings the run used (io-contract)."""

from __future__ import annotations

import hashlib

import pandas as pd

from tests.runner.helpers import END, START, full_results, run_args, run_cli


def test_file_run_records_its_data_and_costs(dataset, tmp_path):
    # Arrange
    config = tmp_path / "costs.yaml"
    config.write_text("symbols:\n  GER40: {spread: 1.2, commission: 0.1}\n")
    out = tmp_path / "out"
    frame = pd.read_parquet(dataset.bars)
    local_day = frame["time"].dt.tz_convert("Europe/Berlin").dt.strftime("%Y-%m-%d")
    in_period = frame["time"][(local_day >= START) & (local_day <= END)]
    # Act
    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--config", config, "--skip-charts")
    )
    # Assert
    assert result.returncode == 0, result.stderr
    meta = full_results(out)["metadata"]
    data = meta["data"]
    assert data["source"] == "file"
    assert data["path"] == str(dataset.bars)
    assert data["checksum"] == hashlib.sha256(dataset.bars.read_bytes()).hexdigest()
    assert data["first_bar"] == in_period.iloc[0].isoformat()
    assert data["last_bar"] == in_period.iloc[-1].isoformat()
    assert data["bars"] == len(in_period)
    assert meta["symbol_settings"] == {
        "spread": 1.2,
        "commission": 0.1,
        "point": 0.01,
        "value_per_point": 1.0,
        "volume_min": 0.01,
        "volume_step": 0.01,
        "timezone": "Europe/Berlin",
        "currencies": ["EUR"],
        "spread_model": "bid_ask",
        "spread_source": "fixed",
        "spread_unit": 0.01,
        "slippage": 0.0,
    }
    assert "SAMPLE DATA" not in result.stdout + result.stderr
