"""hosts.yaml ``cluster:`` is checked like the rest of the file, before anything connects:
each bad value is one error naming the file and the field; fab exits 2."""

from __future__ import annotations

import pytest
import yaml

from farm.errors import HostsFileError
from farm.hosts import load_hosts
from tests.farm.conftest import run_fab

HOSTS = {
    "a": {"address": "127.0.0.9", "symbol": "GER40", "range": "0:2", "workers": 3},
    "b": {"address": "127.0.0.10", "symbol": "GER40", "range": "2:4"},
}


def _write(tmp_path, cluster):
    doc = {"defaults": {"base_dir": "/srv/ibsweep"}, "hosts": HOSTS, "cluster": cluster}
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("cluster", "field", "message"),
    [
        ({"scheduler": "c"}, "cluster.scheduler", "must name a host of hosts: (a, b)"),
        ({"scheduler": "a", "port": "8786"}, "cluster.port", "integer from 1 to 65535"),
        ({"scheduler": "a", "port": 70000}, "cluster.port", "integer from 1 to 65535"),
        ({"scheduler": "a", "dashboard_port": 8786}, "cluster.dashboard_port", "differ from port"),
        ({"scheduler": "a", "processes": {"c": 2}}, "cluster.processes", "no host 'c'"),
        ({"scheduler": "a", "processes": {"a": -1}}, "cluster.processes.a", "integer >= 0"),
        ({"scheduler": "a", "processes": {"a": 0, "b": 0}}, "cluster.processes", "0 worker"),
        ({"scheduler": "a", "worker_ports": "9100:9000"}, "cluster.worker_ports", "first:last"),
        ({"scheduler": "a", "nanny_ports": True}, "cluster.nanny_ports", "first:last"),
        ({"scheduler": "a", "remote_dir": "../up"}, "cluster.remote_dir", "without '..'"),
        ({"scheduler": "a", "remote_dir": "code-x"}, "cluster.remote_dir", "fab setup/deploy"),
        ({"scheduler": "a", "start_timeout": 0}, "cluster.start_timeout", "integer >= 1"),
        ({"scheduler": "a", "prot": 1}, "cluster", "unknown key 'prot'"),
        (["a"], "cluster", "must be a mapping"),
    ],
)
def test_bad_cluster_value_is_one_error_naming_the_field(tmp_path, cluster, field, message):
    path = _write(tmp_path, cluster)

    with pytest.raises(HostsFileError) as caught:
        load_hosts(path)

    text = str(caught.value)
    assert text.startswith(f"{path}: {field}") and message in text, text
    assert "\n" not in text


def test_cluster_defaults_and_per_host_processes(tmp_path):
    path = _write(tmp_path, {"scheduler": "b", "processes": {"b": 1}, "worker_ports": 9000})

    cluster = load_hosts(path).cluster

    assert cluster is not None
    assert (cluster.port, cluster.dashboard_port, cluster.start_timeout) == (8786, 8787, 120)
    assert cluster.processes == {"a": 3, "b": 1}  # a: its workers; b: as cluster.processes says
    assert (cluster.worker_ports, cluster.nanny_ports) == ("9000:9000", None)
    assert cluster.local_dir == tmp_path / ".cluster"
    assert cluster.remote_dir == "cluster"


def test_fab_refuses_a_bad_or_missing_cluster_section_with_exit_2(ssh_farm, tmp_path):
    bad = _write(tmp_path, {"scheduler": "a", "port": "x"})
    (tmp_path / "none").mkdir()
    missing = tmp_path / "none" / "hosts.yaml"
    missing.write_text(yaml.safe_dump({"defaults": {"base_dir": "/srv/x"}, "hosts": HOSTS}))

    refused = run_fab(ssh_farm, bad, "cluster-up")
    absent = run_fab(ssh_farm, missing, "cluster-status")

    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: {bad}: cluster.port: must be an integer from 1 to 65535, got 'x'"
    )
    assert absent.returncode == 2
    assert f"{missing}: no cluster: section" in absent.stderr
