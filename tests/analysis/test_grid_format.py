"""Grid YAML values: decimal-safe inclusive ranges, and clear errors on bad input."""

import pytest

from backtest.analysis.make_groups import GridError, load_grid, plan_groups, range_values


def test_range_is_inclusive_and_decimal_exact():
    assert range_values({"start": 0.1, "stop": 0.5, "step": 0.1}, "g") == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert range_values({"start": 1, "stop": 7, "step": 3}, "g") == [1, 4, 7]
    assert range_values({"start": 0.5, "stop": 1.2, "step": 0.25}, "g") == [0.5, 0.75, 1.0]


def test_integer_range_gives_ints():
    values = range_values({"start": 1, "stop": 3, "step": 1}, "g")

    assert all(type(v) is int for v in values)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"grid": {"sl_mul": [1.0]}}, "sl_mul"),
        ({"grid": {"sl_mult": {"start": 1, "stop": 0, "step": 1}}}, "below start"),
        ({"grid": {"sl_mult": {"start": 1, "stop": 2, "step": 0}}}, "step"),
        ({"grid": {"sl_mult": [0.0, 1.0]}}, "sl_mult"),
        ({"grid": {"sl_mult": [1.0, 1.0]}}, "twice"),
        ({"grid": {"max_trades_per_day": [1, 1.0]}}, "listed twice"),
        ({"grid": {"tp_mult": [1e16]}}, "tp_mult"),
        ({"grid": {"tp_mult": [1.0]}, "constraints": ["tp_mult > 5"]}, "no combination"),
        ({"grid": {}, "extra": 1}, "unknown key"),
    ],
)
def test_bad_grids_name_the_field(spec, message):
    with pytest.raises(GridError, match=message):
        plan_groups("GER40", spec, 2)


def test_grid_file_errors_name_the_file(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("- just a list\n")

    with pytest.raises(GridError, match=str(path)):
        load_grid(path)


def test_example_grid_loads_and_plans():
    spec = load_grid("examples/grid_GER40.yaml")

    plan = plan_groups("GER40", spec, 20)

    assert len(plan.group_ids()) == 20
    assert plan.combinations == 864


def test_unquoted_yaml_time_gets_a_hint(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text('grid:\n  ib_end: ["09:30", 10:00]\n')  # YAML 1.1: 10:00 is 600

    with pytest.raises(GridError, match=r"grid.ib_end: 600 is not a time.*quote"):
        plan_groups("GER40", load_grid(path), 1)
