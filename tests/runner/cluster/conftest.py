"""A real Dask cluster for the runner's cluster tests: the TLS cluster on 127.0.0.1 that
:func:`farm.cluster.local_cluster` makes as fab cluster-up would (scheduler in this
process, two worker processes of one thread each)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from farm.cluster import local_cluster
from farm.tls import ensure_ca, write_client_cert


@pytest.fixture(scope="package")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory):
    """``address``, ``scheduler_file`` and ``tls_dir`` (the client's certificates) of a
    running cluster, and ``stranger``: a folder of certificates from another CA. Package
    scope: its scheduler thread and workers are gone before other tests fork workers."""
    root = tmp_path_factory.mktemp("dask_cluster")
    stranger = root / "stranger"
    ensure_ca(stranger)
    write_client_cert(stranger)
    with local_cluster(root / "tls", workers=2) as scheduler_file:
        yield SimpleNamespace(
            address=json.loads(scheduler_file.read_text())["address"],
            scheduler_file=scheduler_file,
            tls_dir=scheduler_file.parent,
            stranger=stranger,
        )
