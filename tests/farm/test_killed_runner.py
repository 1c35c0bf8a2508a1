"""The runner killed on one host mid-run: status says dead, collect saves what it finished
and lists the rest, retry completes them."""

from __future__ import annotations

import json

from farm import flows
from farm.hosts import load_hosts
from tests.farm.conftest import (
    kill_runner_tree,
    no_connections,
    run_fab,
    wait_status,
    write_groups,
    write_hosts,
)


def test_killed_runner_dead_collect_salvages_retry_completes(ssh_farm, tmp_path):
    # Arrange: h1 finishes group 000, then sits in group 001 until we kill it
    a, b = ssh_farm.servers
    groups = write_groups(tmp_path / "groups.json", 5)
    ranges = [(a.address, a.port, "0:3"), (b.address, b.port, "3:5")]
    slow = {"IBSWEEP_FAULT": "group_GER40_001:sleep=120"}
    hosts = write_hosts(
        ssh_farm, tmp_path / "hosts.yaml", groups, ranges, base_dir=tmp_path / "remote", env=slow
    )
    dest = tmp_path / "collected"
    assert run_fab(ssh_farm, hosts, "deploy").returncode == 0
    victim = wait_status(hosts, "h1", lambda s: s["state"] == "running" and s["done"] == 1)
    wait_status(hosts, "h2", lambda s: s["state"] == "finished")

    # Act
    kill_runner_tree(victim["pid"])
    dead = wait_status(hosts, "h1", lambda s: s["state"] != "running")
    status = run_fab(ssh_farm, hosts, "status")
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))
    write_hosts(ssh_farm, hosts, groups, ranges, base_dir=tmp_path / "remote")  # the fault is gone
    farm = load_hosts(hosts)
    with no_connections() as attempts:  # retry --dry-run plans from the copies collect left
        _, planned = flows.retry(farm, farm.hosts, dest, dry_run=True)
    retry = run_fab(ssh_farm, hosts, "retry", "--dest", str(dest))
    for name in ("h1", "h2"):
        wait_status(hosts, name, lambda s: s["state"] != "running")
    final_status = run_fab(ssh_farm, hosts, "status")
    final = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))

    # Assert
    assert dead["state"] == "dead" and dead["exit"] == 137
    assert status.returncode == 1
    assert "h1: runner died (exit 137" in status.stdout and "fab retry" in status.stdout
    assert collect.returncode == 1
    assert (
        "h1: runner did not finish; saved 1 finished groups from its checkpoint" in collect.stdout
    )
    assert "missing (2): group_GER40_001, group_GER40_002" in collect.stdout
    assert "fab retry --symbol GER40" in collect.stdout
    assert attempts == []
    assert [(o.host.name, o.value[1]) for o in planned.outcomes] == [
        (
            name,
            "1 groups: started pid None in "
            f"{tmp_path}/remote/{name}/output/GER40_in_sample/retry-1",
        )
        for name in ("h1", "h2")
    ]
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert retry.stdout.count("1 groups: started pid") == 2
    assert final_status.returncode == 0, final_status.stdout
    assert final.returncode == 0, final.stdout + final.stderr
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert [(g["group_id"], g["status"]) for g in merged["groups"]] == [
        (f"group_GER40_{i:03d}", "ok") for i in range(5)
    ]
