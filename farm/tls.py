"""The cluster's certificates: one private CA per cluster, a certificate per node and one
for the client, so that only holders of a certificate it signed can talk to the scheduler.

Dask's TLS (``distributed.comm.tls``) is mutual: both ends present a certificate and
require the other's to be signed by ``ca.pem``; host names are not checked, so the CA
alone decides who may connect. The CA's private key never leaves this machine
(``LOCAL_DIR/ca-key.pem``, mode 600); each node gets its own key pair.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
CLIENT_CERT, CLIENT_KEY = "client.pem", "client-key.pem"
CA_DAYS = 3650
NODE_DAYS = 825


@dataclass(frozen=True)
class NodeCert:
    """A signed certificate and its private key, both PEM text."""

    cert: str
    key: str


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _write_private(path: Path, text: str) -> None:
    """``text`` into ``path``, created with mode 600 before any byte is written."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ibsweep cluster"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def ensure_ca(folder: Path) -> Path:
    """``folder/ca.pem`` and ``ca-key.pem`` (mode 600), made once and reused after: a
    running cluster keeps trusting the certificates a later ``cluster-up`` signs."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    cert_path = folder / CA_CERT
    if cert_path.is_file() and (folder / CA_KEY).is_file():
        return cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ibsweep cluster CA"))
        .issuer_name(_name("ibsweep cluster CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write_private(folder / CA_KEY, _key_pem(key))
    cert_path.write_text(cert.public_bytes(serialization.Encoding.PEM).decode())
    return cert_path


def sign_node(folder: Path, name: str, address: str | None = None) -> NodeCert:
    """A new key pair for ``name`` signed by ``folder``'s CA (:func:`ensure_ca`), usable
    as a TLS server and client; ``address`` goes into the subject alternative names."""
    ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    ca_key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "ensure_ca makes EC keys"
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    if address:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            names.append(x509.DNSName(address))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=NODE_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return NodeCert(cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key))


def write_signed_pair(
    folder: Path,
    names: tuple[str, str],
    node: str,
    address: str | None = None,
    keep: bool = False,
) -> tuple[Path, Path]:
    """``folder/names[0]`` (certificate) and ``folder/names[1]`` (its key, mode 600 as
    cluster-up's node keys) for ``node``, signed by the folder's CA (:func:`sign_node`);
    with ``keep``, a pair already there is kept."""
    cert_path, key_path = folder / names[0], folder / names[1]
    if not (keep and cert_path.is_file() and key_path.is_file()):
        pair = sign_node(folder, node, address)
        _write_private(key_path, pair.key)
        cert_path.write_text(pair.cert)
    return cert_path, key_path


def write_client_cert(folder: Path) -> tuple[Path, Path]:
    """``folder/client.pem`` and ``client-key.pem`` (mode 600) for the runner's
    ``--tls-dir``, signed by the folder's CA; kept when present."""
    return write_signed_pair(folder, (CLIENT_CERT, CLIENT_KEY), "ibsweep-client", keep=True)
