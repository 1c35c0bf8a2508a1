"""A promotion is one unit: with the disk full at any point (a file size limit on the
promote process, RLIMIT_FSIZE; and, where this user may mount one, a small tmpfs with a
few pages free) it either writes everything or changes nothing, and a backup is a restore
point only when it is complete (its manifest is written last)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from invoke.exceptions import Exit

from backtest.promotion.botfolder import BACKUP_DIR, LOG_FILE
from tests.analysis.promote_helpers import (
    GROUP,
    Scenario,
    make_bot,
    promote_task,
    scenario,
    snapshot,
)
from tests.runner.helpers import REPO, runner_env

LOCK = {BACKUP_DIR: None, f"{BACKUP_DIR}/.lock": b""}


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture(scope="module")
def sizes(s, tmp_path_factory) -> dict[str, int]:
    """The sizes of a promotion's .set and JSON (a promotion without a limit, which also
    leaves every compiled cache written)."""
    bot = make_bot(tmp_path_factory.mktemp("sizes") / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    return {ext: (bot / f"ibsweep_params_GER40.{ext}").stat().st_size for ext in ("set", "json")}


def _promote_limited(s: Scenario, bot: Path, combo: int, limit: int) -> subprocess.CompletedProcess:
    """`invoke promote` as a process that cannot write a file larger than ``limit`` bytes."""

    def file_size_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "invoke", "promote", "--from", str(s.judged(combo)),
         "--group", GROUP, "--combo", str(combo), "--bot-dir", str(bot),
         "--config", str(s.config)],
        cwd=REPO, env=runner_env(), capture_output=True, text=True, timeout=300,
        preexec_fn=file_size_limit,
    )  # fmt: skip


def _consistent(bot: Path) -> dict:
    """The deployed JSON after checking that it describes the deployed .set."""
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    deployed = hashlib.sha256((bot / "ibsweep_params_GER40.set").read_bytes()).hexdigest()
    assert document["set_file"]["sha256"] == deployed
    return document


def _last_logged(bot: Path) -> dict:
    return json.loads((bot / LOG_FILE).read_text().splitlines()[-1])


def _limits(sizes: dict[str, int]) -> list[int]:
    """Limits on every side of the files' sizes: nothing fits; the .set fits, the JSON
    not; everything fits."""
    return [sizes["set"] // 2, sizes["set"] + 100, sizes["json"] + 20_000]


def test_a_first_promotion_on_a_full_disk_writes_all_or_nothing(s, sizes, tmp_path):
    for limit in _limits(sizes):
        # Arrange: a bot folder without parameter files yet
        bot = make_bot(tmp_path / f"bot{limit}")
        before = snapshot(bot)
        # Act
        done = _promote_limited(s, bot, 0, limit)
        # Assert
        if limit >= sizes["json"] + 20_000:
            assert done.returncode == 0, done.stderr
            document = _consistent(bot)
            assert document["provenance"]["in_sample"]["combo"] == 0
            assert _last_logged(bot)["params_sha256"] == document["params_sha256"]
            continue
        assert done.returncode == 2, (limit, done.stdout, done.stderr)
        assert snapshot(bot) == {**before, **LOCK}
        (line,) = done.stderr.splitlines()
        assert "File too large" in line and "nothing changed in the bot folder" in line


def test_a_second_promotion_on_a_full_disk_keeps_the_first_one(s, sizes, tmp_path):
    for limit in _limits(sizes):
        # Arrange: combo 0 deployed
        bot = make_bot(tmp_path / f"bot{limit}")
        promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
        before = snapshot(bot)
        # Act
        done = _promote_limited(s, bot, 1, limit)
        # Assert
        if done.returncode == 0:
            assert limit >= sizes["json"]
            document = _consistent(bot)
            assert document["provenance"]["in_sample"]["combo"] == 1
            assert _last_logged(bot)["params_sha256"] == document["params_sha256"]
            promote_task(rollback=True, bot_dir=bot, symbol="GER40")
            assert _consistent(bot)["provenance"]["in_sample"]["combo"] == 0
            continue
        assert done.returncode == 2, (limit, done.stdout, done.stderr)
        assert snapshot(bot) == before


def test_a_backup_without_its_manifest_is_no_restore_point(s, tmp_path):
    # Arrange: combo 0 then combo 1 deployed (combo 0 kept with its manifest); then a
    # backup cut short by a full disk: only a JSON copy, no .set, no manifest
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    first = {ext: (bot / f"ibsweep_params_GER40.{ext}").read_bytes() for ext in ("json", "set")}
    promote_task(from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config)
    cut_short = bot / BACKUP_DIR / "ibsweep_params_GER40.29991231T235959.000000Z.json"
    cut_short.write_bytes((bot / "ibsweep_params_GER40.json").read_bytes())
    # Act
    promote_task(rollback=True, bot_dir=bot, symbol="GER40")
    # Assert: the complete backup (combo 0) is back, both files
    assert {ext: (bot / f"ibsweep_params_GER40.{ext}").read_bytes() for ext in first} == first
    assert cut_short.is_file()


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs (skipped where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _fill(disk: Path, pages_free: int) -> Path:
    """A file that leaves ``pages_free`` pages of ``disk`` free."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, (stat.f_bavail - pages_free) * stat.f_frsize))
    return filler


def test_with_a_few_pages_free_a_promotion_and_its_rollback_are_all_or_nothing(
    s, sizes, small_disk
):
    for pages in range(0, 10):
        # Arrange: combo 0 deployed, then the disk filled up to a few free pages
        bot = make_bot(small_disk / f"bot{pages}")
        promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
        before = snapshot(bot)
        filler = _fill(small_disk, pages)
        # Act
        try:
            promote_task(from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config)
            promoted = True
        except Exit as exc:
            assert exc.code == 2 and "nothing changed" in str(exc.message), exc.message
            promoted = False
        filler.unlink()
        # Assert: all or nothing; a rollback then goes back to combo 0 or finds no backup
        if promoted:
            assert _consistent(bot)["provenance"]["in_sample"]["combo"] == 1
        else:
            assert snapshot(bot) == before
        try:
            promote_task(rollback=True, bot_dir=bot, symbol="GER40")
            assert promoted
        except Exit as exc:
            assert not promoted and exc.code == 2 and "no backup" in str(exc.message)
        assert _consistent(bot)["provenance"]["in_sample"]["combo"] == 0
        shutil.rmtree(bot)
