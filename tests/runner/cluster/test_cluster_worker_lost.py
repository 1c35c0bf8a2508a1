"""A group whose worker dies is run once more on the cluster, then recorded failed like a
twice-killed local worker; the other groups finish and the run exits 1."""

from __future__ import annotations

import json

from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli


def test_group_killing_its_worker_twice_fails_and_the_run_goes_on(tls_cluster, dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts", "--no-report"),
        "--scheduler-file",
        tls_cluster.scheduler_file,
        fault="group_GER40_001:kill",
        timeout=120,
    )

    assert result.returncode == 1, result.stderr
    statuses = {g["group_id"]: g.get("error", g["status"]) for g in full_results(out)["groups"]}
    assert statuses == {
        "group_GER40_001": "worker died (2 times; dask KilledWorker)",
        "group_GER40_002": "ok",
    }
    failed = json.loads((out / f"failed_groups_{SYMBOL}.json").read_text())["groups"]
    assert [g["group_id"] for g in failed] == ["group_GER40_001"]
