"""select_range slices the groups with Python slice semantics."""

from __future__ import annotations

from backtest.runner.groups import load_groups_file, select_range
from tests.runner.groups.helpers import write_json


def _ids(groups_file):
    return [g.group_id for g in groups_file.groups]


def test_slices(tmp_path):
    # Arrange
    path = write_json(
        tmp_path, {"symbol": "GER40", "groups": [{"group_id": f"g{i}"} for i in range(5)]}
    )
    loaded = load_groups_file(path)
    # Act / Assert
    assert _ids(select_range(loaded, 1, 3)) == ["g1", "g2"]
    assert _ids(select_range(loaded, None, 2)) == ["g0", "g1"]
    assert _ids(select_range(loaded, -2, None)) == ["g3", "g4"]
    assert _ids(select_range(loaded, 4, 99)) == ["g4"]
    assert _ids(select_range(loaded, 3, 1)) == []
    assert select_range(loaded, 0, 1).symbol == "GER40"
    assert len(loaded.groups) == 5
