"""Without a control result for the combination, promote runs control for just it (the
real compare_control) and uses those numbers; --dry-run writes nothing to the bot."""

import json

import pytest

from backtest.analysis.control import compare_control
from tests.analysis.promote_helpers import (
    GROUP,
    expect_exit,
    make_bot,
    promote_task,
    scenario,
    snapshot,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_control_is_run_for_the_combination_when_none_exists(s, tmp_path, capsys):
    # Arrange: a run folder without control results
    run = s.copy_run(tmp_path / "run", s.judged(1))
    for name in ("control_vs_in_sample_GER40.json", "control_vs_in_sample_GER40.csv"):
        (run / name).unlink()
    bot = make_bot(tmp_path / "bot")
    before = snapshot(bot)
    # Act
    promote_task(from_=run, group=GROUP, combo="1", bot_dir=bot, dry_run=True, config=s.config)
    # Assert
    output = capsys.readouterr().out
    written = run / "promote_control" / "group_GER40_001_combo1" / "control_vs_in_sample_GER40.json"
    assert f"control: {written} (run now for this combination)" in output
    rows = json.loads(written.read_text())["rows"]
    assert [(r["group_id"], r["combo"], r["ctl_total_r"]) for r in rows] == [(GROUP, 1, 15.0)]
    assert "FAIL" not in statuses(output).values()
    assert "dry run: nothing written" in output
    assert snapshot(bot) == before


def test_the_control_of_the_run_folder_is_used_when_it_has_the_row(s, tmp_path, capsys):
    # Arrange: compare_control's own file of the top 100 % (what `invoke control` writes)
    bot = make_bot(tmp_path / "bot")
    run = s.judged(0)
    # Act
    promote_task(from_=run, group=GROUP, combo="0", bot_dir=bot, dry_run=True, config=s.config)
    # Assert
    output = capsys.readouterr().out
    assert f"control: {run / 'control_vs_in_sample_GER40.json'}\n" in output


def test_control_from_without_the_row_exits_2(s, tmp_path):
    # Arrange: a control comparison of the best combination only (group 1 combo 1)
    control = tmp_path / "control"
    compare_control(s.run, top="1", min_count=1, output_dir=control, cfg=s.cfg)
    bot = make_bot(tmp_path / "bot")
    # Act
    message = expect_exit(
        2, from_=s.run, group=GROUP, combo="0", bot_dir=bot, control_from=control, config=s.config
    )
    # Assert
    assert message == (
        f"error: {control / 'control_vs_in_sample_GER40.json'}: --control-from: no row for "
        "group_GER40_001 combo 0 (leave out --control-from to run control for it)"
    )
