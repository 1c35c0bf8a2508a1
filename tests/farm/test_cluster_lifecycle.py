"""fab cluster-up / cluster-status / cluster-dashboard / cluster-down on the real loopback
sshd hosts, and a sweep through that cluster: it equals the local run, also when a
worker process is SIGKILLed mid-run (every group exactly once in the outputs), and
cluster-down leaves no process behind.

One cluster for the file (its start is the slow part); the tests run in file order and
the last one takes it down; the fixture's teardown ends whatever is left, by pid.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.farm.conftest import DATES, REPO, free_port, run_fab, write_groups, write_hosts
from tests.farm.sockets import http_status, listening
from tests.runner.helpers import (
    checkpoint_lines,
    combos_bytes,
    full_results,
    summary_bytes,
    without_run_time,
)

GROUPS = 6


@dataclass
class Cluster:
    hosts_file: Path
    groups: Path
    root: Path
    port: int
    up: subprocess.CompletedProcess

    def cluster_dir(self, name: str) -> Path:
        return self.root / "remote" / name / "cluster"

    def leaders(self) -> dict[str, int]:
        """The services' pid files (h1 scheduler, h1 and h2 workers) as they are now."""
        found = {}
        for name in ("h1", "h2"):
            for role in ("scheduler", "worker"):
                path = self.cluster_dir(name) / f"{role}.pid"
                if path.exists():
                    found[f"{name} {role}"] = int(path.read_text())
        return found


