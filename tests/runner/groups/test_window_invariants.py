"""Every expanded combination must satisfy ib_start < ib_end <= trade_end <= close_time."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import one_group, write_json


def test_ib_end_after_trade_end_in_params(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(params={"ib_end": "18:00", "trade_end": "17:30"}))
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert
    message = str(info.value)
    assert message.startswith(f"{path}: group g1")
    assert "'trade_end'" in message and "ib_end <= trade_end" in message


def test_only_one_grid_combination_is_impossible(tmp_path):
    # Arrange: ib_end 10:00 is fine, 18:00 is past the default trade_end 17:30
    path = write_json(tmp_path, one_group(grid={"sl_mult": [1.0], "ib_end": ["10:00", "18:00"]}))
    # Act
    with pytest.raises(GroupsError) as info:
        load_groups_file(path)
    # Assert: the message says which combination
    message = str(info.value)
    assert message.startswith(f"{path}: group g1: grid combination 2 (sl_mult=1.0, ib_end='18:00')")


def test_bad_value_type_in_grid(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(grid={"sl_mult": [1.0, "wide"]}))
    # Act / Assert
    with pytest.raises(GroupsError, match="parameter 'sl_mult': 'wide' is not a finite number"):
        load_groups_file(path)


def test_a_later_bad_group_stops_the_whole_file(tmp_path):
    # Arrange: group g1 fine, g2 has sl_mult 0
    data = {
        "symbol": "GER40",
        "groups": [{"group_id": "g1"}, {"group_id": "g2", "params": {"sl_mult": 0}}],
    }
    path = write_json(tmp_path, data)
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group g2: .*'sl_mult'.*must be > 0"):
        load_groups_file(path)
