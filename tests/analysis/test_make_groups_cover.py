"""make-groups writes exactly N groups, one groups-file entry each, that hold every valid
combination exactly once (constraints respected), with ids that follow the pattern."""

import itertools
import json

import pytest

from backtest.analysis.make_groups import combo_cost, plan_groups
from backtest.runner.groups import expand_all, load_groups_file, write_groups_file

GRID = {
    "params": {"direction": "both"},
    "grid": {
        "ib_end": ["09:30", "10:00", "10:30"],
        "sl_mult": {"start": 0.5, "stop": 1.5, "step": 0.25},
        "tp_mult": [0.5, 1.0, 2.0, 3.0],
        "max_trades_per_day": [1, 2],
    },
}
ALL = list(
    itertools.product(
        ["09:30", "10:00", "10:30"], [0.5, 0.75, 1.0, 1.25, 1.5], [0.5, 1.0, 2.0, 3.0], [1, 2]
    )
)


def _expanded(plan, tmp_path):
    """Every combination of the written groups file, as the runner's loader expands it."""
    body = plan.groups_file()
    path = tmp_path / "groups.json"
    write_groups_file(path, body["symbol"], body["groups"])
    loaded = load_groups_file(path)
    assert len(loaded.groups) == len(body["groups"])
    return [combo for combos in expand_all(loaded).values() for combo in combos]


def _key(combo):
    return (combo["ib_end"], combo["sl_mult"], combo["tp_mult"], combo["max_trades_per_day"])


@pytest.mark.parametrize("n_groups", [1, 4, 7, 20, 120])
def test_every_combination_once_without_constraints(tmp_path, n_groups):
    # Act
    plan = plan_groups("GER40", GRID, n_groups)
    keys = [_key(c) for c in _expanded(plan, tmp_path)]
    # Assert
    assert len(plan.groups_file()["groups"]) == n_groups
    assert sorted(keys) == sorted(ALL)


@pytest.mark.parametrize("n_groups", [3, 8, 50])
def test_constraints_are_respected_and_cover_the_rest(tmp_path, n_groups):
    # Arrange
    spec = dict(GRID, constraints=["tp_mult >= sl_mult", "not (ib_end == '10:30' and sl_mult > 1)"])
    expected = [k for k in ALL if k[2] >= k[1] and not (k[0] == "10:30" and k[1] > 1)]
    # Act
    keys = [_key(c) for c in _expanded(plan_groups("GER40", spec, n_groups), tmp_path)]
    # Assert
    assert sorted(keys) == sorted(expected)


def test_group_ids_follow_the_pattern_and_the_prefix():
    # Act
    default = plan_groups("GER40", GRID, 5).group_ids()
    prefixed = plan_groups("GER40", GRID, 1000 // 9, id_prefix="morning.").group_ids()
    # Assert
    assert default == [f"group_GER40_00{n}" for n in range(1, 6)]
    assert prefixed[0] == "morning.001" and prefixed[-1] == "morning.111"


def test_group_costs_follow_the_cost_model():
    # Arrange: walked hours from ib_start 09:00: 3 and 13; x (1 + 0.25 x (mtpd - 1)): 1 and 1.5
    spec = {
        "params": {"trade_end": "12:00"},
        "grid": {"close_time": ["12:00", "22:00"], "max_trades_per_day": [1, 3]},
    }
    # Act
    plan = plan_groups("GER40", spec, 1)
    # Assert
    assert plan.group_costs == [pytest.approx(3 * 1 + 3 * 1.5 + 13 * 1 + 13 * 1.5)]
    assert combo_cost({"ib_start": "09:00", "close_time": "22:00", "max_trades_per_day": 2}) == (
        13 * 1.25
    )


def test_written_file_round_trips(tmp_path):
    # Arrange
    body = plan_groups("GER40", GRID, 3).groups_file()
    path = tmp_path / "g.json"
    # Act
    write_groups_file(path, body["symbol"], body["groups"])
    # Assert
    assert json.loads(path.read_text())["groups"] == body["groups"]


def test_grid_that_splits_evenly_gives_plain_entries():
    # Arrange: 4 x 3 combinations of equal cost into 4 groups: one sl_mult value each
    spec = {"grid": {"sl_mult": [0.5, 1.0, 1.5, 2.0], "tp_mult": [1.0, 2.0, 3.0]}}
    # Act
    body = plan_groups("GER40", spec, 4).groups_file()
    # Assert
    assert [g["params"]["sl_mult"] for g in body["groups"]] == [0.5, 1.0, 1.5, 2.0]
    assert all(g["grid"] == {"tp_mult": [1.0, 2.0, 3.0]} for g in body["groups"])
    assert all("constraints" not in g for g in body["groups"])
