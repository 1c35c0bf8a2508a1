"""make-groups cuts several grid files, or several blocks of one file, into one groups
file with unique ids; a combination in two blocks is refused."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from backtest.analysis.make_groups import GridError, plan_groups
from backtest.runner.groups import expand_all, load_groups_file
from tasks.analysis import make_groups

MORNING = (
    'symbol: GER40\nparams: {ib_start: "08:00", ib_end: "09:00"}\n'
    "grid: {sl_mult: [0.5, 1.0], tp_mult: [1.0, 2.0]}\n"
)
XETRA = (
    'symbol: GER40\nparams: {ib_start: "09:00", ib_end: "10:00"}\n'
    "grid: {sl_mult: [0.5, 1.0, 1.5]}\n"
)


def _windows(groups_file):
    loaded = load_groups_file(groups_file)
    return loaded, sorted(
        (c["ib_start"], c["sl_mult"], c["tp_mult"])
        for cs in expand_all(loaded).values()
        for c in cs
    )


def test_two_grid_files_go_into_one_groups_file(tmp_path):
    # Arrange
    (tmp_path / "a.yaml").write_text(MORNING)
    (tmp_path / "b.yaml").write_text(XETRA)
    output = tmp_path / "g.json"
    # Act
    make_groups.body(
        Context(), grid=[f"{tmp_path / 'a.yaml'},{tmp_path / 'b.yaml'}"], groups="3",
        output=str(output), id_prefix="sweep2_",
    )  # fmt: skip
    # Assert
    loaded, combos = _windows(output)
    assert [g.group_id for g in loaded.groups] == ["sweep2_001", "sweep2_002", "sweep2_003"]
    assert combos == sorted(
        [("08:00", s, t) for s in (0.5, 1.0) for t in (1.0, 2.0)]
        + [("09:00", s, 1.0) for s in (0.5, 1.0, 1.5)]  # tp_mult: GER40's default
    )


def test_blocks_of_one_file_share_its_params_and_constraints(tmp_path):
    # Arrange
    grid = tmp_path / "blocks.yaml"
    grid.write_text(
        "symbol: GER40\nparams: {direction: long}\nconstraints: ['tp_mult >= sl_mult']\n"
        "blocks:\n"
        '  - params: {ib_start: "08:00", ib_end: "09:00"}\n'
        "    grid: {sl_mult: [0.5, 1.0], tp_mult: [0.5, 1.0]}\n"
        '  - params: {ib_start: "09:00", ib_end: "10:00"}\n'
        "    grid: {sl_mult: [1.0, 2.0], tp_mult: [1.0, 2.0]}\n"
    )
    output = tmp_path / "g.json"
    # Act
    make_groups.body(Context(), grid=[str(grid)], groups="2", output=str(output))
    # Assert
    loaded, combos = _windows(output)
    assert combos == [
        ("08:00", 0.5, 0.5), ("08:00", 0.5, 1.0), ("08:00", 1.0, 1.0),
        ("09:00", 1.0, 1.0), ("09:00", 1.0, 2.0), ("09:00", 2.0, 2.0),
    ]  # fmt: skip
    assert {c["direction"] for cs in expand_all(loaded).values() for c in cs} == {"long"}


def test_overlapping_blocks_are_refused():
    # Arrange: sl_mult 1.0 with the default tp_mult is in both
    grids = [
        ("a.yaml", {"grid": {"sl_mult": [0.5, 1.0]}}),
        ("b.yaml", {"grid": {"sl_mult": [1.0, 2.0]}}),
    ]
    # Act / Assert
    with pytest.raises(GridError, match=r"b.yaml: 1 combination\(s\) also in a.yaml"):
        plan_groups("GER40", grids, 2)


def test_grids_of_two_symbols_are_refused(tmp_path):
    # Arrange
    (tmp_path / "a.yaml").write_text(MORNING)
    (tmp_path / "x.yaml").write_text("symbol: XAUUSD\ngrid: {sl_mult: [1.0]}\n")
    # Act / Assert
    with pytest.raises(Exit, match="several symbols"):
        make_groups.body(
            Context(), grid=[str(tmp_path / "a.yaml"), str(tmp_path / "x.yaml")], groups="2"
        )
