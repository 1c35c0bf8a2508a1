"""Turn what goes wrong on a host into one line: host, cause, fix.

The users' troubleshooting guide lists four failures (connection refused,
``Permission denied (publickey)``, timeouts, OOM-killed workers); each maps to a
line that names the host, what happened and what to do about it.
"""

from __future__ import annotations

import errno
import socket

import paramiko
from invoke.exceptions import CommandTimedOut, UnexpectedExit
from paramiko.ssh_exception import NoValidConnectionsError

# paramiko's words when the SSH handshake never completed within the timeout
_HANDSHAKE_STALLED = ("Error reading SSH protocol banner", "No existing session")


class HostsFileError(ValueError):
    """hosts.yaml (or a groups file it names) cannot be used; names file and field."""


class RunnerRefusedError(HostsFileError):
    """fab deploy --dry-run: a host's runner would refuse its options (exit 2); one line
    per such host, each naming it, the runner's error and the fix."""


class FarmError(Exception):
    """A failure on one host, already phrased as ``host: cause; fix``."""

    def __init__(self, host: str, cause: str, fix: str = "") -> None:
        self.host, self.cause, self.fix = host, cause, fix
        super().__init__(f"{host}: {cause}" + (f"; fix: {fix}" if fix else ""))


class KeyFileError(FarmError):
    """A private key that must not be used (readable by others, tracked by git)."""


class UnknownHostError(FarmError):
    """The host's key is not in any known_hosts file we load."""


class HostKeyMismatchError(FarmError):
    """The host presented a key that differs from the one recorded."""


class NotReadyError(FarmError):
    """The host lacks the Python or packages the runner needs."""


class RunnerBusyError(FarmError):
    """A runner is still alive in this output directory."""


class TransferStalledError(FarmError):
    """An SFTP upload or download made no progress for ``command_timeout`` seconds."""


def oom_fix(host: str, workers: int) -> str:
    """The one-line advice for a runner the kernel's OOM killer ended."""
    fewer = max(1, workers // 2)
    return (
        f"{host}: runner killed by the OOM killer (kernel log); "
        f"fix: set workers: {fewer} for this host in hosts.yaml (was {workers}) and run fab retry"
    )


def explain(host: str, address: str, port: int, exc: BaseException, key: str) -> str:
    """One line naming host, cause and fix for ``exc`` raised while working on ``host``.

    ``key`` says which identity was tried (a path, or where paramiko looked).
    """
    where = f"{address}:{port}"
    if isinstance(exc, FarmError):
        return str(exc)
    if _unreachable(exc):
        return (
            f"{host}: no route to host {where}; "
            "fix: the VM is down or the network/VPN to it is not up "
            "(check the address in hosts.yaml)"
        )
    if isinstance(exc, (ConnectionRefusedError, NoValidConnectionsError)):
        return (
            f"{host}: connection refused at {where}; fix: the VM is down, sshd is stopped "
            f"or a firewall blocks port {port} (start the VM, `systemctl start ssh`, "
            f"check the port in hosts.yaml)"
        )
    if isinstance(exc, paramiko.PasswordRequiredException):
        return (
            f"{host}: private key {key} needs its passphrase (fab never asks for one); fix: "
            f"ssh-add it to your ssh-agent (fab uses the agent's keys too)"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return (
            f"{host}: Permission denied (publickey) for key {key} at {where}; fix: use the right "
            f"key (identity_file in hosts.yaml), chmod 600 it, and add its .pub to "
            f"~/.ssh/authorized_keys of the remote user"
        )
    if isinstance(exc, CommandTimedOut):
        return (
            f"{host}: command timed out after {exc.timeout}s; fix: check the host's load "
            f"(fab status) and network, or raise command_timeout in hosts.yaml"
        )
    if isinstance(exc, (socket.timeout, TimeoutError)) or (
        isinstance(exc, paramiko.SSHException) and any(m in str(exc) for m in _HANDSHAKE_STALLED)
    ):
        return (
            f"{host}: timed out talking to {where}; fix: check the network/VPN to the VM, or "
            f"raise connect_timeout in hosts.yaml for slow links"
        )
    if isinstance(exc, UnexpectedExit):
        res = exc.result
        lines = (res.stderr or res.stdout or "").strip().splitlines()
        last = lines[-1] if lines else "(no output)"
        return (
            f"{host}: remote command exited {res.exited}: {last}; fix: see fab logs --host {host}"
        )
    if isinstance(exc, paramiko.SSHException):
        return f"{host}: SSH error at {where}: {exc}; fix: check sshd on the VM and hosts.yaml"
    if isinstance(exc, OSError):
        return f"{host}: {exc.strerror or exc} ({where}); fix: check the address in hosts.yaml"
    return f"{host}: {type(exc).__name__}: {exc}"


def _unreachable(exc: BaseException) -> bool:
    """No route to the host (paramiko folds it into NoValidConnectionsError with refusals)."""
    errors = exc.errors.values() if isinstance(exc, NoValidConnectionsError) else [exc]
    return any(getattr(e, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH) for e in errors)
