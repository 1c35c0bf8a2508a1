"""Several processes (hosts) share one study through one storage: two processes, each with
its own output folder, on one SQLite file. The study gets exactly ``--trials`` trials, each
numbered once and finished; each folder holds the rows of the trials it evaluated; each
process read the other's trials (its sampler learnt from them, its duplicates were never
evaluated again)."""

from __future__ import annotations

import pandas as pd

from backtest.strategy.params import PARAM_NAMES
from tests.search.helpers import combos, metadata, optimize_args, popen, space, study, trials

N = 600


def test_two_processes_share_one_study(tmp_path):
    # Arrange
    space(tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    outs = [tmp_path / "host_a", tmp_path / "host_b"]
    common = ["--trials", N, "--batch", 20, "--storage", url, "--study-name", "shared"]

    # Act: host a takes the first half, then host b joins the same study for the rest
    # (one after the other, so that both take part however busy the machine is: started
    # together, a busy machine let one process finish every trial alone; the reservation
    # that keeps two processes at one moment apart: test_storage_rows.py)
    running, ends = [], []
    for out, seed, trials_so_far in zip(outs, (1, 2), (N // 2, N)):
        args = [a if a != N else trials_so_far for a in common]
        running.append(
            popen(*optimize_args(tmp_path, out, *args, "--sampler", "random", "--seed", seed))
        )
        ends.append(running[-1].communicate(timeout=600))

    # Assert
    for process, (_, stderr) in zip(running, ends):
        assert process.returncode == 0, stderr
    read = study(url, "shared")
    assert sorted(t.number for t in read.trials) == list(range(N))
    assert {t.state.name for t in read.trials} <= {"COMPLETE", "PRUNED"}
    runs = {t.user_attrs["ibsweep:run"].rsplit(":", 1)[-1] for t in read.trials}
    assert runs == {str(out) for out in outs}  # both took part
    evaluated = [t for t in read.trials if t.user_attrs["ibsweep:outcome"] == "evaluated"]
    keys = [t.user_attrs["ibsweep:key"] for t in evaluated]
    assert len(set(keys)) == len(keys)  # no combination evaluated by both
    by_number = {t.number: t for t in read.trials}
    run_of = {t.number: t.user_attrs["ibsweep:run"] for t in read.trials}
    crossed = [
        t
        for t in read.trials
        if t.user_attrs["ibsweep:outcome"] == "duplicate"
        and run_of[t.user_attrs["ibsweep:same_as"]] != t.user_attrs["ibsweep:run"]
    ]
    assert crossed  # b sampled what a had evaluated: not run again
    for t in crossed:
        assert t.values == by_number[t.user_attrs["ibsweep:same_as"]].values
    rows = pd.concat([combos(out) for out in outs])
    assert len(rows) == len(evaluated)  # every evaluated trial is a row of one folder
    for out in outs:
        own = combos(out)
        identity = [p for p in PARAM_NAMES if p != "weekdays"]
        assert not own.duplicated(subset=identity).any()
        mine = [t for t in evaluated if t.user_attrs["ibsweep:run"].endswith(str(out))]
        assert len(own) == len(mine)
    last = max(outs, key=lambda out: metadata(out)["end_time"])
    assert len(trials(last)) == N  # the one that finished last lists the whole study
    assert metadata(last)["optimize"]["evaluated"] == len(
        {t.user_attrs["ibsweep:key"] for t in evaluated}
    )


def test_two_processes_at_once_never_share_a_number_or_a_combination(tmp_path):
    # Arrange: both started together (however the machine shares itself between them,
    # which of them runs how many trials is not asserted)
    space(tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    outs = [tmp_path / "host_a", tmp_path / "host_b"]
    common = ["--trials", N, "--batch", 20, "--storage", url, "--study-name", "shared"]

    # Act
    running = [
        popen(*optimize_args(tmp_path, out, *common, "--sampler", "random", "--seed", seed))
        for out, seed in zip(outs, (1, 2))
    ]
    ends = [p.communicate(timeout=600) for p in running]

    # Assert
    for process, (_, stderr) in zip(running, ends):
        assert process.returncode == 0, stderr
    read = study(url, "shared")
    assert sorted(t.number for t in read.trials) == list(range(N))
    assert {t.state.name for t in read.trials} <= {"COMPLETE", "PRUNED"}
    evaluated = [t for t in read.trials if t.user_attrs["ibsweep:outcome"] == "evaluated"]
    keys = [t.user_attrs["ibsweep:key"] for t in evaluated]
    assert len(set(keys)) == len(keys)
    assert sum(len(combos(out)) for out in outs) == len(evaluated)
