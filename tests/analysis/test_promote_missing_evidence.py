"""Evidence that is not there is no PASS: its line is MISSING, blocks the promotion like a
FAIL (exit 1, nothing written) and names the command that makes the evidence."""

import pytest

from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    promote_fails,
    reason,
    scenario,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_a_run_without_save_daily_has_no_robustness_file_and_is_not_promoted(s, tmp_path, capsys):
    # Arrange: the sweep without --save-daily: `invoke robustness` cannot judge it
    run = s.sweep(tmp_path / "run", s.real_bars, save_daily=False)
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    found = statuses(output)
    assert found["robustness verdict"] == "MISSING"
    assert [name for name, status in found.items() if status in ("FAIL", "MISSING")] == [
        "robustness verdict",
        "survives 1.5x costs",
    ]
    assert reason(output, "robustness verdict") == (
        "no robustness_GER40.json in the run folder: run the sweep again with --save-daily, "
        f"then invoke robustness --from {run}"
    )
    assert "robustness verdict MISSING" in message and "nothing written" in message
    assert not (bot / "ibsweep_params_GER40.set").exists()


def test_a_dry_run_without_robustness_file_exits_1_naming_invoke_robustness(s, tmp_path, capsys):
    # Arrange: a run with its compact trades, robustness not run yet
    run = s.copy_run(tmp_path / "run")
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=run, group=GROUP, combo="0", dry_run=True, config=s.config
    )
    # Assert
    assert statuses(output)["robustness verdict"] == "MISSING"
    assert reason(output, "robustness verdict") == (
        f"no robustness_GER40.json in the run folder: run invoke robustness --from {run}"
    )


def test_a_control_comparison_without_its_trades_is_missing_evidence(s, tmp_path, capsys):
    # Arrange: the control comparison as an older version wrote it (no .npz of trades)
    run = s.copy_run(tmp_path / "run", s.judged(0))
    (run / "control_vs_in_sample_GER40.npz").unlink(missing_ok=True)
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    found = statuses(output)
    assert found["control figures"] == "MISSING" and found["control out of sample"] == "MISSING"
    assert "FAIL" not in found.values()
    assert reason(output, "control figures") == (
        "control_vs_in_sample_GER40.json: no control_vs_in_sample_GER40.npz (the control "
        f"trades) beside it: run invoke control --from {run}"
    )
