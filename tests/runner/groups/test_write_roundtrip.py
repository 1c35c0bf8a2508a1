"""write_groups_file writes the object format atomically and loads back unchanged."""

from __future__ import annotations

import json

from backtest.runner.groups import expand_group, load_groups_file, write_groups_file
from tests.runner.groups.helpers import write_json


def test_failed_groups_round_trip(tmp_path):
    # Arrange: a bare-list input; the failed file records an "error" per group
    source = write_json(
        tmp_path,
        [
            {"group_id": "a", "params": {"ib_end": "09:30"}, "grid": {"sl_mult": [0.5, 1.0]}},
            {"group_id": "b", "symbol": "XAUUSD", "params": {"direction": "short"}},
        ],
    )
    loaded = load_groups_file(source, symbol="GER40")
    raw = [{**g.raw, "error": "RuntimeError: boom"} for g in loaded.groups]
    target = tmp_path / "out" / "failed_groups_GER40.json"
    # Act
    write_groups_file(target, "GER40", raw)
    again = load_groups_file(target)
    # Assert
    assert json.loads(target.read_text()) == {"symbol": "GER40", "groups": raw}
    assert [g.raw for g in again.groups] == raw
    assert [g.symbol for g in again.groups] == ["GER40", "XAUUSD"]
    assert [expand_group(g) for g in again.groups] == [expand_group(g) for g in loaded.groups]
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_empty_list_round_trip(tmp_path):
    # Arrange
    target = tmp_path / "failed_groups_XAUUSD.json"
    # Act
    write_groups_file(target, "XAUUSD", [])
    # Assert
    assert load_groups_file(target).groups == []
