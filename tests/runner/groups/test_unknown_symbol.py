"""An unknown symbol is a GroupsError naming the file (and the group when it is the group's)."""

from __future__ import annotations

import copy

import pytest

from backtest.core.config import DEFAULTS
from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import write_json


def test_unknown_top_level_symbol(tmp_path):
    # Arrange
    path = write_json(tmp_path, {"symbol": "GER50", "groups": [{"group_id": "g1"}]})
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    assert str(info.value).startswith(f"{path}: field 'symbol': unknown symbol 'GER50'")


def test_unknown_group_symbol(tmp_path):
    # Arrange
    path = write_json(
        tmp_path, {"symbol": "GER40", "groups": [{"group_id": "g1", "symbol": "GOLD"}]}
    )
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    assert str(info.value).startswith(f"{path}: group g1: field 'symbol': unknown symbol 'GOLD'")


def test_symbol_from_a_config_is_known(tmp_path):
    # Arrange: a config that adds a symbol
    cfg = copy.deepcopy(DEFAULTS)
    cfg["symbols"]["US30"] = {**cfg["symbols"]["GER40"], "timezone": "America/New_York"}
    path = write_json(tmp_path, {"symbol": "US30", "groups": [{"group_id": "g1"}]})
    # Act
    loaded = load_groups_file(path, cfg=cfg)
    # Assert
    assert loaded.groups[0].symbol == "US30"
