"""Constraints are evaluated by a small interpreter: only the allowed syntax runs;
times compare as times."""

import pytest

from backtest.strategy.constraints import Constraint, ConstraintError

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