def alive(pid: int) -> bool:
    """A running process (a zombie has ended: only its exit status waits to be read)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def session_members(sid: int) -> list[int]:
    """The live processes of session ``sid`` (field 6 of /proc/PID/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(rest[3]) == sid and rest[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def worker_process(leader: int) -> int:
    """The dask worker process its nanny (the service ``leader``) spawned."""
    for pid in session_members(leader):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            return pid
    raise AssertionError(f"no worker process in session {leader}")


@pytest.fixture(scope="module")
def cluster(ssh_farm, tmp_path_factory):
    a, b = ssh_farm.servers
    root = tmp_path_factory.mktemp("cluster")
    groups = write_groups(root / "groups.json", GROUPS)
    half = GROUPS // 2
    hosts = write_hosts(
        ssh_farm,
        root / "hosts.yaml",
        groups,
        [(a.address, a.port, f"0:{half}"), (b.address, b.port, f"{half}:{GROUPS}")],
        base_dir=root / "remote",
    )
    port = free_port(a.address)
    doc = yaml.safe_load(hosts.read_text())
    doc["cluster"] = {
        "scheduler": "h1",
        "port": port,
        "dashboard_port": free_port("127.0.0.1"),
        "processes": {"h1": 1, "h2": 1},
    }
    hosts.write_text(yaml.safe_dump(doc, sort_keys=False))
    state = Cluster(hosts, groups, root, port, run_fab(ssh_farm, hosts, "cluster-up", timeout=300))
    try:
        yield state
    finally:
        if state.leaders():
            run_fab(ssh_farm, hosts, "cluster-down", timeout=300)
        for sid in state.leaders().values():  # a failed cluster-down: end them by pid
            for pid in session_members(sid):
                os.kill(pid, signal.SIGKILL)


def test_cluster_up_starts_scheduler_and_workers_on_the_hosts_addresses(ssh_farm, cluster):
    status = run_fab(ssh_farm, cluster.hosts_file, "cluster-status")

    assert cluster.up.returncode == 0, cluster.up.stdout + cluster.up.stderr
    assert "2 worker processes connected" in cluster.up.stdout
    assert set(cluster.leaders()) == {"h1 scheduler", "h1 worker", "h2 worker"}
    with socket.create_connection(("127.0.0.2", cluster.port), timeout=5):
        pass  # the scheduler listens on h1's address ...
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", cluster.port), timeout=5):
        pass  # ... and only there
    assert (cluster.cluster_dir("h2") / "node-key.pem").stat().st_mode & 0o777 == 0o600
    assert (cluster.root / ".cluster" / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    assert not (cluster.cluster_dir("h2") / "ca-key.pem").exists()  # the CA key stays here
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("1          1       ok") == 2, status.stdout  # connected, wanted
    assert "2 workers, 2 threads" in status.stdout


def test_worker_services_listen_on_their_host_and_loopback_and_serve_no_http(cluster):
    # Arrange: every process of each host's worker service (nanny and worker process)
    leaders = cluster.leaders()
    addresses = {"h1": "127.0.0.2", "h2": "127.0.0.3"}
    # Act
    sockets = {name: listening(session_members(leaders[f"{name} worker"])) for name in addresses}
    health = {
        (address, port): http_status(address, port)
        for found in sockets.values()
        for address, port in found
    }
    # Assert: TLS on the host's address; dask's worker HTTP server on 127.0.0.1, no routes
    for name, found in sockets.items():
        assert {address for address, _ in found} == {addresses[name], "127.0.0.1"}, found
    assert 200 not in health.values(), health


def test_cluster_dashboard_is_an_ssh_tunnel_to_the_scheduler_dashboard(ssh_farm, cluster):
    local = free_port("127.0.0.1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBSWEEP_")}
    env.update({"HOME": str(ssh_farm.home), "IBSWEEP_HOSTS": str(cluster.hosts_file)})
    fab = str(Path(sys.executable).parent / "fab")
    proc = subprocess.Popen(
        [fab, "cluster-dashboard", "--local-port", str(local)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # started with SIGINT ignored, as a background job of a script would be: the
        # tunnel still closes on Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        line = proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/health", timeout=10) as reply:
            health = reply.read()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)

    assert line.startswith(f"dashboard: http://127.0.0.1:{local}/status"), line
    assert health == b"ok"
    assert proc.returncode == 0


def _runner(*args: object) -> list[str]:
    return [sys.executable, "-m", "backtest.run_parallel_backtest", *map(str, args)]


def test_sweep_equals_the_local_run_when_a_worker_is_killed_mid_run(ssh_farm, cluster):
    # Arrange: the local reference run, and a sweep whose groups take a second each
    common = [
        "--groups-file",
        cluster.groups,
        "--data-file",
        ssh_farm.data_file,
        "--start-date",
        DATES[0],
        "--end-date",
        DATES[1],
        "--skip-charts",
        "--no-report",
    ]
    local_out, dask_out = cluster.root / "local", cluster.root / "dask"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBSWEEP_")}
    local = subprocess.run(
        _runner(*common, "--workers", 1, "--output-dir", local_out),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = [f"group_GER40_{i:03d}" for i in range(GROUPS)]
    slow = {**env, "IBSWEEP_FAULT": ",".join(f"{gid}:sleep=1" for gid in ids)}
    scheduler_file = cluster.root / ".cluster" / "scheduler.json"
    client = subprocess.Popen(
        _runner(*common, "--scheduler-file", scheduler_file, "--output-dir", dask_out),
        cwd=REPO,
        env=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (dask_out / "checkpoint.jsonl").exists() or len(checkpoint_lines(dask_out)) < 2:
        assert time.monotonic() < deadline and client.poll() is None, client.communicate()
        time.sleep(0.1)

    # Act: SIGKILL h2's worker process while it runs a group; its nanny starts another
    victim = worker_process(cluster.leaders()["h2 worker"])
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = client.communicate(timeout=180)

    # Assert
    assert local.returncode == 0, local.stderr
    assert client.returncode == 0, stdout + stderr
    assert not alive(victim)
    records = [line["group_id"] for line in checkpoint_lines(dask_out) if "group_id" in line]
    assert sorted(records) == ids  # each group finished exactly once ...
    assert [g["group_id"] for g in full_results(dask_out)["groups"]] == ids  # ... and written once
    assert without_run_time(full_results(dask_out)) == without_run_time(full_results(local_out))
    assert summary_bytes(dask_out) == summary_bytes(local_out)
    assert combos_bytes(dask_out) == combos_bytes(local_out)
    assert json.loads((dask_out / "failed_groups_GER40.json").read_text())["groups"] == []


def test_cluster_down_leaves_no_process_behind(ssh_farm, cluster):
    leaders = cluster.leaders()
    members = {pid for sid in leaders.values() for pid in session_members(sid)}

    down = run_fab(ssh_farm, cluster.hosts_file, "cluster-down", timeout=300)

    assert down.returncode == 0, down.stdout + down.stderr
    assert len(leaders) == 3 and set(leaders.values()) <= members
    assert cluster.leaders() == {}  # the pid files are gone ...
    assert [pid for pid in members if alive(pid)] == []  # ... and so are their processes
    assert all(session_members(sid) == [] for sid in leaders.values())
    assert not (cluster.root / ".cluster" / "scheduler.json").exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", cluster.port), timeout=5):
        pass
