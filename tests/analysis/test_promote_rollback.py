"""Rollback restores the previous parameter files byte for byte and logs it."""

import json

import pytest

from backtest.promotion.botfolder import LOG_FILE
from tests.analysis.promote_helpers import (
    GROUP,
    backup_copies,
    expect_exit,
    make_bot,
    promote_task,
    scenario,
    snapshot,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def _files(bot):
    return {ext: (bot / f"ibsweep_params_GER40.{ext}").read_bytes() for ext in ("json", "set")}


def test_rollback_restores_the_previous_files_byte_for_byte(s, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    first = _files(bot)
    promote_task(from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config)
    second = _files(bot)
    # Act
    promote_task(rollback=True, bot_dir=bot, symbol="GER40")
    # Assert
    assert _files(bot) == first
    kept = backup_copies(bot / "ibsweep_backups" / "rolled_back")
    assert {p.suffix[1:]: p.read_bytes() for p in kept} == second
    last = json.loads((bot / LOG_FILE).read_text().splitlines()[-1])
    assert last["event"] == "rollback" and last["symbol"] == "GER40"
    assert "rolled back GER40" in capsys.readouterr().out


def test_rollback_without_a_backup_exits_2_and_writes_nothing(s, tmp_path):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    before = snapshot(bot)
    # Act
    message = expect_exit(2, rollback=True, bot_dir=bot, symbol="GER40")
    # Assert
    assert message.startswith("error: ") and "\n" not in message
    assert "no backup of ibsweep_params_GER40" in message
    assert snapshot(bot) == before
