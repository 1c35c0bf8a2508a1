"""Which data file a run uses: explicit, configured, or built-in sample data (said on the log)."""

import copy

import pytest

from backtest.core.config import DEFAULTS
from backtest.data.bars import day_date
from backtest.data.files import DataError
from backtest.data.loaders import load_period_bars, resolve_data_file


@pytest.fixture
def cfg(tmp_path):
    cfg = copy.deepcopy(DEFAULTS)
    cfg["run"]["sample_dir"] = str(tmp_path / "sample")
    cfg["periods"]["tiny"] = {
        "start_date": "2024-01-08",
        "end_date": "2024-01-09",
        "data_file": str(tmp_path / "{symbol}_tiny.csv"),
    }
    return cfg


def test_explicit_file_must_exist(tmp_path, cfg):
    with pytest.raises(DataError, match="nope.parquet: data file not found"):
        resolve_data_file("GER40", "tiny", str(tmp_path / "nope.parquet"), cfg)


def test_explicit_file_is_used(write_csv, cfg):
    path = write_csv(["2024-01-08 08:00,100,101,99,100"])

    assert resolve_data_file("GER40", "tiny", str(path), cfg) == (path, False)


def test_configured_file_is_used_when_present(tmp_path, cfg):
    configured = tmp_path / "GER40_tiny.csv"
    configured.write_text("time,open,high,low,close\n2024-01-08 08:00,100,101,99,100\n")

    assert resolve_data_file("GER40", "tiny", None, cfg) == (configured, False)


def test_sample_data_when_nothing_configured(tmp_path, cfg):
    messages = []

    path, is_sample = resolve_data_file("GER40", "tiny", None, cfg, log=messages.append)
    again, _ = resolve_data_file("GER40", "tiny", None, cfg, log=messages.append)

    assert is_sample and again == path
    assert path.parent == tmp_path / "sample" and path.name.startswith("GER40_M1_2024-01-08_")
    assert "using built-in sample data" in messages[0] and str(path) in messages[0]


def test_load_period_bars_loads_the_whole_file(cfg):
    bars = load_period_bars("XAUUSD", "tiny", cfg=cfg, log=lambda message: None)

    assert [str(day_date(d)) for d in bars.trading_days()] == ["2024-01-08", "2024-01-09"]
    assert bars.symbol.name == "XAUUSD"
