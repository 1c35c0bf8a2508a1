"""Connections that verify host keys and refuse unsafe private keys.

Fabric's ``Connection`` installs paramiko's ``AutoAddPolicy`` in its constructor and
never reads known_hosts, i.e. it trusts any server. :func:`connection` undoes that:
it loads ``~/.ssh/known_hosts`` and the project's known_hosts file (hosts.yaml
``known_hosts``) and installs ``RejectPolicy``, so an unknown host or a changed key
is refused before anything is sent.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import paramiko
from fabric import Config, Connection
from paramiko.hostkeys import HostKeys

from farm.errors import HostKeyMismatchError, KeyFileError, UnknownHostError
from farm.hosts import Host

DEFAULT_KEY_KINDS = ("rsa", "dsa", "ecdsa", "ed25519")  # the files paramiko tries unasked


def user_known_hosts() -> Path:
    return Path(os.path.expanduser("~/.ssh/known_hosts"))


def ssh_hostname(host: Host) -> str:
    """The address really dialled for ``host``: its ``HostName`` in ~/.ssh/config, if any."""
    try:
        return str(Config().base_ssh_config.lookup(host.address).get("hostname", host.address))
    except Exception:  # an unreadable ssh config: Fabric's own connect would fail with the details
        return host.address


def host_key_name(host: Host) -> str:
    """The known_hosts name paramiko looks up: ``addr`` on port 22, else ``[addr]:port``."""
    address = ssh_hostname(host)
    return address if host.port == 22 else f"[{address}]:{host.port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style ``SHA256:...`` fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def trust_fix(host: Host) -> str:
    return (
        f"check the fingerprint with the VM's admin, then run "
        f"`fab trust --host {host.name}` (records it in {host.known_hosts})"
    )


def check_key_file(path: Path, host: str) -> None:
    """Refuse a private key readable by group/others or tracked by git, with the fix."""
    if not path.exists():
        raise KeyFileError(
            host,
            f"identity file {path} does not exist",
            f"point identity_file in hosts.yaml at your private key, or create one: "
            f"ssh-keygen -t ed25519 -f {shlex.quote(str(path))} and add its .pub to the VM's "
            f"~/.ssh/authorized_keys (docs/FARM.md, first time)",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            host,
            f"private key {path} has mode {mode:04o} (readable by others)",
            f"chmod 600 {shlex.quote(str(path))}",
        )
    try:
        tracked = (
            subprocess.run(
                ["git", "-C", str(path.parent), "ls-files", "--error-unmatch", path.name],
                capture_output=True,
                text=True,
            ).returncode
            == 0
        )
    except OSError:  # no git on this machine: nothing can be tracked
        tracked = False
    if tracked:
        raise KeyFileError(
            host,
            f"private key {path} is tracked by git",
            "move it out of the repository (e.g. ~/.ssh/), "
            f"`git rm --cached {shlex.quote(path.name)}`, and rotate the key: it is in the history",
        )


def fab_config() -> Config:
    """Fabric config for farm connections: no stdin forwarding (no task needs it)."""
    return Config(overrides={"run": {"in_stream": False}})


def _verify_host_keys(conn: Connection, host: Host) -> None:
    """Load known_hosts into ``conn``'s client, install RejectPolicy (Fabric sets AutoAddPolicy)."""
    client = conn.client
    for known in (user_known_hosts(), host.known_hosts):
        if known.exists():
            client.load_host_keys(str(known))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())


def _check_key_files(conn: Connection, host: Host) -> None:
    """Refuse unsafe keys paramiko would offer: hosts.yaml/~/.ssh/config ones, else ~/.ssh/id_*."""
    files = [Path(f) for f in conn.connect_kwargs.get("key_filename") or []]
    if conn.connect_kwargs.get("look_for_keys", True):
        files += [Path(os.path.expanduser(f"~/.ssh/id_{kind}")) for kind in DEFAULT_KEY_KINDS]
    for key_file in files:
        if key_file.exists():
            check_key_file(key_file, host.name)


