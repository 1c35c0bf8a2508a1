"""Strict config: unknown keys with "did you mean", types and ranges, every missing key
of a new symbol in one line, new symbols' other parameters from the spec's defaults."""

from __future__ import annotations

import pytest

from backtest.core.config import ConfigError, default_params, load_config, symbol_spec

US30 = (
    "symbols:\n  US30:\n    timezone: America/New_York\n    currencies: [usd]\n"
    "    point: 0.1\n    value_per_point: 1\n    volume_min: 0.01\n    volume_step: 0.01\n"
    "    spread: 2\n    commission: 0\n"
    "    params: {ib_start: '09:30', ib_end: '10:30', trade_end: '15:00', close_time: '16:00'}\n"
)


def _load(tmp_path, text):
    path = tmp_path / "ibsweep.yaml"
    path.write_text(text)
    return path, lambda: load_config(path)


def test_misspelled_key_is_refused_with_the_right_name(tmp_path):
    # Arrange
    path, load = _load(tmp_path, "symbols:\n  GER40: {spread: 1.2, comission: 0.1}\n")
    # Act
    with pytest.raises(ConfigError) as info:
        load()
    # Assert
    assert str(info.value).startswith(
        f"{path}: symbols.GER40.comission: unknown key (did you mean 'commission'?); known: "
    )


def test_new_symbol_lists_every_missing_key_in_one_line(tmp_path):
    # Arrange
    path, load = _load(tmp_path, "symbols:\n  US30: {timezone: America/New_York, point: 0.1}\n")
    # Act
    with pytest.raises(ConfigError) as info:
        load()
    # Assert
    assert str(info.value) == (
        f"{path}: symbols.US30: new symbol 'US30' is missing: currencies, value_per_point, "
        "volume_min, volume_step, spread, commission, params"
    )


def test_new_symbol_missing_a_time_parameter_is_listed_too(tmp_path):
    # Arrange
    path, load = _load(tmp_path, US30.replace(", close_time: '16:00'", ""))
    # Act / Assert
    with pytest.raises(ConfigError, match=r"is missing: params\.close_time$"):
        load()


def test_complete_new_symbol_gets_the_spec_defaults_for_the_other_parameters(tmp_path):
    # Arrange
    _, load = _load(tmp_path, US30)
    # Act
    cfg = load()
    # Assert
    spec = symbol_spec("US30", cfg)
    assert (spec.currencies, spec.point, spec.spread_points) == (("USD",), 0.1, 20)
    params = default_params("US30", cfg)
    assert (params["ib_start"], params["close_time"]) == ("09:30", "16:00")
    assert (params["sl_mult"], params["max_trades_per_day"], params["weekdays"]) == (
        1.0,
        1,
        [0, 1, 2, 3, 4],
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("symbols:\n  GER40: {point: 0}\n", "symbols.GER40.point: 0 must be > 0"),
        ("symbols:\n  GER40: {volume_min: -1}\n", "symbols.GER40.volume_min: -1 must be > 0"),
        ("symbols:\n  GER40: {point: true}\n", "symbols.GER40.point: True is not a number"),
        ("symbols:\n  GER40: {spread: -0.5}\n", "symbols.GER40.spread: -0.5 must be >= 0"),
        ("run:\n  max_loss_limit_pct: 0\n", "run.max_loss_limit_pct: 0 must be > 0"),
        ("run:\n  max_loss_limit_pct: 100.5\n", "run.max_loss_limit_pct: 100.5 must be <= 100"),
        ("run:\n  max_combinations: 0\n", "run.max_combinations: 0 must be > 0"),
        (
            "symbols:\n  GER40: {timezone: Europe/Berln}\n",
            "symbols.GER40.timezone: 'Europe/Berln' is not an IANA time zone "
            "(did you mean 'Europe/Berlin'?)",
        ),
        (
            "periods:\n  control: {start_date: '2026-02-01'}\n",
            "periods.control: start_date 2026-02-01 is after end_date 2026-01-20",
        ),
        (
            "symbols:\n  GER40: {currencies: [EUR, 12]}\n",
            "symbols.GER40.currencies: ['EUR', 12] must be a list of 3-letter codes",
        ),
    ],
)
def test_types_and_ranges(tmp_path, text, message):
    # Arrange
    path, load = _load(tmp_path, text)
    # Act
    with pytest.raises(ConfigError) as info:
        load()
    # Assert
    assert str(info.value).startswith(f"{path}: {message}")


def test_limits_at_the_edge_are_accepted(tmp_path):
    # Arrange
    _, load = _load(tmp_path, "run:\n  daily_loss_limit_pct: 100\n  max_loss_limit_pct: 0.5\n")
    # Act
    cfg = load()
    # Assert
    assert (cfg["run"]["daily_loss_limit_pct"], cfg["run"]["max_loss_limit_pct"]) == (100, 0.5)
