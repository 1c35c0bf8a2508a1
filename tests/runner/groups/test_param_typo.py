"""A typo in a parameter name stops the load, naming file, group and field."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import one_group, write_json


def test_typo_in_params(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(params={"sl_mlt": 0.5}))
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    message = str(info.value)
    assert message.startswith(f"{path}: group g1: field 'params'")
    assert "'sl_mlt'" in message and "did you mean 'sl_mult'" in message
    assert "\n" not in message


def test_typo_in_grid(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(grid={"tp_mul": [1.0, 2.0]}))
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    message = str(info.value)
    assert message.startswith(f"{path}: group g1: field 'grid'")
    assert "did you mean 'tp_mult'" in message


def test_typo_in_a_group_key(tmp_path):
    # Arrange: "parmas" would otherwise run every default
    path = write_json(tmp_path, one_group(parmas={"sl_mult": 0.5}))
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    assert str(info.value).startswith(
        f"{path}: group g1: field 'parmas': unknown key (did you mean 'params'?)"
    )