def connection(host: Host, config: Config | None = None) -> Connection:
    """A Fabric Connection to ``host`` that verifies its key against known_hosts (RejectPolicy).

    The same holds for every ProxyJump hop ``~/.ssh/config`` gives it: Fabric builds
    those gateway Connections itself, with AutoAddPolicy too.
    """
    connect_kwargs: dict = {
        "banner_timeout": host.connect_timeout,
        "auth_timeout": host.connect_timeout,
    }
    if host.identity_file is not None:
        check_key_file(host.identity_file, host.name)
        connect_kwargs["key_filename"] = [str(host.identity_file)]
        connect_kwargs["look_for_keys"] = (
            False  # like IdentitiesOnly: the named key (or the agent's)
        )
    conn = Connection(
        host.address,
        user=host.user,
        port=host.port,
        config=config or fab_config(),
        connect_timeout=host.connect_timeout,
        connect_kwargs=connect_kwargs,
    )
    hop: object = conn
    while isinstance(hop, Connection):  # the host itself, then each ProxyJump gateway
        _check_key_files(hop, host)
        _verify_host_keys(hop, host)
        hop = hop.gateway
    return conn


def key_description(host: Host, conn: Connection | None = None) -> str:
    """Which key(s) authentication tried, for error messages."""
    if host.identity_file is not None:
        return str(host.identity_file)
    files = (conn.connect_kwargs.get("key_filename") if conn else None) or []
    if files:
        return ", ".join(map(str, files)) + " (from ~/.ssh/config)"
    return "ssh-agent and ~/.ssh/id_* (no identity_file in hosts.yaml)"


def classify_host_key_error(host: Host, exc: BaseException) -> BaseException:
    """Re-raise paramiko's host key refusals as the farm's one-line errors."""
    if isinstance(exc, paramiko.BadHostKeyException):
        name = host_key_name(host)
        return HostKeyMismatchError(
            host.name,
            f"host key {fingerprint(exc.key)} does not match known_hosts "
            f"(expected {fingerprint(exc.expected_key)}); "
            "possible man-in-the-middle or a reinstalled VM",
            f"if the VM was reinstalled: ssh-keygen -R {shlex.quote(name)} "
            f"-f {shlex.quote(str(host.known_hosts))} (and ~/.ssh/known_hosts), "
            f"then `fab trust --host {host.name}`",
        )
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        found = _REJECTED.search(str(exc))
        server = found.group(1) if found else host_key_name(host)
        addr, _, port = server.lstrip("[").partition("]:")
        if addr not in (host.address, ssh_hostname(host)):
            ssh = f"ssh -p {port} {addr}" if port else f"ssh {addr}"
            return UnknownHostError(
                host.name,
                f"unknown jump host {server} (ProxyJump in ~/.ssh/config; no key in known_hosts)",
                f"check its fingerprint with its admin, then `{ssh}` once to record it "
                f"in ~/.ssh/known_hosts",
            )
        return UnknownHostError(
            host.name,
            f"unknown host {host_key_name(host)} (no key in known_hosts)",
            trust_fix(host),
        )
    return exc


_REJECTED = re.compile(r"Server '([^']+)' not found in known_hosts")


def fetch_host_key(host: Host) -> paramiko.PKey:
    """The host's public key, read from its SSH handshake (no authentication)."""
    import socket

    sock = socket.create_connection((ssh_hostname(host), host.port), timeout=host.connect_timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=host.connect_timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()


def record_host_key(host: Host, key: paramiko.PKey) -> Path:
    """Append the key to the project's known_hosts (created with mode 644 when missing)."""
    path = host.known_hosts
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = HostKeys(str(path)) if path.exists() else HostKeys()
    keys.add(host_key_name(host), key.get_name(), key)
    keys.save(str(path))
    return path


def known_key(host: Host, key_type: str) -> paramiko.PKey | None:
    """The ``key_type`` key that :func:`connection` checks the host against: the first
    recorded one, ``~/.ssh/known_hosts`` before the project file (paramiko's order)."""
    recorded = recorded_keys(host, key_type)
    return recorded[0][1] if recorded else None


def recorded_keys(host: Host, key_type: str) -> list[tuple[Path, paramiko.PKey]]:
    """(file, key) of every ``key_type`` key recorded for the host, in the order
    :func:`connection` loads the files (``~/.ssh/known_hosts``, then the project file)."""
    found = []
    for known in (user_known_hosts(), host.known_hosts):
        if known.exists():
            entry = HostKeys(str(known)).lookup(host_key_name(host))
            if entry is not None and key_type in entry:
                found.append((known, entry[key_type]))
    return found
