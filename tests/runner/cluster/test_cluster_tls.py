"""Only a client with a certificate of the cluster's CA gets in: the runner with another
CA's certificate is refused before any group runs (exit 2, one line); a TLS client
without a certificate and a plain TCP client are cut off."""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.runner.helpers import run_args, run_cli


def test_runner_with_a_foreign_certificate_is_refused(tls_cluster, dataset, tmp_path):
    out = tmp_path / "out"

    result = run_cli(
        *run_args(dataset.bars, dataset.groups, out, "--skip-charts", "--no-report"),
        "--scheduler",
        tls_cluster.address,
        "--tls-dir",
        tls_cluster.stranger,
    )

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"--scheduler {tls_cluster.address}: cannot connect to the scheduler" in lines[0]
    assert not list(out.glob("results_*"))  # no group ran


def test_tls_client_without_a_certificate_is_cut_off(tls_cluster):
    host, port = tls_cluster.address.removeprefix("tls://").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(tls_cluster.tls_dir / "ca.pem"))
    context.check_hostname = False  # the scheduler's certificate is checked against the CA

    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw) as tls, pytest.raises((ssl.SSLError, OSError)):
            tls.sendall(b"\0" * 8)
            if not tls.recv(8):  # TLS 1.3: the refusal arrives with the first read
                raise ConnectionResetError("closed by the scheduler")


def test_plain_tcp_client_is_cut_off(tls_cluster):
    host, port = tls_cluster.address.removeprefix("tls://").rsplit(":", 1)
    hello = b"\x00" * 8  # what a tcp:// client would send first: not a TLS handshake

    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(hello)
        try:
            answer = raw.recv(64)
        except ConnectionResetError:
            answer = b""

    assert answer == b""  # closed without a word
