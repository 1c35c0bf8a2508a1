"""deploy --restart on a host whose runner does not stop (SIGSTOPped) aborts for that host,
says so, and leaves the old runner running and tracked: nothing new is started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import yaml

from tests.farm.conftest import kill_runner_tree, run_fab, wait_status, write_groups, write_hosts


def test_killing_a_runner_that_already_exited_is_quiet():
    # Arrange: a process that has exited and been reaped (a runner that stopped on its own)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    # Act / Assert: no ProcessLookupError
    kill_runner_tree(gone.pid)


def test_restart_aborts_when_the_old_runner_does_not_stop(ssh_farm, tmp_path):
    # Arrange: a runner busy in group 000, then frozen with SIGSTOP; a 1 s stop_timeout
    a = ssh_farm.servers[0]
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:2")],
        base_dir=tmp_path / "remote",
        env={"IBSWEEP_FAULT": "group_GER40_000:sleep=120"},
    )
    doc = yaml.safe_load(hosts.read_text())
    doc["defaults"]["stop_timeout"] = 1
    hosts.write_text(yaml.safe_dump(doc))
    assert run_fab(ssh_farm, hosts, "deploy").returncode == 0
    old = wait_status(hosts, "h1", lambda s: s["state"] == "running")
    pid_file = tmp_path / "remote" / "h1" / "output" / "GER40_in_sample" / "runner.pid"
    os.kill(old["pid"], signal.SIGSTOP)
    try:
        # Act
        restart = run_fab(ssh_farm, hosts, "deploy", "--restart")
        after = wait_status(hosts, "h1", lambda s: True)
        pid_text = pid_file.read_text().strip()
    finally:
        # killed while still stopped: a SIGCONT first would let it act on the pending
        # SIGTERM and exit on its own, racing the kill (ProcessLookupError)
        kill_runner_tree(old["pid"])

    # Assert
    assert restart.returncode == 1
    (row,) = [ln for ln in restart.stdout.splitlines() if ln.startswith("h1 ")]
    assert f"FAILED: h1: the runner (pid {old['pid']}) did not stop within 1s of SIGTERM" in row
    assert "not restarted" in row and f"kill -CONT {old['pid']}" in row
    assert "started pid" not in restart.stdout
    assert (after["state"], after["pid"]) == ("running", old["pid"])
    assert pid_text == str(old["pid"])
