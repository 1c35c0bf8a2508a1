"""Control evidence made with other settings than the in-sample run and the deployment
fails "same settings", naming the field; the control figures are recomputed from its
trades, so an edited summary is caught, not believed."""

import json

import pytest

from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.mark.parametrize(
    "option, value, field",
    [
        ("--risk", "900", "risk: in-sample 900.0, control 1000.0, deployment 900.0"),
        (
            "--account-size",
            "90000",
            "account_size: in-sample 90000.0, control 100000.0, deployment 90000.0",
        ),
        ("--engine", "emulator", "engine: in-sample 'emulator', control 'fast'"),
        (
            "--spread-model",
            "bid_ask",
            "spread_model: in-sample 'bid_ask', control 'cost', deployment 'cost'",
        ),
    ],
)
def test_a_control_made_with_other_settings_fails_same_settings(
    s, tmp_path, capsys, option, value, field
):
    # Arrange: the same data swept with another setting (the emulator keeps no compact
    # trades); the control of the first run
    run = s.sweep(tmp_path / "run", s.real_bars, option, value, save_daily=option != "--engine")
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=run, group=GROUP, combo="0", control_from=s.run, config=s.config
    )
    # Assert
    assert statuses(output)["same settings"] == "FAIL"
    assert reason(output, "same settings") == field
    assert "same settings" in message


def test_costs_configured_since_the_runs_fail_same_settings_for_the_deployment(s, tmp_path, capsys):
    # Arrange: the broker's spread is now 1.5 in the config promote reads (the stop of
    # 1500 points is still 10 x the costs)
    config = s.config_with(tmp_path / "cfg.yaml", {"symbols": {"GER40": {"spread": 1.5}}})
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(capsys, bot, from_=s.judged(0), group=GROUP, combo="0", config=config)
    # Assert
    assert only_failure(output) == "same settings"
    assert reason(output, "same settings") == ("spread: in-sample 1.0, control 1.0, deployment 1.5")


def test_an_edited_control_summary_is_not_believed(s, tmp_path, capsys):
    # Arrange: a losing control (-4.5 R) whose row was edited to +9.5 R / +9500
    control = s.losing_control(tmp_path / "control")
    path = control / "control_vs_in_sample_GER40.json"
    document = json.loads(path.read_text())
    for row in document["rows"]:
        row.update(ctl_total_r=9.5, ctl_total_pnl=9500.0)
    path.write_text(json.dumps(document))
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", control_from=control,
        config=s.config,
    )  # fmt: skip
    # Assert
    found = statuses(output)
    assert found["positive after costs"] == "FAIL" and found["control figures"] == "FAIL"
    assert reason(output, "positive after costs").endswith("control total_r -4.50, pnl -4500.00")
    assert reason(output, "control figures") == (
        "control_vs_in_sample_GER40.json says total_r 9.5 but its trades give -4.5; "
        "total_pnl 9500.0 but its trades give -4500.0 (edited?)"
    )
