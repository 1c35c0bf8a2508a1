"""On random grids (times, directions, booleans, weekdays lists, constraints), the
written groups hold exactly the filtered grid, each combination once, and exactly N
groups; the expected set is computed here with plain Python."""

import itertools
import random

import pytest

from backtest.analysis.make_groups import plan_groups
from backtest.runner.groups import expand_all, load_groups_file, write_groups_file

AXES = {
    "ib_end": ["09:30", "10:00", "10:30", "11:00"],
    "direction": ["short", "both", "long"],
    "sl_mult": [1.5, 0.5, 1.0, 0.75],
    "tp_mult": [0.0, 1.0, 2.0, 3.0],
    "max_trades_per_day": [2, 1, 3],
    "news_filter": [True, False],
    "weekdays": [[0, 1], [2], [3, 4]],
}
RULES = {
    "tp_mult >= sl_mult or tp_mult == 0": lambda c: (
        c["tp_mult"] >= c["sl_mult"] or c["tp_mult"] == 0
    ),
    "not (direction == 'long' and ib_end > '10:00')": lambda c: (
        not (c["direction"] == "long" and c["ib_end"] > "10:00")
    ),
    "max_trades_per_day * sl_mult <= 3": lambda c: c["max_trades_per_day"] * c["sl_mult"] <= 3,
}


def _key(combo, names):
    return tuple(tuple(combo[n]) if n == "weekdays" else combo[n] for n in names)


@pytest.mark.parametrize("seed", range(10))
def test_random_grid_is_covered_exactly(seed, tmp_path):
    # Arrange
    rng = random.Random(seed)
    names = rng.sample(sorted(AXES), rng.randint(2, 5))
    grid = {n: rng.sample(AXES[n], rng.randint(1, len(AXES[n]))) for n in names}
    rules = rng.sample(sorted(RULES), rng.randint(0, 2))
    defaults = {"ib_end": "10:00", "direction": "both", "sl_mult": 1.0, "tp_mult": 1.0}
    defaults |= {"max_trades_per_day": 1, "news_filter": False, "weekdays": [0, 1, 2, 3, 4]}
    combos = [
        dict(defaults, **dict(zip(names, values))) for values in itertools.product(*grid.values())
    ]
    expected = {_key(c, names) for c in combos if all(RULES[r](c) for r in rules)}
    if not expected:
        pytest.skip("the constraints leave nothing")
    blocks = len(grid.get("weekdays", [None]))
    n_groups = rng.randint(blocks, len(expected))
    # Act
    body = plan_groups("GER40", {"grid": grid, "constraints": rules}, n_groups).groups_file()
    path = tmp_path / "g.json"
    write_groups_file(path, body["symbol"], body["groups"])
    got = [_key(c, names) for cs in expand_all(load_groups_file(path)).values() for c in cs]
    # Assert
    assert len(body["groups"]) == n_groups
    assert len(got) == len(set(got))
    assert set(got) == expected
