"""Every run option is described once (backtest.runner.options.RunOptions): the runner's
command line and every invoke task that takes a run option show the same help."""

from __future__ import annotations

import pytest

from backtest.runner.options import RunOptions, build_parser, option_fields, runner_arguments
from tasks import ns


def _task_helps() -> dict[tuple[str, str], str]:
    """(task name, option) -> help, for the run options of every invoke task that takes
    them from the table (``tasks.options.run_option_task``)."""
    out = {}
    for name in ns.task_names:
        task = ns[name]
        for option in getattr(task.body, "run_options", ()):
            out[(name, option)] = task.help[option]
    return out


def test_the_runner_parser_has_every_option_with_the_tables_help():
    # Arrange
    parser = build_parser()
    # Act
    helps = {a.dest: a.help for a in parser._actions if a.dest != "help"}
    # Assert
    assert helps == {row.name: row.metadata["help"] for row in option_fields()}


def test_every_task_taking_a_run_option_shows_the_tables_help():
    # Arrange
    table = {row.name: row.metadata["help"] for row in option_fields()}
    # Act
    shown = {key: text for key, text in _task_helps().items() if key[1] in table}
    # Assert
    differing = {key: text for key, text in shown.items() if text != table[key[1]]}
    assert differing == {}
    assert ("backtest", "spread_model") in shown and ("walk-forward", "slippage") in shown


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"groups_file": "g.json", "fresh": True}, ["--groups-file", "g.json", "--fresh"]),
        ({"save_trades": True, "risk": None}, ["--save-trades"]),
        (
            {"save_trades": "top:5", "slippage": 0.5},
            ["--save-trades", "top:5", "--slippage", "0.5"],
        ),
        ({"drop_invalid": False, "spread_model": "cost"}, ["--spread-model", "cost"]),
    ],
)
def test_runner_arguments_parse_back_to_the_same_options(values, words):
    # Act
    got = runner_arguments(values)
    parsed = vars(build_parser().parse_args(["--groups-file", "x", *got]))
    # Assert
    assert got == words
    assert all(parsed[name] == value for name, value in values.items())
    assert set(parsed) == {f.name for f in option_fields()} == set(RunOptions.__dataclass_fields__)
