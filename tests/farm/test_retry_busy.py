"""retry runs failed groups on idle hosts and leaves a still-running host's groups to it;
status names the failed groups of a finished run."""

from __future__ import annotations

import json

import yaml

from tests.farm.conftest import run_fab, wait_status, write_groups, write_hosts


def _set_env(hosts_file, name: str, env: dict) -> None:
    doc = yaml.safe_load(hosts_file.read_text())
    doc["hosts"][name]["env"] = env
    hosts_file.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_retry_skips_busy_host_groups(ssh_farm, tmp_path):
    # Arrange: h1 is stuck in group 000; on h2 group 003 fails
    a, b = ssh_farm.servers
    groups = write_groups(tmp_path / "groups.json", 4)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2"), (b.address, b.port, "2:4")],
        base_dir=tmp_path / "remote",
    )
    _set_env(hosts, "h1", {"IBSWEEP_FAULT": "group_GER40_000:sleep=120"})
    _set_env(hosts, "h2", {"IBSWEEP_FAULT": "group_GER40_003:raise"})
    dest = tmp_path / "collected"
    try:
        assert run_fab(ssh_farm, hosts, "deploy").returncode == 0
        wait_status(hosts, "h1", lambda s: s["state"] == "running")
        first = wait_status(hosts, "h2", lambda s: s["state"] != "running")
        status = run_fab(ssh_farm, hosts, "status")
        _set_env(hosts, "h2", {})

        # Act
        retry = run_fab(ssh_farm, hosts, "retry", "--dest", str(dest))
        second = wait_status(hosts, "h2", lambda s: s["state"] != "running")
        collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(dest))
    finally:
        run_fab(ssh_farm, hosts, "stop")

    # Assert
    assert (first["state"], first["exit"], first["failed"]) == ("finished", 1, ["group_GER40_003"])
    assert status.returncode == 0, status.stdout
    assert (
        "h2: finished, 1 group(s) failed: group_GER40_003; "
        "fix: fab collect, then fab retry --symbol GER40" in status.stdout.splitlines()
    )
    assert retry.returncode == 0, retry.stdout + retry.stderr
    table = retry.stdout[retry.stdout.rindex("host  address") :].splitlines()  # the retry table
    (h1_row,) = [ln for ln in table if ln.startswith("h1 ")]
    (h2_row,) = [ln for ln in table if ln.startswith("h2 ")]
    assert "busy (runner" in h1_row and "its groups are left to it" in h1_row
    assert "1 groups: started pid" in h2_row and "retry-1" in h2_row
    assert (second["state"], second["done"], second["total"], second["failed"]) == (
        "finished",
        1,
        1,
        [],
    )
    merged = json.loads(
        (dest / "GER40_in_sample" / "merged" / "results_full_GER40.json").read_text()
    )
    assert {g["group_id"]: g["status"] for g in merged["groups"]} == {
        "group_GER40_002": "ok",
        "group_GER40_003": "ok",
    }
    assert "missing (2): group_GER40_000, group_GER40_001" in collect.stdout
