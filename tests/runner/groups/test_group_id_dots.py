"""group_id "." or ".." names a folder, not a file: refused when the groups file is read
(exit 2, one line), not at run time when its part file is written (PartError, exit 1)."""

from __future__ import annotations

import pytest

from backtest.runner.groups import GroupsError, load_groups_file
from tests.runner.groups.helpers import one_group, write_json
from tests.runner.helpers import END, START, run_args, run_cli, write_bars


@pytest.mark.parametrize("group_id", [".", ".."])
def test_dot_ids_are_refused_by_the_loader(tmp_path, group_id):
    # Arrange
    data = one_group(grid={"sl_mult": [0.5, 1.0]})
    data["groups"][0]["group_id"] = group_id
    path = write_json(tmp_path, data)
    # Act / Assert
    with pytest.raises(GroupsError, match=r"group #1: field 'group_id': .* not '\.' or '\.\.'"):
        load_groups_file(path)


@pytest.mark.parametrize("group_id", ["...", ".g1", "g.1"])
def test_other_ids_with_dots_still_load(tmp_path, group_id):
    # Arrange
    data = one_group(grid={"sl_mult": [0.5, 1.0]})
    data["groups"][0]["group_id"] = group_id
    path = write_json(tmp_path, data)
    # Act
    loaded = load_groups_file(path)
    # Assert
    assert [g.group_id for g in loaded.groups] == [group_id]


def test_the_runner_refuses_dot_dot_before_running(tmp_path):
    # Arrange
    bars = write_bars(tmp_path / "bars.parquet", START, END)
    data = one_group(grid={"sl_mult": [0.5, 1.0]})
    data["groups"][0]["group_id"] = ".."
    groups = write_json(tmp_path, data, "dots.json")
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(bars, groups, out))
    # Assert
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "dots.json: group #1: field 'group_id'" in line
    assert not out.exists()
