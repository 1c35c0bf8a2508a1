"""fab trust with a stale key for the host in ~/.ssh/known_hosts (read first by every
connection) records nothing and prints the exact ssh-keygen -R command; after running
that command, trust records the key and the host connects."""

from __future__ import annotations

import re
import shlex
import subprocess

from tests.farm.conftest import known_hosts_line, run_fab, write_groups, write_hosts


def test_stale_user_known_hosts_entry_gets_the_ssh_keygen_command(ssh_farm, tmp_path):
    # Arrange: ~/.ssh/known_hosts (the isolated HOME) holds server b's key for server a
    a, b = ssh_farm.servers
    user_known = ssh_farm.home / ".ssh" / "known_hosts"
    project_known = tmp_path / "known_hosts"
    project_known.write_text("")
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        write_groups(tmp_path / "groups.json", 2),
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        known_hosts=project_known,
    )
    user_known.write_text(known_hosts_line(a, key=b.host_key))
    try:
        # Act
        refused = run_fab(ssh_farm, hosts, "trust", "--host", "h1", "--yes")
        command = re.search(r"(ssh-keygen -R .*?), then fab trust", refused.stderr).group(1)
        removed = subprocess.run(shlex.split(command), capture_output=True, text=True)
        trusted = run_fab(ssh_farm, hosts, "trust", "--host", "h1", "--yes")
        status = run_fab(ssh_farm, hosts, "status")
    finally:
        user_known.unlink(missing_ok=True)

    # Assert
    assert refused.returncode == 1 and "h1: recorded" not in refused.stdout
    assert "nothing recorded" in refused.stderr
    assert (
        f"{user_known} has a DIFFERENT ssh-ed25519 key for [{a.address}]:{a.port}" in refused.stderr
    )
    assert command == f"ssh-keygen -R '[{a.address}]:{a.port}' -f {user_known}"
    assert removed.returncode == 0, removed.stderr
    assert trusted.returncode == 0 and "recorded SHA256:" in trusted.stdout
    assert project_known.read_text() == known_hosts_line(a)
    assert status.returncode == 0, status.stdout
