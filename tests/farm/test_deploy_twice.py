"""A host whose runner is alive is not started twice; --restart replaces the runner."""

from __future__ import annotations

import os

from tests.farm.conftest import run_fab, wait_status, write_groups, write_hosts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "run_parallel_backtest" in open(f"/proc/{pid}/cmdline").read()


def test_second_deploy_refused_restart_replaces(ssh_farm, tmp_path):
    # Arrange: the first group sleeps, so the runner is still busy when we deploy again
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 3)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:3")],
        base_dir=tmp_path / "remote",
        env={"IBSWEEP_FAULT": "group_GER40_000:sleep=120"},
    )
    try:
        first = run_fab(ssh_farm, hosts, "deploy")
        before = wait_status(hosts, "h1", lambda s: s["state"] == "running")

        # Act
        second = run_fab(ssh_farm, hosts, "deploy")
        restarted = run_fab(ssh_farm, hosts, "deploy", "--restart")
        after = wait_status(hosts, "h1", lambda s: s["state"] == "running")

        # Assert
        assert first.returncode == 0, first.stdout + first.stderr
        assert second.returncode == 1
        assert f"a runner (pid {before['pid']}) is still running" in second.stdout
        assert "fab deploy --restart --host h1" in second.stdout
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert after["pid"] != before["pid"]
        assert not _alive(before["pid"]) and _alive(after["pid"])
    finally:
        run_fab(ssh_farm, hosts, "stop")
