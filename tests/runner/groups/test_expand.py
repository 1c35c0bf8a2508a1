"""Grid expansion: count, deterministic order, defaults for what neither names."""

from __future__ import annotations

from backtest.runner.groups import combo_count, expand_group, load_groups_file
from tests.runner.groups.helpers import one_group, write_json


def test_cartesian_product_in_file_order(tmp_path):
    # Arrange: tp_mult first in the file, so sl_mult varies fastest
    grid = {"tp_mult": [2.0, 1.0], "sl_mult": [0.5, 1.0, 1.5]}
    path = write_json(tmp_path, one_group(params={"direction": "long"}, grid=grid))
    group = load_groups_file(path).groups[0]
    # Act
    combos = expand_group(group)
    # Assert
    assert combo_count(group) == 6
    assert [(c["tp_mult"], c["sl_mult"]) for c in combos] == [
        (2.0, 0.5),
        (2.0, 1.0),
        (2.0, 1.5),
        (1.0, 0.5),
        (1.0, 1.0),
        (1.0, 1.5),
    ]
    assert all(c["direction"] == "long" for c in combos)


def test_defaults_fill_what_neither_names(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(params={"ib_end": "09:30"}, grid={"sl_mult": [0.5]}))
    # Act
    combo = expand_group(load_groups_file(path).groups[0])[0]
    # Assert: GER40 defaults for the rest
    assert (combo["ib_start"], combo["ib_end"], combo["trade_end"], combo["close_time"]) == (
        "09:00",
        "09:30",
        "17:30",
        "22:00",
    )
    assert (combo["tp_mult"], combo["weekdays"], combo["news_filter"]) == (
        1.0,
        [0, 1, 2, 3, 4],
        False,
    )


def test_no_grid_is_one_combination(tmp_path):
    # Arrange
    path = write_json(tmp_path, one_group(params={"sl_mult": 0.75}))
    group = load_groups_file(path).groups[0]
    # Act
    combos = expand_group(group)
    # Assert
    assert combo_count(group) == 1
    assert len(combos) == 1 and combos[0]["sl_mult"] == 0.75


def test_combinations_do_not_share_list_values(tmp_path):
    # Arrange
    path = write_json(
        tmp_path, one_group(params={"weekdays": [0, 1]}, grid={"sl_mult": [0.5, 1.0]})
    )
    group = load_groups_file(path).groups[0]
    # Act
    combos = expand_group(group)
    combos[0]["weekdays"].append(4)
    # Assert
    assert combos[1]["weekdays"] == [0, 1]
    assert group.raw["params"]["weekdays"] == [0, 1]
