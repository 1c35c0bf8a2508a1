"""A bare JSON list of groups: the symbol comes from the argument or each group."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import write_json

GROUPS = [{"group_id": "a", "params": {"sl_mult": 0.5}}, {"group_id": "b"}]


def test_symbol_from_the_argument(tmp_path):
    # Arrange
    path = write_json(tmp_path, GROUPS)
    # Act
    loaded = load_groups_file(path, symbol="XAUUSD")
    # Assert
    assert loaded.symbol == "XAUUSD"
    assert [(g.group_id, g.symbol) for g in loaded.groups] == [("a", "XAUUSD"), ("b", "XAUUSD")]


def test_symbol_from_each_group(tmp_path):
    # Arrange
    path = write_json(
        tmp_path, [{"group_id": "a", "symbol": "GER40"}, {"group_id": "b", "symbol": "XAUUSD"}]
    )
    # Act
    loaded = load_groups_file(path)
    # Assert
    assert [g.symbol for g in loaded.groups] == ["GER40", "XAUUSD"]
    assert loaded.symbol is None and loaded.symbols == ["GER40", "XAUUSD"]


def test_no_symbol_anywhere_is_an_error(tmp_path):
    # Arrange
    path = write_json(tmp_path, GROUPS)
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group a: field 'symbol': missing"):
        load_groups_file(path)


def test_one_shared_group_symbol_becomes_the_file_symbol(tmp_path):
    # Arrange
    path = write_json(tmp_path, [{"group_id": "a", "symbol": "XAUUSD"}])
    # Act / Assert
    assert load_groups_file(path).symbol == "XAUUSD"
