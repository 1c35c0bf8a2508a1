"""The troubleshooting guide's failures as one line each: a silent server (timeout), an OOM kill."""
from __future__ import annotations

import socket
import subprocess

from backtest import host_tools
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
    hosts = write_hosts(ssh_farm, tmp_path / "hosts.yaml", groups, [("127.0.0.7", port, "0:2")],
                        base_dir=tmp_path / "remote")
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
    monkeypatch.setattr(host_tools.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 0, dmesg, ""))
    groups = write_groups(tmp_path / "groups.json", 2)
    a = ssh_farm.servers[0]
    path = write_hosts(ssh_farm, tmp_path / "hosts.yaml", groups, [(a.address, a.port, "0:2")],
                       base_dir=tmp_path / "remote", workers=20)
    host = load_hosts(path).hosts[0]

    # Act
    oom = host_tools.kernel_oom(4242)
    line = status_problem(host, {"state": "dead", "oom": oom, "exit": 137, "done": 1, "total": 2})

    # Assert
    assert oom is True
    assert line == ("h1: runner killed by the OOM killer (kernel log); fix: set workers: 10 for this host "
                    "in hosts.yaml (was 20) and run fab retry")
