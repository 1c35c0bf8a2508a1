"""Deploy checks the host's Python and packages first and points to fab setup."""

from __future__ import annotations

from tests.farm.conftest import run_fab, write_groups, write_hosts


def test_deploy_on_host_without_venv_points_to_setup(ssh_farm, tmp_path):
    # Arrange: no venv at base_dir/venv on the host
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        link_venv=False,
    )

    # Act
    res = run_fab(ssh_farm, hosts, "deploy")

    # Assert
    assert res.returncode == 1
    (row,) = [ln for ln in res.stdout.splitlines() if ln.startswith("h1 ")]
    assert "FAILED: h1: host not set up (" in row and "fix: fab setup --host h1" in row
    assert not (tmp_path / "remote" / "h1" / "output").exists()
