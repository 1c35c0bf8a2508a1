"""Bad input to `invoke promote`: one line naming the file and field, exit code 2, nothing
written (neither in the bot folder nor in the run folder)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.promote_helpers import GROUP, expect_exit, make_bot, scenario, snapshot
from tests.runner.helpers import REPO, runner_env


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def _unwritable(tmp_path: Path) -> Path:
    """A folder no file can be created in: mode 0555, or for root (who ignores modes)
    /sys, where nobody can create files."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = make_bot(tmp_path / "ro")
    folder.chmod(0o555)
    return folder


def _refused(s, tmp_path, **options) -> str:
    run = s.copy_run(tmp_path / "run")
    bot = options.pop("bot_dir", None) or make_bot(tmp_path / "bot")
    mine = tmp_path in bot.parents and bot.is_dir()  # not /sys
    before = (snapshot(run), snapshot(bot) if mine else None)
    message = expect_exit(2, from_=run, bot_dir=bot, config=s.config, **options)
    assert (snapshot(run), snapshot(bot) if mine else None) == before
    assert message.startswith("error: ") and "\n" not in message
    return message


def test_unknown_group(s, tmp_path):
    message = _refused(s, tmp_path, group="group_GER40_099", combo="0")
    assert message.endswith(
        "--group group_GER40_099: not in the results (groups: group_GER40_001, group_GER40_002)"
    )


def test_unknown_combo(s, tmp_path):
    message = _refused(s, tmp_path, group=GROUP, combo="2")
    assert message.endswith("--combo 2: group group_GER40_001 has 2 combinations (0..1)")


def test_combo_that_is_not_a_number(s, tmp_path):
    message = _refused(s, tmp_path, group=GROUP, combo="best")
    assert message == "error: --combo: 'best' is not a combination index (0, 1, ...)"


def test_bot_folder_that_does_not_exist(s, tmp_path):
    message = _refused(s, tmp_path, group=GROUP, combo="0", bot_dir=tmp_path / "nobot")
    assert message == f"error: {tmp_path / 'nobot'}: --bot-dir: bot folder does not exist"


def test_bot_folder_that_is_not_writable(s, tmp_path):
    folder = _unwritable(tmp_path)
    message = _refused(s, tmp_path, group=GROUP, combo="0", bot_dir=folder)
    assert message == f"error: {folder}: --bot-dir: bot folder is not writable"


@pytest.mark.parametrize(
    "env, problem",
    [
        ("ACCOUNT_TYPE DEMO\n", "line 1: not KEY=VALUE: 'ACCOUNT_TYPE DEMO'"),
        ('NEWS_FILE=news.csv\nACCOUNT_TYPE="DEMO\n', "line 2: ACCOUNT_TYPE: unclosed or trailing"),
        ("ACCOUNT_TYPE=DEMO\nACCOUNT_TYPE=REAL\n", "line 2: ACCOUNT_TYPE set twice (also line 1)"),
    ],
    ids=["no equals sign", "unclosed quote", "set twice"],
)
def test_malformed_env(s, tmp_path, env, problem):
    bot = make_bot(tmp_path / "bot")
    (bot / ".env").write_text(env)
    message = _refused(s, tmp_path, group=GROUP, combo="0", bot_dir=bot)
    assert message.startswith(f"error: {bot / '.env'}: {problem}")


def test_unknown_account(s, tmp_path):
    message = _refused(s, tmp_path, group=GROUP, combo="0", account="live")
    assert message == "error: --account: 'live' must be demo or real"


def test_the_command_line_exits_2_with_one_line(s, tmp_path):
    # Act: the installed `invoke` as the users run it
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "promote", "--from", str(s.run), "--group", "nope",
         "--combo", "0", "--bot-dir", str(make_bot(tmp_path / "bot")), "--config", str(s.config)],
        cwd=REPO, env=runner_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Assert
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "--group nope: not in the results" in done.stderr


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"min_match": "1.5"}, "error: --min-match: 1.5 must be a number from 0 to 1"),
        ({"min_match": "most"}, "error: --min-match: 'most' is not a number from 0 to 1"),
        ({"max_breach": "-0.1"}, "error: --max-breach: -0.1 must be a number from 0 to 1"),
    ],
    ids=["min-match above 1", "min-match not a number", "max-breach below 0"],
)
def test_a_share_outside_0_to_1(s, tmp_path, options, expected):
    assert _refused(s, tmp_path, group=GROUP, combo="0", **options) == expected


def test_unknown_program(s, tmp_path):
    message = _refused(s, tmp_path, group=GROUP, combo="0", program="the5ers_high_stake")
    assert "the5ers_high_stake" in message and "the5ers_high_stakes" in message
