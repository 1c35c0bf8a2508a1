"""Constraints are evaluated by a small interpreter: only the allowed syntax runs;
times compare as times."""

import json
import resource

import pytest

from backtest.strategy.constraints import Constraint, ConstraintError
from tests.runner.helpers import END, START, run_args, run_cli, write_bars

PARAMS = {
    "sl_mult": 1.0,
    "tp_mult": 2.0,
    "ib_start": "08:30",
    "ib_end": "10:00",
    "direction": "long",
    "max_trades_per_day": 2,
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tp_mult >= sl_mult", True),
        ("tp_mult >= 2 * sl_mult + 0.5", False),
        ("tp_mult / sl_mult == 2", True),
        ("0.5 <= sl_mult < tp_mult", True),
        ("ib_end < '10:30' and direction != 'short'", True),
        ("not (max_trades_per_day > 1) or -sl_mult < 0", True),
        ("direction == 'both' or tp_mult - sl_mult > 1", False),
        ("ib_end > '9:30'", True),
        ("ib_end - ib_start == 90", True),
        ("ib_start < ib_end <= '10:00'", True),
    ],
)
def test_allowed_expressions_evaluate(text, expected):
    assert Constraint(text, "grid.constraints[0]")(PARAMS) is expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "sl_mult.__class__",
        "[sl_mult][0] > 0",
        "sl_mult ** 2 > 1",
        "lambda: 1",
        "sl_mult if tp_mult else 0",
    ],
)
def test_other_syntax_is_refused_before_running(text):
    with pytest.raises(ConstraintError, match="not allowed"):
        Constraint(text, "grid.constraints[0]")


def test_unknown_names_are_refused():
    with pytest.raises(Exception, match="sl_mul"):
        Constraint("tp_mult > sl_mul", "grid.constraints[0]")


def test_division_by_zero_is_a_grid_error():
    with pytest.raises(ConstraintError, match="tp_mult / entry_buffer"):
        Constraint("tp_mult / entry_buffer > 1", "grid.constraints[0]")(
            {**PARAMS, "entry_buffer": 0.0}
        )


def test_an_impossible_time_literal_is_refused():
    with pytest.raises(ConstraintError, match="'25:00' is not a time"):
        Constraint("ib_end < '25:00'", "grid.constraints[0]")


@pytest.mark.parametrize(
    "text",
    [
        '"a" * 1000000000000000 == "b"',
        '"a" * 500000000 == direction',
        "direction * 1000000000 == 'long'",
        "weekdays * 100000000 == weekdays",
        "'x' + direction == 'xlong'",
        "-direction == 'long'",
    ],
)
def test_arithmetic_on_strings_or_lists_is_refused_before_running(text):
    # Arrange / Act / Assert: refused when parsed, no combination ever evaluates it
    with pytest.raises(ConstraintError, match=r"grid.constraints\[0\]: .* is not a number"):
        Constraint(text, "grid.constraints[0]")


def test_a_string_multiplied_by_a_huge_number_is_exit_2_naming_the_file_and_field(tmp_path):
    # Arrange: a memory limit, so that evaluating it (MemoryError, exit 3) fails fast
    bars = write_bars(tmp_path / "bars.parquet", START, END)
    groups = tmp_path / "hostile.json"
    group = {"group_id": "g1", "grid": {"sl_mult": [0.5, 1.0]}}
    group["constraints"] = ['"a" * 1000000000000000 == "b"']
    groups.write_text(json.dumps({"symbol": "GER40", "groups": [group]}))
    out = tmp_path / "out"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    # Act
    result = run_cli(*run_args(bars, groups, out), preexec_fn=limit_memory)

    # Assert
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "hostile.json: group g1: field 'constraints'[0]" in line
    assert "is not a number" in line
    assert not out.exists()
