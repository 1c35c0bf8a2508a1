"""Checklist step 5 on the whole account (issue 23 item 5): the combination promoted
together with what is deployed for the other symbol in the bot folder
(`account.account_check`). A day on which both symbols lose can breach the program's
daily loss only combined: the line FAILs then, while the symbol alone passes. A risk per
trade above the program's risk per position FAILs; an account that cannot be evaluated
is MISSING. The promotion's JSON and log record the account figures."""

import json

import pytest

from backtest.promotion.botfolder import LOG_FILE
from tests.analysis.promote_helpers import (
    GROUP,
    XAU_GROUP,
    deploy_by_hand,
    make_bot,
    only_failure,
    programs_file,
    promote_fails,
    promote_task,
    reason,
    scenario,
    statuses,
    xauusd_run,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture(scope="module")
def xauusd(s, tmp_path_factory):
    """A real XAUUSD run over the same dates whose first day loses, as GER40's does."""
    return xauusd_run(s, tmp_path_factory.mktemp("xauusd") / "run", "LWWWWWWWWW")


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    """The5ers High Stakes with a 2 % daily loss: GER40's loss day (-1.05 %) and XAUUSD's
    (-1.01 %) are each inside it, together (-2.06 %) they breach it."""
    path = tmp_path_factory.mktemp("programs") / "programs.yaml"
    return programs_file(path, daily_loss={"limit_pct": 2})


def test_a_joint_loss_day_fails_the_whole_account_only_combined(s, xauusd, tight, tmp_path, capsys):
    # Arrange: XAUUSD deployed (risk 1000) beside the GER40 being promoted
    bot = make_bot(tmp_path / "bot")
    deploy_by_hand(bot, "XAUUSD", xauusd, XAU_GROUP, 0, 1000.0)
    options = dict(from_=s.judged(0), group=GROUP, combo="0", config=s.config)
    program = dict(program="test_program", programs=tight)
    # Act
    message, output = promote_fails(capsys, bot, **options, **program)
    # Assert
    assert only_failure(output) == "whole account"
    text = reason(output, "whole account")
    assert text.startswith("combined P(breach) ")
    assert "> 10.0% (The5ers High Stakes (100K), GER40, XAUUSD)" in text
    assert "whole account FAIL" in message
    # Act: GER40 alone, with the same program, passes
    alone = make_bot(tmp_path / "alone")
    promote_task(bot_dir=alone, dry_run=True, **options, **program)
    # Assert
    output = capsys.readouterr().out
    assert statuses(output)["whole account"] == "PASS"
    assert reason(output, "whole account").startswith("combined P(breach) 0.0% <= 10.0%")
    assert reason(output, "whole account").endswith(
        "GER40 alone: nothing deployed for another symbol in the bot folder"
    )


def test_both_symbols_within_the_program_pass_and_the_figures_are_recorded(
    s, xauusd, tmp_path, capsys
):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    deploy_by_hand(bot, "XAUUSD", xauusd, XAU_GROUP, 0, 800.0)
    # Act
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    # Assert
    found = statuses(capsys.readouterr().out)
    assert found["whole account"] == "PASS"
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    account = document["whole_account"]
    assert (account["program"], account["others"]) == ("the5ers_high_stakes", ["XAUUSD"])
    assert account["figures"]["symbols"] == ["GER40", "XAUUSD"]
    assert [p["risk"] for p in account["figures"]["picks"]] == [1000.0, 800.0]
    assert account["figures"]["p_breach"] == 0.0 and account["figures"]["rules"]
    (entry,) = [json.loads(line) for line in (bot / LOG_FILE).read_text().splitlines()]
    logged = entry["whole_account"]["figures"]
    assert logged["status"] == "PASS" and logged["symbols"] == ["GER40", "XAUUSD"]
    assert logged["p_breach"] == 0.0 and logged["paths"] == 10_000
    assert [(p["symbol"], p["risk"]) for p in logged["picks"]] == [
        ("GER40", 1000.0),
        ("XAUUSD", 800.0),
    ]


def test_a_risk_above_the_programs_risk_per_position_fails(s, tmp_path, capsys):
    # Arrange: a program allowing 0.5 % per position; the run risks 1 %
    programs = programs_file(tmp_path / "programs.yaml", max_risk_per_position_pct=0.5)
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", config=s.config,
        program="test_program", programs=programs,
    )  # fmt: skip
    # Assert
    assert only_failure(output) == "whole account"
    assert "risk per position" in reason(output, "whole account")
    assert "1 % > 0.5 %" in reason(output, "whole account")


def test_a_deployment_whose_run_is_not_here_is_missing_evidence(s, tmp_path, capsys):
    # Arrange: XAUUSD deployed from a run folder that is on another machine
    bot = make_bot(tmp_path / "bot")
    deploy_by_hand(bot, "XAUUSD", tmp_path / "elsewhere", XAU_GROUP, 0, 1000.0)
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.judged(0), group=GROUP, combo="0", config=s.config
    )
    # Assert
    found = statuses(output)
    assert [n for n, st in found.items() if st in ("FAIL", "MISSING")] == ["whole account"]
    assert reason(output, "whole account") == (
        f"the deployed XAUUSD ({XAU_GROUP} combo 0) was promoted from {tmp_path / 'elsewhere'}, "
        f"which is not on this machine: see invoke account --pick {s.judged(0)}:{GROUP}:0:GER40 "
        f"--pick {tmp_path / 'elsewhere'}:{XAU_GROUP}:0:XAUUSD --risk-per-symbol 1000,1000 "
        "--program the5ers_high_stakes --max-breach 0.1"
    )
