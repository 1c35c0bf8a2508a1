"""Config keys added with execution models (spec section 8), symbol names that become
file names, and the data-size bound: strict like every other setting."""

from __future__ import annotations

import pytest

from backtest.core.config import LEGACY_EXECUTION, ConfigError, SymbolSpec, load_config, symbol_spec
from tests.core.test_config_strict import US30


def _load(tmp_path, text):
    path = tmp_path / "ibsweep.yaml"
    path.write_text(text)
    return path, load_config(path)


def test_execution_defaults_are_bid_ask_fixed_spread_no_slippage():
    # Act
    spec = symbol_spec("GER40")
    # Assert
    assert spec.execution() == {
        "spread_model": "bid_ask",
        "spread_source": "fixed",
        "spread_unit": 0.01,
        "slippage": 0.0,
    }
    assert spec.charged_points == 0  # the spread is in the prices, not charged again


def test_cost_model_charges_the_fixed_spread_and_commission(tmp_path):
    # Act
    _, cfg = _load(
        tmp_path, "symbols:\n  GER40: {spread_model: cost, commission: 0.1, slippage: 0.5}\n"
    )
    spec = symbol_spec("GER40", cfg)
    # Assert
    assert (spec.charged_points, spec.slippage_points) == (100 + 10, 50)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "spread_model: bidask",
            "symbols.GER40.spread_model: 'bidask' is not one of bid_ask, cost",
        ),
        ("spread_source: file", "symbols.GER40.spread_source: 'file' is not one of fixed, data"),
        ("{spread_model: cost, spread_source: data}", "'data' needs spread_model bid_ask"),
        ("slippage: -0.5", "symbols.GER40.slippage: -0.5 must be >= 0"),
        ("spread_unit: 0", "symbols.GER40.spread_unit: 0 must be > 0"),
        ("server_tz: 2", "symbols.GER40.server_tz: 2 must be a time zone name"),
    ],
)
def test_bad_execution_settings_are_one_line_naming_the_key(tmp_path, text, message):
    # Arrange
    body = text if text.startswith("{") else "{" + text + "}"
    # Act
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f"symbols:\n  GER40: {body}\n")
    # Assert
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../../../../tmp/x/ESC", "..", "a/b", "-x", ""])
def test_symbol_names_that_are_not_file_name_safe_are_refused(tmp_path, name):
    # Arrange
    text = US30.replace("US30:", f"'{name}':")
    # Act / Assert
    with pytest.raises(ConfigError, match="is not a symbol name"):
        _load(tmp_path, text)


def test_a_recorded_symbol_without_execution_settings_reads_as_the_cost_model():
    # Arrange: symbol_settings as a run recorded them before spec section 8
    saved = {k: v for k, v in symbol_spec("GER40").as_dict().items() if k not in LEGACY_EXECUTION}
    # Act
    spec = SymbolSpec.from_dict("GER40", saved)
    # Assert
    assert spec.spread_model == "cost" and spec.slippage == 0.0 and spec.spread_source == "fixed"
    assert SymbolSpec.from_dict("GER40", symbol_spec("GER40").as_dict()) == symbol_spec("GER40")


def test_max_data_rows_is_a_whole_number(tmp_path):
    # Act / Assert
    _, cfg = _load(tmp_path, "run: {max_data_rows: 500}\n")
    assert cfg["run"]["max_data_rows"] == 500
    with pytest.raises(ConfigError, match="run.max_data_rows: 1.5 is not a whole number"):
        _load(tmp_path, "run: {max_data_rows: 1.5}\n")
