"""An in-sample run by another code version than its control fails "same code version"."""

import pytest

from backtest.core.version import code_version
from backtest.runner.outputs import read_results, write_results
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_in_sample_by_older_code_fails_only_same_code_version(s, tmp_path, capsys):
    # Arrange: the run's results as an older checkout would have written them (the one
    # writer), and no control yet: promote runs control with today's code
    run = s.copy_run(tmp_path / "run")
    for name in ("control_vs_in_sample_GER40.json", "control_vs_in_sample_GER40.csv"):
        (run / name).unlink()
    results = read_results(run, "GER40")
    meta = {**results["metadata"], "code_version": "0.0.9+0123456789ab"}
    write_results(run, "GER40", meta, results["groups"], [])
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    assert only_failure(output) == "same code version"
    assert reason(output, "same code version") == (
        f"in-sample 0.0.9+0123456789ab, control {code_version()}: re-run both with one version"
    )
