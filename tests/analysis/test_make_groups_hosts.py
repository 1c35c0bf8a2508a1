"""make-groups --hosts K prints hosts.yaml ranges of near-equal cost, ready to paste."""

from invoke import Context

from backtest.analysis.make_groups import host_ranges
from tasks.analysis import make_groups


def test_ranges_split_the_cost_evenly_and_cover_every_group():
    # Arrange: the last two groups cost as much as the first four
    costs = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    # Act / Assert
    assert host_ranges(costs, 2) == [(0, 4), (4, 6)]
    assert host_ranges(costs, 3) == [(0, 3), (3, 5), (5, 6)]
    assert host_ranges(costs, 6) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]


def test_task_prints_lines_to_paste(tmp_path, capsys):
    # Arrange
    grid = tmp_path / "grid.yaml"
    grid.write_text("symbol: GER40\ngrid: {sl_mult: [0.5, 1.0, 1.5, 2.0], tp_mult: [1.0, 2.0]}\n")
    # Act
    make_groups.body(
        Context(), grid=[str(grid)], groups="4", hosts="2", output=str(tmp_path / "g.json")
    )
    # Assert
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == [
        'range: "0:2"   # 2 groups, estimated cost 50.0%',
        'range: "2:4"   # 2 groups, estimated cost 50.0%',
    ]
