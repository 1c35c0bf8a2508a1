"""fab cluster-up --dry-run prints every command and upload per host, connects to
nothing and writes no certificate; every value in a command is quoted."""

from __future__ import annotations

import shlex

import yaml

from farm.cluster import cluster_up
from farm.hosts import load_hosts
from tests.farm.conftest import no_connections, write_groups, write_hosts


def test_cluster_up_dry_run_plans_without_connecting(ssh_farm, tmp_path):
    a, b = ssh_farm.servers
    groups = write_groups(tmp_path / "groups.json", 2)
    hosts = write_hosts(
        ssh_farm,
        tmp_path / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:1"), (b.address, b.port, "1:2")],
        base_dir=tmp_path / "it's base",
        env={"IBSWEEP_NOTE": "$(touch pwned)"},
    )
    doc = yaml.safe_load(hosts.read_text())
    doc["cluster"] = {"scheduler": "h1", "port": 8999, "processes": {"h1": 0, "h2": 2}}
    hosts.write_text(yaml.safe_dump(doc))
    farm = load_hosts(hosts)

    with no_connections() as attempts:
        up = cluster_up(farm, dry_run=True)

    plans = {o.host.name: o.value for o in up.result.outcomes}
    scheduler, worker = _started(plans["h1"]), _started(plans["h2"])
    base = f"{tmp_path}/it's base"
    assert attempts == []
    assert not (tmp_path / ".cluster").exists()  # no CA, no client certificate
    assert scheduler[scheduler.index("--host") :][:6] == [
        "--host",
        "127.0.0.2",
        "--port",
        "8999",
        "--dashboard-address",
        "127.0.0.1:8787",
    ]
    assert f"{base}/h1/cluster/scheduler.json" in scheduler  # one argument, quotes intact
    assert "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1" in scheduler
    assert not any("dask_worker" in line for line in plans["h1"])  # processes: 0
    assert worker[worker.index("tls://127.0.0.2:8999") :][:7] == [
        "tls://127.0.0.2:8999",
        "--host",
        "127.0.0.3",
        "--nworkers",
        "2",
        "--nthreads",
        "1",
    ]
    assert f"{base}/h2/cluster/node-key.pem" in worker
    text = "\n".join(plans["h2"])
    assert f"put  (private key of h2) -> {base}/h2/cluster/node-key.pem" in text
    assert "(environment: IBSWEEP_NOTE=***)" in text and "touch pwned" not in text
    assert up.scheduler_file is None


def _started(plan: list[str]) -> list[str]:
    """The arguments of the service a plan starts (``nohup setsid sh -c 'exec env ...'``)."""
    line = next(line for line in plan if "nohup setsid sh -c" in line)
    words = shlex.split(line.removeprefix("run  "))
    inner = words[words.index("-c") + 1]
    return shlex.split(inner.rpartition("exec ")[2])
