"""Bad input to ``invoke optimize``: exit code 2, one line naming what is wrong, nothing
written (a space with a parameter the strategy does not know, a range without a step
where one is needed, ``--trials 0``, a storage URL that cannot be opened, ...)."""

from __future__ import annotations

import pytest

from tests.search.helpers import invoke, optimize_args, space

CASES = {
    "unknown parameter": (
        "symbol: GER40\ngrid:\n  stop_mult: [1.0, 2.0]\n",
        [],
        "parameter 'stop_mult': unknown parameter",
    ),
    "a whole-number range without a step": (
        "symbol: GER40\ngrid:\n  ib_end: {start: '09:15', stop: '10:30'}\n",
        [],
        "a range without a step: ib_end takes whole numbers (minutes); give a step",
    ),
    "trials 0": (None, ["--trials", 0], "--trials: 0 must be a whole number >= 1"),
    "storage that cannot be opened": (
        None,
        ["--storage", "sqlite:////no/such/folder/optuna.db"],
        "--storage sqlite:////no/such/folder/optuna.db: cannot be opened",
    ),
    "storage that is not a URL": (None, ["--storage", "optuna.db"], "not a database URL"),
    "unknown sampler": (None, ["--sampler", "genetic"], "--sampler: 'genetic' is not one of"),
    "cmaes on two objectives": (
        None,
        ["--sampler", "cmaes", "--objectives", "total_r,max_dd_r"],
        "CMA-ES optimises one objective",
    ),
    "unknown objective": (None, ["--objective", "profit"], "--objective: 'profit' is not one of"),
    "batch 0": (None, ["--batch", 0], "--batch: 0 must be a whole number >= 1"),
    "entry-rule trials over an exit range without a step": (
        "symbol: GER40\ngrid:\n  direction: [both, long]\n  sl_mult: {start: 0.5, stop: 2.0}\n",
        ["--trial", "entry-rule"],
        "grid.sl_mult: a range without a step: --trial entry-rule runs every value of the "
        "exit parameters (sl_mult, tp_mult); give a step or a list",
    ),
    "entry-rule trials on two objectives": (
        None,
        ["--trial", "entry-rule", "--objectives", "total_r,max_dd_r"],
        "--trial entry-rule: a trial reports the best of its exit sub-grid, one value",
    ),
    "unknown trial": (None, ["--trial", "rule"], "--trial: 'rule' is not one of"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_exit_2_and_one_line(tmp_path, case):
    # Arrange
    text, extra, says = CASES[case]
    space(tmp_path, text) if text else space(tmp_path)
    out = tmp_path / "out"
    trials = [] if "--trials" in extra else ["--trials", 50]

    # Act
    done = invoke(*optimize_args(tmp_path, out, *trials, *extra))

    # Assert
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert says in lines[0]
    assert not out.exists()  # nothing ran, nothing written


def test_neither_space_nor_groups_file(tmp_path):
    done = invoke("optimize", "--trials", 10, "--output-dir", tmp_path / "out")

    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: give --space SPACE.yaml or --groups-file G.json (one of them)"
    )
