"""A host whose SSH port is closed: deploy and status report it, the other host runs to the end."""

from __future__ import annotations

import json

from tests.farm.conftest import free_port, run_fab, wait_status, write_groups, write_hosts


def test_closed_port_reported_other_host_finishes(ssh_farm, tmp_path):
    # Arrange: h2 points at a port nothing listens on
    a = ssh_farm.servers[0]
    closed = free_port("127.0.0.4")
    groups = write_groups(tmp_path / "groups.json", 4)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2"), ("127.0.0.4", closed, "2:4")],
        base_dir=tmp_path / "remote",
    )

    # Act
    deploy = run_fab(ssh_farm, hosts, "deploy")
    finished = wait_status(hosts, "h1", lambda s: s["state"] != "running")
    status = run_fab(ssh_farm, hosts, "status")
    collect = run_fab(ssh_farm, hosts, "collect", "--dest", str(tmp_path / "collected"))

    # Assert
    assert deploy.returncode == 1
    h1_row, h2_row = [ln for ln in deploy.stdout.splitlines() if ln.startswith(("h1 ", "h2 "))]
    assert "started pid" in h1_row
    assert f"h2: connection refused at 127.0.0.4:{closed}" in h2_row and "fix:" in h2_row
    assert finished["state"] == "finished" and (finished["done"], finished["total"]) == (2, 2)
    assert status.returncode == 1
    assert (
        "UNREACHABLE" in status.stdout
        and f"connection refused at 127.0.0.4:{closed}" in status.stdout
    )
    assert "finished" in status.stdout
    assert collect.returncode == 1
    h1_got, h2_got = [ln for ln in collect.stdout.splitlines() if ln.startswith(("h1 ", "h2 "))]
    assert "fetched" in h1_got and f"FAILED: h2: connection refused at 127.0.0.4:{closed}" in h2_got
    merged = json.loads(
        (tmp_path / "collected/GER40_in_sample/merged/results_full_GER40.json").read_text()
    )
    assert [(g["group_id"], g["status"]) for g in merged["groups"]] == [
        ("group_GER40_000", "ok"),
        ("group_GER40_001", "ok"),
    ]
    assert "GER40: missing (2): group_GER40_002, group_GER40_003" in collect.stdout
