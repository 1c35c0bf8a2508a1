"""A real Dask cluster for the runner's cluster tests: a TLS LocalCluster on 127.0.0.1
(scheduler in this process, two worker processes of one thread each), with the
certificates fab cluster-up would make and its scheduler settings (a group whose worker
dies runs once more; one group per worker thread at a time)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from farm.tls import ensure_ca, sign_node, write_client_cert


def _node_files(folder: Path) -> dict[str, str]:
    node = sign_node(folder, "test-node", "127.0.0.1")
    (folder / "node.pem").write_text(node.cert)
    (folder / "node-key.pem").write_text(node.key)
    return {"cert": str(folder / "node.pem"), "key": str(folder / "node-key.pem")}


@pytest.fixture(scope="session")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory):
    """``address``, ``scheduler_file`` and ``tls_dir`` (the client's certificates) of a
    running cluster, and ``stranger``: a folder of certificates from another CA."""
    import dask
    from distributed import LocalCluster, Security

    root = tmp_path_factory.mktemp("dask_cluster")
    tls, stranger = root / "tls", root / "stranger"
    for folder in (tls, stranger):
        ensure_ca(folder)
        write_client_cert(folder)
    node = _node_files(tls)
    security = Security(
        require_encryption=True,
        tls_ca_file=str(tls / "ca.pem"),
        tls_scheduler_cert=node["cert"],
        tls_scheduler_key=node["key"],
        tls_worker_cert=node["cert"],
        tls_worker_key=node["key"],
        tls_client_cert=node["cert"],
        tls_client_key=node["key"],
    )
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            protocol="tls://",
            host="127.0.0.1",
            security=security,
            dashboard_address=None,
        )
    scheduler_file = tls / "scheduler.json"
    scheduler_file.write_text(json.dumps({"address": cluster.scheduler_address}))
    try:
        yield SimpleNamespace(
            address=cluster.scheduler_address,
            scheduler_file=scheduler_file,
            tls_dir=tls,
            stranger=stranger,
        )
    finally:
        cluster.close()
