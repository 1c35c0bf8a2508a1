"""Syntax and shape errors: one line naming the file (and the line for JSON syntax)."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import one_group, write_json


def test_json_syntax_error_names_the_line(tmp_path):
    # Arrange: a trailing comma on line 3
    path = tmp_path / "bad.json"
    path.write_text('{"symbol": "GER40",\n "groups": [\n  {"group_id": "g1"},\n ]\n}\n')
    # Act / Assert
    with pytest.raises(GroupsError, match=rf"^{path}: not valid JSON at line 4 column 2: "):
        load_groups_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(GroupsError, match="groups file not found"):
        load_groups_file(tmp_path / "nope.json")


def test_top_level_must_be_object_or_list(tmp_path):
    path = write_json(tmp_path, "groups")
    with pytest.raises(GroupsError, match="top level must be an object"):
        load_groups_file(path)


def test_groups_key_missing(tmp_path):
    path = write_json(tmp_path, {"symbol": "GER40", "grups": []})
    with pytest.raises(
        GroupsError, match=r"field 'grups': unknown key \(did you mean 'groups'\?\)"
    ):
        load_groups_file(path)


def test_grid_value_must_be_a_non_empty_list(tmp_path):
    path = write_json(tmp_path, one_group(grid={"sl_mult": []}))
    with pytest.raises(
        GroupsError, match=r"group g1: field 'grid.sl_mult': \[\] must be a non-empty list"
    ):
        load_groups_file(path)


def test_grid_scalar_is_rejected(tmp_path):
    path = write_json(tmp_path, one_group(grid={"sl_mult": 0.5}))
    with pytest.raises(GroupsError, match=r"field 'grid.sl_mult': 0.5 must be a non-empty list"):
        load_groups_file(path)


def test_name_in_both_params_and_grid(tmp_path):
    path = write_json(tmp_path, one_group(params={"sl_mult": 1.0}, grid={"sl_mult": [0.5]}))
    with pytest.raises(GroupsError, match=r"field 'grid.sl_mult': also fixed in params"):
        load_groups_file(path)


def test_repeated_grid_value(tmp_path):
    path = write_json(tmp_path, one_group(grid={"tp_mult": [1.0, 2.0, 1.0]}))
    with pytest.raises(GroupsError, match=r"field 'grid.tp_mult': value 1.0 is listed twice"):
        load_groups_file(path)


def test_duplicate_json_key(tmp_path):
    # Arrange: JSON would silently keep the last sl_mult
    path = tmp_path / "dup.json"
    path.write_text(
        '{"symbol": "GER40", "groups": [{"group_id": "g1", '
        '"params": {"sl_mult": 0.5, "sl_mult": 1.0}}]}'
    )
    # Act / Assert
    with pytest.raises(GroupsError, match=rf"^{path}: key 'sl_mult' appears twice"):
        load_groups_file(path)


def test_empty_groups_list_loads(tmp_path):
    # Arrange: the failed-groups file of a run where nothing failed
    path = write_json(tmp_path, {"symbol": "GER40", "groups": []})
    # Act
    loaded = load_groups_file(path)
    # Assert
    assert (loaded.symbol, loaded.groups) == ("GER40", [])
