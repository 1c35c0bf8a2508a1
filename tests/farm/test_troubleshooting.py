"""The troubleshooting guide's failures as one line each: a silent server (timeout), an OOM kill,
a closed port under fab trust, no route to host."""

from __future__ import annotations

import socket
import subprocess

from backtest.runner import host_tools
from farm.flows import status_problem
from farm.hosts import load_hosts
from tests.farm.conftest import run_fab, write_groups, write_hosts


def test_silent_server_times_out_with_fix(ssh_farm, tmp_path):
    # Arrange: accepts TCP but never speaks SSH
    listener = socket.socket()
    listener.bind(("127.0.0.7", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [("127.0.0.7", port, "0:2")],
        base_dir=tmp_path / "remote",
    )
    text = hosts.read_text().replace("connect_timeout: 5", "connect_timeout: 1")
    hosts.write_text(text)

    # Act
    try:
        res = run_fab(ssh_farm, hosts, "status")
    finally:
        listener.close()

    # Assert
    assert res.returncode == 1
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith("h1: ")]
    assert line.startswith(f"h1: timed out talking to 127.0.0.7:{port}; fix: check the network")


def test_oom_kill_in_kernel_log_gives_worker_count(ssh_farm, tmp_path, monkeypatch):
    # Arrange: a kernel log line as the OOM killer writes it
    dmesg = "[ 812.1] Out of memory: Killed process 4242 (python3.11) total-vm:9000kB\n"
    monkeypatch.setattr(
        host_tools.subprocess,
        "run",
        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 0, dmesg, ""),
    )
    groups = write_groups(tmp_path / "groups.json", 2)
    a = ssh_farm.servers[0]
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        workers=20,
    )
    host = load_hosts(path).hosts[0]

    # Act
    oom = host_tools.kernel_oom(4242)
    line = status_problem(host, {"state": "dead", "oom": oom, "exit": 137, "done": 1, "total": 2})

    # Assert
    assert oom is True
    assert line == (
        "h1: runner killed by the OOM killer (kernel log); fix: set workers: 10 for this host "
        "in hosts.yaml (was 20) and run fab retry"
    )


def test_trust_on_a_closed_port_is_one_line(ssh_farm, tmp_path):
    # Arrange
    import pytest

    from farm.errors import FarmError
    from farm.flows import trust
    from tests.farm.conftest import free_port

    closed = free_port("127.0.0.4")
    path = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        write_groups(tmp_path / "groups.json", 2),
        [("127.0.0.4", closed, "0:2")],
        base_dir=tmp_path / "remote",
    )

    # Act
    with pytest.raises(FarmError) as err:
        trust(load_hosts(path), "h1", yes=True)

    # Assert
    assert str(err.value).startswith(
        f"h1: connection refused at 127.0.0.4:{closed}; fix: the VM is down"
    )
    assert "127.0.0.4" not in ssh_farm.known_hosts.read_text()


def test_no_route_to_host_is_not_called_refused():
    # Arrange: what paramiko raises when the VM's network is unreachable
    import errno

    from paramiko.ssh_exception import NoValidConnectionsError

    from farm.errors import explain

    exc = NoValidConnectionsError(
        {("127.0.0.9", 22): OSError(errno.EHOSTUNREACH, "No route to host")}
    )

    # Act
    line = explain("vm1", "127.0.0.9", 22, exc, "k")

    # Assert
    assert line.startswith(
        "vm1: no route to host 127.0.0.9:22; fix: the VM is down or the network/VPN"
    )
