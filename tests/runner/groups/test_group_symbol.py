"""A group's own symbol overrides the file's, defaults included."""

from __future__ import annotations

from backtest.core.config import default_params
from backtest.runner.groups import expand_group, load_groups_file
from tests.runner.groups.helpers import write_json


def test_group_symbol_overrides_the_top_level(tmp_path):
    # Arrange
    data = {
        "symbol": "GER40",
        "groups": [{"group_id": "g1"}, {"group_id": "g2", "symbol": "XAUUSD"}],
    }
    path = write_json(tmp_path, data)
    # Act
    loaded = load_groups_file(path)
    combos = [expand_group(g)[0] for g in loaded.groups]
    # Assert: each combination has its own symbol's defaults
    assert [g.symbol for g in loaded.groups] == ["GER40", "XAUUSD"]
    assert combos[0] == default_params("GER40")
    assert combos[1] == default_params("XAUUSD")
    assert combos[1]["ib_start"] == "08:00"


def test_file_symbol_wins_over_the_argument(tmp_path):
    # Arrange
    path = write_json(tmp_path, {"symbol": "GER40", "groups": [{"group_id": "g1"}]})
    # Act
    loaded = load_groups_file(path, symbol="XAUUSD")
    # Assert
    assert loaded.symbol == "GER40" and loaded.groups[0].symbol == "GER40"
