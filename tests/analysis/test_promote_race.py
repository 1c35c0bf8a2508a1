"""Two promotions of one bot folder at the same time: the bot folder is locked while it
is written and a promotion whose checks read files that another one has changed since is
refused, so one wins, the other exits 2, and the files and the log agree.

The two are real `invoke promote` processes; a barrier after the checklist (the test's
own wrapper of ``evaluate``) makes sure that both have read the bot folder before either
writes: the race happens every time, not by luck of timing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from backtest.promotion.botfolder import LOG_FILE
from tests.analysis.promote_helpers import GROUP, make_bot, scenario
from tests.runner.helpers import REPO, runner_env


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


# `invoke promote ARGS` whose checklist, once evaluated, waits for the other's (argv[1]:
# the barrier folder, each process leaves a file there).
BARRIER = """
import os, sys, time, pathlib
from backtest.promotion import flow as promote
barrier = pathlib.Path(sys.argv.pop(1))
evaluate = promote.evaluate
def evaluate_then_wait(*args, **kwargs):
    checks = evaluate(*args, **kwargs)
    (barrier / str(os.getpid())).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return checks
promote.evaluate = evaluate_then_wait
from invoke.main import program
program.run(["invoke", *sys.argv[1:]])
"""


def _start(barrier: Path, run: Path, combo: int, bot: Path, config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BARRIER, str(barrier), "promote", "--from", str(run),
         "--group", GROUP, "--combo", str(combo), "--bot-dir", str(bot),
         "--config", str(config)],
        cwd=REPO, env=runner_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_promotions_at_once_one_wins_and_the_files_agree(s, tmp_path):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # Act: both started together; each has read the bot folder before the other writes
    racers = {c: _start(barrier, s.judged(c), c, bot, s.config) for c in (0, 1)}
    done = {combo: (p.wait(timeout=300), p.communicate()[1]) for combo, p in racers.items()}
    # Assert: one wins, the other is refused with one line
    (winner,) = [combo for combo, (code, _) in done.items() if code == 0]
    ((code, stderr),) = [result for combo, result in done.items() if combo != winner]
    assert code == 2, done
    (line,) = stderr.splitlines()
    assert line.startswith(f"error: {bot}: --bot-dir: another promote or rollback ")
    assert "nothing written" in line
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    assert document["provenance"]["in_sample"]["combo"] == winner
    deployed = (bot / "ibsweep_params_GER40.set").read_bytes()
    assert document["set_file"]["sha256"] == hashlib.sha256(deployed).hexdigest()
    log = [json.loads(line) for line in (bot / LOG_FILE).read_text().splitlines()]
    assert [(e["event"], e["combo"], e["params_sha256"]) for e in log] == [
        ("promote", winner, document["params_sha256"])
    ]
