"""The constraints filter before the invariants are checked: "ib_start < ib_end" drops
the combinations that would break the invariant (issue 9), instead of exit 2."""

from backtest.analysis.make_groups import plan_groups
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
