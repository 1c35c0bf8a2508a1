"""Configuration: defaults and user overrides without code edits."""

import pytest

from backtest.core.config import ConfigError, load_config, period, symbol_spec


def test_override_file_changes_one_value_and_keeps_the_rest(tmp_path):
    override = tmp_path / "ibsweep.yaml"
    override.write_text(
        "symbols:\n  GER40:\n    spread: 2.5\nperiods:\n  control:\n    end_date: '2026-02-01'\n"
    )

    cfg = load_config(override)

    assert symbol_spec("GER40", cfg).spread == 2.5
    assert symbol_spec("GER40", cfg).spread_points == 250
    assert symbol_spec("GER40", cfg).timezone == "Europe/Berlin"
    assert period("control", cfg).end_date == "2026-02-01"
    assert period("control", cfg).start_date == "2025-11-04"


def test_environment_variable_selects_the_file(tmp_path, monkeypatch):
    override = tmp_path / "c.yaml"
    override.write_text("run:\n  risk: 250\n")
    monkeypatch.setenv("IBSWEEP_CONFIG", str(override))

    assert load_config()["run"]["risk"] == 250


def test_unknown_section_and_symbol_are_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("symbol:\n  GER40: {}\n")

    with pytest.raises(ConfigError, match="unknown section 'symbol'"):
        load_config(bad)
    with pytest.raises(ConfigError, match="unknown symbol 'US30'"):
        symbol_spec("US30")


def test_spec_defaults():
    xau = symbol_spec("XAUUSD")

    assert (xau.timezone, xau.value_per_point, xau.spread_points) == ("Europe/London", 100.0, 20)
    assert period("in_sample").start_date == "2023-01-01"
    assert period("in_sample").end_date == "2025-10-31"


def test_digits_are_the_decimals_of_the_point(tmp_path):
    override = tmp_path / "points.yaml"
    override.write_text("symbols:\n  XAUUSD:\n    point: 0.001\n  GER40:\n    point: 0.1\n")

    cfg = load_config(override)

    assert symbol_spec("XAUUSD").digits == 2
    assert symbol_spec("XAUUSD", cfg).digits == 3
    assert symbol_spec("GER40", cfg).digits == 1
