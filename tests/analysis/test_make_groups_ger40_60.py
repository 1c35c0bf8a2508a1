"""invoke make-groups on examples/grid_GER40.yaml with --groups 60: exactly 60 groups,
whose combinations are the grid filtered by its constraints (computed here
independently), with estimated costs within 10 % of each other."""

import itertools

from invoke import Context

from backtest.analysis.make_groups import combo_cost
from backtest.runner.groups import expand_all, load_groups_file
from tasks.analysis import make_groups

# examples/grid_GER40.yaml, written out by hand
IB_START, IB_END = ["08:00", "09:00"], ["09:30", "10:00", "10:30"]
DIRECTION, MTPD = ["both", "long", "short"], [1, 2]
SL, TP = [0.5, 0.75, 1.0, 1.25, 1.5], [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
FIXED = {"trade_end": "17:30", "close_time": "22:00"}


def _expected():
    return {
        (s, e, d, sl, tp, m)
        for s, e, d, sl, tp, m in itertools.product(IB_START, IB_END, DIRECTION, SL, TP, MTPD)
        if tp >= sl and s < e  # the grid's constraints; "HH:MM" strings order as times
    }


def test_sixty_groups_cover_the_filtered_grid_with_costs_within_10_percent(tmp_path):
    # Arrange
    output = tmp_path / "groups_GER40.json"
    # Act
    make_groups.body(Context(), grid=["examples/grid_GER40.yaml"], groups="60", output=str(output))
    # Assert
    loaded = load_groups_file(output)
    assert len(loaded.groups) == 60
    combos = expand_all(loaded)
    keys = [
        (
            c["ib_start"],
            c["ib_end"],
            c["direction"],
            c["sl_mult"],
            c["tp_mult"],
            c["max_trades_per_day"],
        )
        for cs in combos.values()
        for c in cs
    ]
    assert len(keys) == len(set(keys)) == 864
    assert set(keys) == _expected()
    assert all(c["trade_end"] == FIXED["trade_end"] for cs in combos.values() for c in cs)
    costs = [sum(combo_cost(c) for c in cs) for cs in combos.values()]
    assert max(costs) <= 1.10 * min(costs)
