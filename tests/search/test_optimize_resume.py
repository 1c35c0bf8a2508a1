"""An interrupted optimize resumes with nothing evaluated twice: Ctrl-C keeps every
finished batch; a process killed after a batch's part was written finishes that batch from
its part on the next start; killed before, its trials are failed (never evaluated) and the
study samples anew, as are those of the batch sampled ahead (random and TPE sample batch
k + 1 while batch k is evaluated); a resume with other settings is refused."""

from __future__ import annotations

import json
import signal
import time

import pandas as pd

from backtest.strategy.params import PARAM_NAMES
from tests.search.helpers import combos, invoke, optimize_args, popen, space, study, trials

IDENTITY = [p for p in PARAM_NAMES if p != "weekdays"]
BIG_SPACE = """\
symbol: GER40
grid:
  ib_start: {start: "08:00", stop: "09:00", step: 15}
  ib_end: {start: "09:15", stop: "11:00", step: 15}
  sl_mult: {start: 0.25, stop: 2.0, step: 0.05}
  tp_mult: {start: 0.0, stop: 4.0, step: 0.25}
  direction: [both, long, short]
"""


def _batches_done(out) -> int:
    path = out / "checkpoint.jsonl"
    return len(path.read_text().splitlines()) - 1 if path.exists() else 0


def _no_combination_twice(out) -> pd.DataFrame:
    """The study's trials: every evaluated combination once, each a row of the results."""
    table, rows = trials(out), combos(out)
    evaluated = table[table.outcome == "evaluated"]
    assert len(rows) == len(evaluated)
    assert not rows.duplicated(subset=IDENTITY).any()
    assert evaluated.params.is_unique
    return table


def test_ctrl_c_then_the_same_command_finishes_the_study(tmp_path):
    # Arrange
    space(tmp_path, BIG_SPACE)
    out = tmp_path / "out"
    args = optimize_args(tmp_path, out, "--trials", 3000, "--batch", 20, "--sampler", "random")
    running = popen(*args)
    while _batches_done(out) < 3 and running.poll() is None:
        time.sleep(0.05)

    # Act
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=120)
    first = trials(out)
    resumed = invoke(*args, timeout=600)

    # Assert
    assert running.returncode == 130, stderr
    assert "interrupted (SIGINT); re-run the same command to resume" in stderr
    assert 60 <= len(first) < 3000
    assert resumed.returncode == 0, resumed.stderr
    table = _no_combination_twice(out)
    assert sorted(table.trial) == list(range(3000))
    kept = first[first.outcome == "evaluated"].set_index("trial")
    again = table.set_index("trial").loc[kept.index]
    assert (again.group_id == kept.group_id).all() and (again.value == kept.value).all()
    log = (out / "run.log").read_text()
    assert (
        f"study space_GER40_in_sample in sqlite:///{out / 'optuna.db'}: {len(first)} trials" in log
    )
    assert f"(seed 0 + {len(first)} trials so far)" in log  # not the same points again


def test_killed_after_its_part_the_batch_is_finished_from_it(tmp_path):
    space(tmp_path)
    out = tmp_path / "out"
    args = optimize_args(tmp_path, out, "--trials", 200, "--batch", 40, "--sampler", "random")

    killed = invoke(*args, fault="kill-after-part:3")
    pending = json.loads((out / "parts" / "trials_0000080.pending.json").read_text())
    resumed = invoke(*args)

    assert killed.returncode == -signal.SIGKILL
    assert resumed.returncode == 0, resumed.stderr
    log = (out / "run.log").read_text()
    rows = len(pending["rows"])
    assert (
        f"resuming: trials_0000080: finished from its part ({rows} rows, not evaluated again)"
        in log
    )
    table = _no_combination_twice(out)
    batch = table[table.trial.between(80, 119)]
    assert (batch.state != "RUNNING").all()
    assert (batch[batch.outcome == "evaluated"].group_id == "trials_0000080").sum() == rows
    ahead = table[table.trial.between(120, 159)]  # sampled ahead, not evaluated: failed
    assert (ahead.outcome == "interrupted").all()
    assert len(table) == 200


def test_killed_before_its_part_the_batch_is_failed_and_sampled_anew(tmp_path):
    space(tmp_path)
    out = tmp_path / "out"
    args = optimize_args(tmp_path, out, "--trials", 200, "--batch", 40, "--sampler", "random")

    killed = invoke(*args, fault="kill-before-part:2")
    resumed = invoke(*args)

    assert killed.returncode == -signal.SIGKILL
    assert resumed.returncode == 0, resumed.stderr
    log = (out / "run.log").read_text()
    for gid in ("trials_0000040", "trials_0000080"):  # the batch cut, the one sampled ahead
        assert (
            f"resuming: {gid}: 40 trials were cut before their part was written: failed in "
            "the study (never evaluated), sampled anew" in log
        )
    table = _no_combination_twice(out)
    cut = table[table.trial.between(40, 119)]
    assert (cut.state == "FAIL").all() and (cut.outcome == "interrupted").all()
    assert cut.group_id.isna().all()
    assert len(table) == 200
    meta = json.loads((out / "results_full_GER40.json").read_text())["metadata"]["optimize"]
    assert meta["outcomes"]["interrupted"] == 80


def test_a_resume_with_other_settings_is_refused(tmp_path):
    space(tmp_path)
    out = tmp_path / "out"
    args = optimize_args(tmp_path, out, "--trials", 40, "--batch", 40, "--sampler", "random")
    assert invoke(*args).returncode == 0

    other = invoke(*args, "--spread-model", "cost")
    sampler = invoke(*[a if a != "random" else "tpe" for a in args])

    assert other.returncode == 2
    assert "cannot resume: symbol_settings.spread_model differs" in other.stderr
    assert sampler.returncode == 2 and "optimize.sampler differs" in sampler.stderr
    url = f"sqlite:///{out / 'optuna.db'}"
    assert len(study(url, "space_GER40_in_sample").trials) == 40  # nothing was added
