"""The constraints filter before the invariants are checked: "ib_start < ib_end" drops
the combinations that would break the invariant (issue 9), instead of exit 2."""

import pytest

from backtest.analysis.make_groups import GridError, plan_groups
from backtest.runner.groups import expand_all, load_groups_file, write_groups_file


def test_ib_window_constraint_filters(tmp_path):
    # Arrange
    spec = {
        "grid": {"ib_start": ["08:00", "09:00"], "ib_end": ["09:00", "10:00"]},
        "constraints": ["ib_start < ib_end"],
    }
    # Act
    body = plan_groups("GER40", spec, 2).groups_file()
    path = tmp_path / "g.json"
    write_groups_file(path, body["symbol"], body["groups"])
    # Assert
    combos = [c for cs in expand_all(load_groups_file(path)).values() for c in cs]
    assert sorted((c["ib_start"], c["ib_end"]) for c in combos) == [
        ("08:00", "09:00"),
        ("08:00", "10:00"),
        ("09:00", "10:00"),
    ]


def test_without_the_constraint_the_error_suggests_it():
    # Arrange: a trade_end grid that can fall before ib_end
    spec = {"grid": {"ib_end": ["10:00", "11:00"], "trade_end": ["10:30", "17:30"]}}
    # Act
    with pytest.raises(GridError) as info:
        plan_groups("GER40", spec, 2)
    # Assert
    assert 'add the constraint "ib_end <= trade_end"' in str(info.value)
