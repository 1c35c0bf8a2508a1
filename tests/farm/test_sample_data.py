"""A farm deploy with no data file for the period is refused before anything starts; with
allow_sample: true it runs on the built-in sample data and status says "sample"."""

from __future__ import annotations

from tests.farm.conftest import run_fab, wait_status, write_groups, write_hosts


def test_no_data_file_refused_unless_allow_sample(ssh_farm, tmp_path):
    # Arrange: the control period has no data file
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 1)
    base = tmp_path / "remote"
    symbol = {"groups_file": str(groups), "in_sample": {"data_file": str(ssh_farm.data_file)}}
    refused_hosts = write_hosts(
        ssh_farm,
        tmp_path / "refused.yaml",
        groups,
        [(a.address, a.port, "0:1")],
        base_dir=base,
        symbol=symbol,
    )
    allowed_hosts = write_hosts(
        ssh_farm,
        tmp_path / "allowed.yaml",
        groups,
        [(a.address, a.port, "0:1")],
        base_dir=base,
        symbol={**symbol, "allow_sample": True},
    )

    # Act
    refused = run_fab(ssh_farm, refused_hosts, "deploy", "--period", "control")
    untouched = sorted(p.name for p in (base / "h1").iterdir())
    deployed = run_fab(ssh_farm, allowed_hosts, "deploy", "--period", "control")
    st = wait_status(allowed_hosts, "h1", lambda s: s["state"] != "running", period="control")
    status = run_fab(ssh_farm, allowed_hosts, "status", "--period", "control")

    # Assert
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: {refused_hosts}: symbols.GER40.control.data_file: missing; a farm run needs "
        "real data for period control, and would otherwise run on built-in sample data "
        "(a random walk); fix: set it, or allow_sample: true under symbols.GER40 for a trial run"
    )
    assert untouched == sorted([ssh_farm.code.name, "venv"])  # nothing uploaded or started
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert st["state"] == "finished" and st["data"]["source"] == "sample", st
    assert len(st["data"]["checksum"]) == 64
    (row,) = [ln for ln in status.stdout.splitlines() if ln.startswith("h1 ")]
    assert row.rstrip().endswith(f"sample {st['data']['checksum'][:12]}")
