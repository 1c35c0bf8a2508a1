"""Promote writes only inside the bot folder: a symbolic link where it keeps its log or its
backups is refused (exit 2, one line naming the link) and nothing is written anywhere."""

import shutil

import pytest

from backtest.promotion.botfolder import BACKUP_DIR, LOG_FILE
from tests.analysis.promote_helpers import (
    GROUP,
    expect_exit,
    make_bot,
    promote_task,
    scenario,
    snapshot,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture
def deployed(s, tmp_path):
    """A bot folder with combo 0 deployed, and a folder outside it."""
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    outside = tmp_path / "outside"
    outside.mkdir()
    return bot, outside


def _link_log(bot, outside):
    (outside / "log.jsonl").write_bytes((bot / LOG_FILE).read_bytes())
    (bot / LOG_FILE).unlink()
    (bot / LOG_FILE).symlink_to(outside / "log.jsonl")
    return bot / LOG_FILE


def _link_backups(bot, outside):
    shutil.rmtree(bot / BACKUP_DIR, ignore_errors=True)
    (bot / BACKUP_DIR).symlink_to(outside, target_is_directory=True)
    return bot / BACKUP_DIR


@pytest.mark.parametrize("link", [_link_log, _link_backups], ids=["log", "backups"])
def test_promote_refuses_a_symlink_in_the_bot_folder(s, deployed, link):
    # Arrange
    bot, outside = deployed
    path = link(bot, outside)
    before = (snapshot(bot), snapshot(outside))
    # Act
    message = expect_exit(
        2, from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config
    )
    # Assert
    assert message.startswith(f"error: {path}: a symbolic link (to {outside}")
    assert "\n" not in message
    assert (snapshot(bot), snapshot(outside)) == before


def test_rollback_refuses_symlinked_backups(s, deployed):
    # Arrange: a second promotion (a backup of the first exists), then its backups
    # folder moved outside and linked
    bot, outside = deployed
    promote_task(from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config)
    shutil.copytree(bot / BACKUP_DIR, outside, dirs_exist_ok=True)
    path = _link_backups(bot, outside)
    before = (snapshot(bot), snapshot(outside))
    # Act
    message = expect_exit(2, rollback=True, bot_dir=bot, symbol="GER40")
    # Assert
    assert message.startswith(f"error: {path}: a symbolic link (to {outside})")
    assert (snapshot(bot), snapshot(outside)) == before
