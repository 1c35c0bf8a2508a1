"""fab stop mid-run: the runner saves the groups it finished, and they are collectable."""

from __future__ import annotations

import json

from tests.farm.conftest import run_fab, wait_status, write_groups, write_hosts


def test_stop_keeps_finished_groups(ssh_farm, tmp_path):
    # Arrange: group 000 finishes, group 001 is still running when we stop
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 3)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:3")],
        base_dir=tmp_path / "remote",
        env={"IBSWEEP_FAULT": "group_GER40_001:sleep=120"},
    )
    dest = tmp_path / "collected"
    assert run_fab(ssh_farm, hosts, "deploy").returncode == 0
    wait_status(hosts, "h1", lambda s: s["state"] == "running" and s["done"] == 1)

    # Act
    stop = run_fab(ssh_farm, hosts, "stop")
    after = wait_status(hosts, "h1", lambda s: True)
    status = run_fab(ssh_farm, hosts, "status")
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))

    # Assert
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert "stopped pid" in stop.stdout
    assert after["state"] == "stopped"
    assert status.returncode == 0, status.stdout
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert [g["group_id"] for g in merged["groups"] if g["status"] == "ok"] == ["group_GER40_000"]
    assert "failed (2): group_GER40_001, group_GER40_002" in collect.stdout
    assert "fab retry --symbol GER40" in collect.stdout


def test_stop_when_nothing_runs(ssh_farm, tmp_path):
    # Arrange: a host where nothing was ever deployed
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
    )

    # Act
    stop = run_fab(ssh_farm, hosts, "stop")

    # Assert
    assert stop.returncode == 0, stop.stdout + stop.stderr
    (row,) = [ln for ln in stop.stdout.splitlines() if ln.startswith("h1 ")]
    assert row.endswith("not running (not deployed)")
