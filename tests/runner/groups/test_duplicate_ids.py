"""group_id: missing, empty or repeated ids are errors."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import write_json


def test_duplicate_group_id(tmp_path):
    # Arrange
    data = {
        "symbol": "GER40",
        "groups": [{"group_id": "g1"}, {"group_id": "g2"}, {"group_id": "g1"}],
    }
    path = write_json(tmp_path, data)
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    assert str(info.value) == f"{path}: group g1: field 'group_id': duplicate (groups #1 and #3)"


def test_missing_group_id_names_the_position(tmp_path):
    # Arrange
    path = write_json(tmp_path, {"symbol": "GER40", "groups": [{"group_id": "g1"}, {"params": {}}]})
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group #2: field 'group_id': missing"):
        load_groups_file(path)


def test_empty_group_id(tmp_path):
    # Arrange
    path = write_json(tmp_path, {"symbol": "GER40", "groups": [{"group_id": "  "}]})
    # Act / Assert
    with pytest.raises(
        GroupsError, match=r"group #1: field 'group_id': '  ' must be 1 to 100 characters"
    ):
        load_groups_file(path)
