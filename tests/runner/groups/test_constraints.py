"""Groups-file ``constraints`` (io-contract): expand the grid in key order, drop what the
constraints exclude, then check the invariants on what is left; ``combo`` counts kept ones."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, expand_all, load_groups_file
from tests.runner.groups.helpers import one_group, write_json

IB_GRID = {"ib_start": ["08:00", "09:00"], "ib_end": ["09:00", "10:00"]}


def test_constraints_filter_before_the_invariants_are_checked(tmp_path):
    # Arrange: 09:00/09:00 breaks ib_start < ib_end, but the constraint drops it first
    path = write_json(tmp_path, one_group(grid=IB_GRID, constraints=["ib_start < ib_end"]))
    # Act
    combos = expand_all(load_groups_file(path))["g1"]
    # Assert
    assert [(c["ib_start"], c["ib_end"]) for c in combos] == [
        ("08:00", "09:00"),
        ("08:00", "10:00"),
        ("09:00", "10:00"),
    ]


def test_without_the_constraint_the_invariant_names_the_combination(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(grid=IB_GRID))
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group g1: grid combination 3 .*ib_end"):
        load_groups_file(path)


def test_constraints_see_the_symbols_defaults(tmp_path):
    # Arrange: GER40's default sl_mult is 1.0
    group = one_group(grid={"tp_mult": [0.5, 1.0, 2.0]}, constraints="tp_mult >= sl_mult")
    path = write_json(tmp_path, group)
    # Act
    combos = expand_all(load_groups_file(path))["g1"]
    # Assert
    assert [c["tp_mult"] for c in combos] == [1.0, 2.0]


def test_constraints_that_leave_nothing_are_an_error(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(grid={"tp_mult": [0.5]}, constraints=["tp_mult > 1"]))
    # Act / Assert
    with pytest.raises(
        GroupsError, match=r"group g1: field 'constraints': they leave no combination"
    ):
        load_groups_file(path)


def test_a_forbidden_expression_names_the_group_and_field(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(constraints=["__import__('os')"]))
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group g1: field 'constraints'\[0\]: .* not allowed"):
        load_groups_file(path)
