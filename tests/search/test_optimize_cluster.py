"""``invoke optimize`` on a real Dask cluster (TLS on 127.0.0.1, two worker processes, as
fab cluster-up makes one): the batches evaluated there give the study, the rows and the
daily R the local pool gives, trial for trial (the same seed, the same trajectory)."""

from __future__ import annotations

import json

import pytest

from farm.cluster import local_cluster
from tests.runner.helpers import SYMBOL
from tests.search.helpers import combos, invoke, metadata, optimize_args, space, trials

SAME = ["trial", "state", "outcome", "group_id", "combo", "same_as", "value", "params"]


@pytest.fixture(scope="module")
def scheduler_file(tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("dask_cluster") / "tls", workers=2) as path:
        yield path


# trials of one combination; trials of a whole entry rule (each worker makes its rows)
MODES = {"combination": (120, 40, 40), "entry-rule": (12, 4, 6)}


@pytest.mark.parametrize("mode", list(MODES))
def test_a_search_on_the_cluster_equals_the_local_pool_trial_for_trial(
    scheduler_file, tmp_path, mode
):
    space(tmp_path)
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    n, batch, evaluated = MODES[mode]
    options = ("--trials", n, "--batch", batch, "--seed", 3, "--save-daily", "--no-report")
    options += ("--trial", mode)

    local = invoke(*optimize_args(tmp_path, local_out, *options))
    remote = invoke(
        *optimize_args(tmp_path, dask_out, *options), "--scheduler-file", scheduler_file
    )

    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    address = json.loads(scheduler_file.read_text())["address"]
    log = (dask_out / "run.log").read_text()
    assert f"dask cluster {address}: 2 workers, 2 threads" in log
    assert "sweep kernels ready" not in log  # nothing evaluated by a local pool
    assert metadata(dask_out)["workers"] == 2
    here, there = trials(local_out), trials(dask_out)
    assert (here.outcome == "evaluated").sum() > evaluated
    assert there[SAME].equals(here[SAME])
    assert combos(dask_out).equals(combos(local_out))
    daily = sorted(p.name for p in (local_out / "daily").iterdir())
    assert daily == sorted(p.name for p in (dask_out / "daily").iterdir()) and daily
    for name in daily:  # the compact trades the workers returned, written by the client
        assert (dask_out / "daily" / name).read_bytes() == (local_out / "daily" / name).read_bytes()
    assert f"optimize_trials_{SYMBOL}.parquet" in {p.name for p in dask_out.iterdir()}
