"""`invoke preflight` re-runs the checklist for what is deployed and changes nothing."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from tasks.promote import preflight
from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    only_failure,
    promote_task,
    reason,
    scenario,
    snapshot,
    statuses,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture
def deployed(s, tmp_path):
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    return bot


def _preflight(bot, config, capsys, code=None):
    before = snapshot(bot)
    capsys.readouterr()
    if code is None:
        preflight.body(Context(), bot_dir=str(bot), config=str(config))
        message = None
    else:
        with pytest.raises(Exit) as info:
            preflight.body(Context(), bot_dir=str(bot), config=str(config))
        assert info.value.code == code
        message = str(info.value.message)
    assert snapshot(bot) == before
    return message, capsys.readouterr().out


def test_what_was_just_promoted_passes(s, deployed, capsys):
    _, output = _preflight(deployed, s.config, capsys)
    found = statuses(output)
    assert "FAIL" not in found.values()
    assert found["deployed files"] == "PASS" and found["backtests (at promotion)"] == "PASS"
    assert found["watch the first session"] == "MANUAL"


def test_a_stale_news_file_fails(s, deployed, capsys):
    # Arrange: the news file now ends in 3 days
    make_bot(deployed.parent / "stale", news_days=3)
    (deployed / "news.csv").write_bytes((deployed.parent / "stale" / "news.csv").read_bytes())
    # Act
    message, output = _preflight(deployed, s.config, capsys, code=1)
    # Assert
    assert only_failure(output) == "news file up to date"
    assert "do not start the bot" in message


def test_an_env_switched_to_real_fails(s, deployed, capsys):
    (deployed / ".env").write_text("ACCOUNT_TYPE=REAL\nNEWS_FILE=news.csv\n")
    _, output = _preflight(deployed, s.config, capsys, code=1)
    assert only_failure(output) == ".env account"


def test_a_hand_edited_set_file_fails(s, deployed, capsys):
    path = deployed / "ibsweep_params_GER40.set"
    path.write_bytes(
        path.read_bytes().replace("1.0".encode("utf-16-le"), "1.5".encode("utf-16-le"), 1)
    )
    _, output = _preflight(deployed, s.config, capsys, code=1)
    assert only_failure(output) == "deployed files"
    assert "differs from the one promoted" in reason(output, "deployed files")


def test_a_bot_folder_without_deployed_parameters_exits_2(s, tmp_path, capsys):
    bot = make_bot(tmp_path / "empty")
    message, _ = _preflight(bot, s.config, capsys, code=2)
    assert message == f"error: {bot}: no deployed ibsweep_params_{{SYMBOL}}.json"
