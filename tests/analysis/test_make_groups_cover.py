"""make-groups covers every valid combination exactly once, within the constraints,
with group costs no further apart than the largest unit."""

import itertools
import json
import random

import pytest

from backtest.analysis.make_groups import combo_cost, plan_groups
from backtest.runner.groups import expand_group, load_groups_file, write_groups_file

GRID = {
    "params": {"direction": "both"},
    "grid": {
        "ib_end": ["09:30", "10:00", "10:30"],
        "sl_mult": {"start": 0.5, "stop": 1.5, "step": 0.25},
        "tp_mult": [0.5, 1.0, 2.0, 3.0],
        "max_trades_per_day": [1, 2],
    },
}


def _expanded(plan, tmp_path):
    """Every combination of the written groups file, as loaded by the runner's loader."""
    body = plan.groups_file()
    path = tmp_path / "groups.json"
    write_groups_file(path, body["symbol"], body["groups"])
    return [combo for group in load_groups_file(path).groups for combo in expand_group(group)]


def _key(combo):
    return (combo["ib_end"], combo["sl_mult"], combo["tp_mult"], combo["max_trades_per_day"])


@pytest.mark.parametrize("n_groups", [1, 4, 7, 20])
def test_every_combination_once_without_constraints(tmp_path, n_groups):
    plan = plan_groups("GER40", GRID, n_groups)

    keys = [_key(c) for c in _expanded(plan, tmp_path)]

    expected = set(
        itertools.product(
            ["09:30", "10:00", "10:30"], [0.5, 0.75, 1.0, 1.25, 1.5], [0.5, 1.0, 2.0, 3.0], [1, 2]
        )
    )
    assert len(keys) == len(expected) == 120
    assert set(keys) == expected
    assert len(plan.groups) == n_groups


@pytest.mark.parametrize("n_groups", [3, 8])
def test_constraints_are_respected_and_cover_the_rest(tmp_path, n_groups):
    spec = dict(GRID, constraints=["tp_mult >= sl_mult", "not (ib_end == '10:30' and sl_mult > 1)"])

    keys = [_key(c) for c in _expanded(plan_groups("GER40", spec, n_groups), tmp_path)]

    expected = {
        k
        for k in itertools.product(
            ["09:30", "10:00", "10:30"], [0.5, 0.75, 1.0, 1.25, 1.5], [0.5, 1.0, 2.0, 3.0], [1, 2]
        )
        if k[2] >= k[1] and not (k[0] == "10:30" and k[1] > 1)
    }
    assert len(keys) == len(set(keys))
    assert set(keys) == expected


def test_group_ids_follow_the_pattern(tmp_path):
    spec = dict(GRID, constraints=["tp_mult >= sl_mult"])

    body = plan_groups("GER40", spec, 5).groups_file()

    ids = [g["group_id"] for g in body["groups"]]
    assert len(set(ids)) == len(ids)
    numbers = {gid.split("_")[2] for gid in ids}
    assert numbers == {f"{n:03d}" for n in range(1, 6)}
    assert all(gid.startswith("group_GER40_") for gid in ids)


@pytest.mark.parametrize("seed", range(12))
def test_cost_spread_at_most_the_largest_unit(seed):
    rng = random.Random(seed)
    spec = {
        "grid": {
            "ib_start": rng.sample(["08:00", "08:30", "09:00"], rng.randint(1, 3)),
            "close_time": rng.sample(["18:00", "20:00", "22:00"], rng.randint(1, 3)),
            "sl_mult": [0.25 * k for k in range(1, rng.randint(2, 9))],
            "tp_mult": [0.5 * k for k in range(0, rng.randint(2, 8))],
            "max_trades_per_day": rng.sample([1, 2, 3], rng.randint(1, 3)),
        },
        "constraints": rng.choice(
            [[], ["tp_mult >= sl_mult"], ["tp_mult == 0 or tp_mult > sl_mult"]]
        ),
    }

    plan = plan_groups("GER40", spec, rng.randint(1, 15))

    costs = plan.group_costs
    assert max(costs) - min(costs) <= plan.largest_unit_cost + 1e-9
    assert sum(costs) == pytest.approx(sum(plan.unit_costs))
    units = [u for g in plan.groups for u in g]
    assert sorted(units) == list(range(len(plan.units)))  # every unit in exactly one group


def test_unit_costs_follow_the_cost_model():
    spec = {
        "params": {"trade_end": "12:00"},
        "grid": {"close_time": ["12:00", "22:00"], "max_trades_per_day": [1, 3]},
    }

    plan = plan_groups("GER40", spec, 1)

    # walked hours from ib_start 09:00: 3 and 13; × (1 + 0.25 × (mtpd - 1)): 1 and 1.5
    assert sum(plan.unit_costs) == pytest.approx(3 * 1 + 3 * 1.5 + 13 * 1 + 13 * 1.5)
    assert (
        combo_cost({"ib_start": "09:00", "close_time": "22:00", "max_trades_per_day": 2})
        == 13 * 1.25
    )


def test_written_file_round_trips(tmp_path):
    body = plan_groups("GER40", GRID, 3).groups_file()

    path = tmp_path / "g.json"
    write_groups_file(path, body["symbol"], body["groups"])

    assert json.loads(path.read_text())["groups"] == body["groups"]


def test_grid_that_splits_evenly_gives_one_entry_per_group():
    spec = {"grid": {"sl_mult": [0.5, 1.0, 1.5, 2.0], "tp_mult": [1.0, 2.0, 3.0]}}

    body = plan_groups("GER40", spec, 4).groups_file()

    assert [g["group_id"] for g in body["groups"]] == [f"group_GER40_00{n}" for n in range(1, 5)]
    assert all(len(g["grid"]["tp_mult"]) == 3 and "sl_mult" in g["params"] for g in body["groups"])
