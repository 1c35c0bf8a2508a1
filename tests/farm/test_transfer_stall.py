"""A transfer that stalls (VM frozen, link dead) fails after command_timeout with one line,
instead of hanging fab forever (SFTP has no timeout of its own)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from farm import steps
from farm.connect import connection
from farm.errors import TransferStalledError
from farm.hosts import load_hosts
from tests.farm.conftest import write_groups, write_hosts


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        todo += children
    return found


def test_stalled_upload_fails_after_command_timeout(ssh_farm, tmp_path):
    # Arrange: an open SFTP session whose server side (this test's sshd session processes) is frozen
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
    )
    path.write_text(path.read_text().replace("command_timeout: 300", "command_timeout: 1"))
    host = load_hosts(path).hosts[0]
    remote = f"{tmp_path}/groups_copy.json"
    conn = connection(host)
    conn.sftp()
    frozen = _descendants(a.process.pid)
    assert frozen, "the session has sshd processes"

    # Act
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(TransferStalledError) as err:
            steps.put(conn, host, groups, remote)
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        conn.close()

    # Assert
    assert str(err.value) == (
        f"h1: upload {groups} -> {remote} stalled for 1s; fix: check the network/VPN "
        f"to the VM and its free disk (df -h {host.base_dir}), or raise command_timeout "
        f"in hosts.yaml"
    )
