"""The cluster that farm.cluster.local_cluster starts (cluster-up's settings, on this
machine): its private keys are mode 600 like cluster-up's, and its worker processes
serve no unauthenticated HTTP (dask starts a worker's HTTP server even without a
dashboard: /health, /metrics, /sitemap.json) and listen on 127.0.0.1 only."""

from __future__ import annotations

import json
import os

import pytest

from farm.cluster import local_cluster
from farm.tls import CA_CERT
from tests.farm.sockets import http_status, listening


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A local cluster of two worker processes: its folder and its workers' pids."""
    from distributed import Client, Security

    folder = tmp_path_factory.mktemp("local_cluster") / "tls"
    with local_cluster(folder, workers=2) as scheduler_file:
        security = Security(
            require_encryption=True,
            tls_ca_file=str(folder / CA_CERT),
            tls_client_cert=str(folder / "client.pem"),
            tls_client_key=str(folder / "client-key.pem"),
        )
        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, security=security, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            pids = list(client.run(os.getpid).values())
        yield folder, pids


def test_key_files_are_private(running):
    # Arrange
    folder, _ = running
    # Act
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.glob("*-key.pem")}
    # Assert
    assert modes == {"ca-key.pem": 0o600, "client-key.pem": 0o600, "node-key.pem": 0o600}
    assert folder.stat().st_mode & 0o777 == 0o700


def test_workers_listen_on_loopback_only_and_serve_no_http_routes(running):
    # Arrange
    _, pids = running
    # Act
    sockets = listening(pids)
    answers = {(address, port): http_status(address, port) for address, port in sockets}
    sitemap = {(a, p): http_status(a, p, "/sitemap.json") for a, p in sockets}
    # Assert
    assert len(pids) == 2 and sockets, sockets
    assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
    assert 200 not in answers.values(), answers
    assert 200 not in sitemap.values(), sitemap
