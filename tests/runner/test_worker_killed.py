"""A worker killed by a signal: its group is retried once on a fresh worker, then failed."""

from __future__ import annotations

import json

from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli, summary_bytes


def test_killed_worker_is_retried_and_all_groups_finish(baseline, dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts"),
        fault="group_GER40_001:kill-once",
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "group_GER40_001: worker died (signal 9); retrying on a fresh worker" in result.stdout
    assert (out / ".faults" / "group_GER40_001.killed").exists()
    assert [g["status"] for g in full_results(out)["groups"]] == ["ok", "ok"]
    assert summary_bytes(out) == summary_bytes(baseline.out)


def test_worker_killed_twice_fails_the_group_and_the_run_goes_on(dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts"),
        fault="group_GER40_001:kill",
        timeout=60,
    )

    assert result.returncode == 1
    statuses = {g["group_id"]: g.get("error", g["status"]) for g in full_results(out)["groups"]}
    assert statuses == {"group_GER40_001": "worker died (signal 9)", "group_GER40_002": "ok"}
    failed = json.loads((out / f"failed_groups_{SYMBOL}.json").read_text())["groups"]
    assert [g["group_id"] for g in failed] == ["group_GER40_001"]
