"""Unbounded or unsafe values in a groups file are bad input (issue 9): one line naming
the file and the field, exit code 2, no traceback, the output folder untouched."""

from __future__ import annotations

import pytest

from tests.runner.bad_input import assert_refused, groups_with
from tests.runner.helpers import run_args, run_cli

CASES = {
    "tp_mult_1e16": ({"params": {"tp_mult": 1e16}}, "tp_mult"),
    "min_ib_1e300": ({"params": {"min_ib": 1e300}}, "min_ib"),
    "max_trades_per_day_1e30": ({"params": {"max_trades_per_day": 10**30}}, "max_trades_per_day"),
    "integer_of_400_digits": ({"grid": {"sl_mult": [0.5, 10**399]}}, "sl_mult"),
    "grid_1_and_1.0": ({"grid": {"tp_mult": [1, 1.0]}}, "grid.tp_mult"),
    "group_id_newline": ({"group_id": "g1\nINFO - [1/1] forged: R=99"}, "group_id"),
    "group_id_trailing_newline": ({"group_id": "group_1\n"}, "group_id"),
    "group_id_parent_path": ({"group_id": "../../x"}, "group_id"),
    "group_id_absolute_path": ({"group_id": "/abs/path"}, "group_id"),
    "group_id_101_characters": ({"group_id": "g" * 101}, "group_id"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_value_is_refused_before_anything_runs(case, dataset, tmp_path):
    # Arrange
    group, field = CASES[case]
    groups = groups_with(tmp_path / f"{case}.json", group)
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, groups, out))
    # Assert
    assert_refused(result, out, f"{case}.json", field)


def test_groups_file_nested_200000_levels(dataset, tmp_path):
    # Arrange
    groups = tmp_path / "deep.json"
    groups.write_text('{"symbol": "GER40", "groups": ' + "[" * 200_000 + "]" * 200_000 + "}")
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, groups, out))
    # Assert
    assert_refused(result, out, "deep.json", "nested more than 32 levels")
