"""Config typos and impossible symbol settings are bad input (issue 9): one line naming
the config file and the key, exit code 2, no traceback, the output folder untouched."""

from __future__ import annotations

import pytest

from tests.runner.bad_input import assert_refused
from tests.runner.helpers import run_args, run_cli

CASES = {
    "commission_typo": ("symbols:\n  GER40: {spread: 1.2, comission: 0.1}\n", "comission"),
    "point_abc": ("symbols:\n  GER40: {point: abc}\n", "symbols.GER40.point"),
    "point_0": ("symbols:\n  GER40: {point: 0}\n", "symbols.GER40.point"),
    "point_negative": ("symbols:\n  GER40: {point: -0.01}\n", "symbols.GER40.point"),
    "volume_step_0": ("symbols:\n  GER40: {volume_step: 0}\n", "symbols.GER40.volume_step"),
    "value_per_point_0": (
        "symbols:\n  GER40: {value_per_point: 0}\n",
        "symbols.GER40.value_per_point",
    ),
    "timezone_mars": ("symbols:\n  GER40: {timezone: Mars/Olympus}\n", "symbols.GER40.timezone"),
    "symbols_not_a_mapping": ("symbols: GER40\n", "symbols"),
    "new_symbol_without_currencies": (
        "symbols:\n  US30:\n    timezone: America/New_York\n    point: 0.1\n"
        "    value_per_point: 1\n    volume_min: 0.01\n    volume_step: 0.01\n"
        "    spread: 2\n    commission: 0\n"
        "    params: {ib_start: '09:30', ib_end: '10:30', trade_end: '15:00', "
        "close_time: '16:00'}\n",
        "symbols.US30",
    ),
    "percentage_above_100": ("run:\n  daily_loss_limit_pct: 150\n", "run.daily_loss_limit_pct"),
    "currency_not_3_letters": ("symbols:\n  GER40: {currencies: [EURO]}\n", "currencies"),
    "default_parameter_out_of_range": (
        "symbols:\n  GER40:\n    params: {sl_mult: 0}\n",
        "symbols.GER40.params",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_config_is_refused_before_anything_runs(case, dataset, tmp_path):
    # Arrange
    text, field = CASES[case]
    config = tmp_path / f"{case}.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--config", config))
    # Assert
    assert_refused(result, out, f"{case}.yaml", field)
