"""Real OpenSSH servers on loopback for the farm tests.

Two ``/usr/sbin/sshd -D -e -f CONFIG`` processes listen on 127.0.0.2 and 127.0.0.3
(distinct free ports) with temporary host keys and a temporary authorized client key
(mode 600). The "remote" hosts are this machine, so the runner they start uses the
already-provisioned project venv (hosts file ``venv:`` points at it). HOME is
isolated (Fabric reads ~/.ssh/config and ~/.fabric.*). Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from backtest.data.sample import generate_bars, write_parquet

REPO = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"
FAB = str(Path(sys.executable).parent / "fab")
DATES = ("2024-01-02", "2024-01-19")


@dataclass
class Server:
    name: str
    address: str
    port: int
    host_key: Path
    process: subprocess.Popen


@dataclass
class SSHFarm:
    root: Path
    home: Path
    client_key: Path
    known_hosts: Path
    servers: list[Server]
    data_file: Path
    code: Path  # this code unpacked once, as deploy unpacks it: BASE/code-<id> links here


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True
    )
    path.chmod(0o600)
    return path


def _wait_for_banner(
    address: str, port: int, process: subprocess.Popen, log: Path, timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd on {address}:{port} exited: {log.read_text()}")
        try:
            with socket.create_connection((address, port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-2.0"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"sshd on {address}:{port} did not answer")


def start_sshd(root: Path, name: str, address: str, authorized: Path) -> Server:
    host_key = keygen(root / f"host_key_{name}", f"host-{name}")
    port = free_port(address)
    config = root / f"sshd_{name}.conf"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {address}",
                f"Port {port}",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {root / f'sshd_{name}.pid'}",
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "Subsystem sftp internal-sftp",
                "MaxStartups 100",
                "MaxSessions 50",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    log = root / f"sshd_{name}.log"  # a file, not a pipe: a full pipe would block sshd
    with log.open("wb") as err:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=err)
    _wait_for_banner(address, port, process, log)
    return Server(name, address, port, host_key, process)


def known_hosts_line(server: Server, key: Path | None = None) -> str:
    """``[addr]:port type base64`` for the server's host key (or another ``key``)."""
    kind, blob = Path(str(key or server.host_key) + ".pub").read_text().split()[:2]
    return f"[{server.address}]:{server.port} {kind} {blob}\n"


@pytest.fixture(scope="session")
def farm_home(tmp_path_factory) -> Path:
    """An empty HOME: no ~/.ssh/config, known_hosts or ~/.fabric.* of the machine leaks in."""
    home = tmp_path_factory.mktemp("farm_home")
    (home / ".ssh").mkdir()
    return home


@pytest.fixture(autouse=True)
def _isolated_home(farm_home, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(farm_home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("IBSWEEP_HOSTS", raising=False)


@pytest.fixture(scope="session")
def ssh_farm(tmp_path_factory, farm_home) -> SSHFarm:
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} missing: scripts/setup.sh installs openssh-server")
    try:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory (as root)
    except OSError:
        pass  # not root: sshd runs unprivileged and does not need it
    root = tmp_path_factory.mktemp("sshfarm")
    client_key = keygen(root / "client_key", "ibsweep-test")
    authorized = root / "authorized_keys"
    authorized.write_text((root / "client_key.pub").read_text())
    servers = [
        start_sshd(root, "a", "127.0.0.2", authorized),
        start_sshd(root, "b", "127.0.0.3", authorized),
    ]
    known_hosts = root / "known_hosts"
    known_hosts.write_text("".join(known_hosts_line(s) for s in servers))
    data_file = root / "GER40_tiny.parquet"
    write_parquet(generate_bars("GER40", *DATES, seed=11), data_file)
    try:
        yield SSHFarm(root, farm_home, client_key, known_hosts, servers, data_file, _code(root))
    finally:
        for s in servers:
            s.process.terminate()
        for s in servers:
            try:
                s.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                s.process.kill()


def _code(root: Path) -> Path:
    """The code archive deploy would push, unpacked once per session: the hosts' numba
    kernels then compile once, not once per test (a fresh code dir compiles them cold)."""
    import tarfile

    from farm.steps import build_code_archive

    archive = build_code_archive(root)
    target = root / "shared-code" / f"code-{archive.code_id}"
    with tarfile.open(archive.path) as tar:
        tar.extractall(target, filter="data")
    return target


@contextmanager
def no_connections() -> Iterator[list]:
    """Inside: any socket connect fails and is recorded (proves --dry-run connects to nothing)."""
    attempts: list = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args[-1] if args else kwargs)
        raise AssertionError(f"a connection was attempted: {args}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", lambda sock, address: refuse(address))
        mp.setattr(socket.socket, "connect_ex", lambda sock, address: refuse(address))
        mp.setattr(socket, "create_connection", refuse)
        yield attempts


def write_groups(path: Path, n: int, symbol: str = "GER40") -> Path:
    """``n`` small groups (4 combinations each) of ``symbol``."""
    groups = [
        {
            "group_id": f"group_{symbol}_{i:03d}",
            "params": {
                "ib_start": "09:00",
                "ib_end": ["10:00", "10:30", "11:00"][i % 3],
                "direction": ["both", "long", "short"][(i // 3) % 3],
            },
            "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [1.0, 2.0]},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"symbol": symbol, "groups": groups}, indent=1))
    return path


def write_hosts(
    farm: SSHFarm,
    path: Path,
    groups_file: Path,
    ranges: list[tuple[str, int, str]],
    *,
    base_dir: Path,
    output_dir: str = "output/{symbol}_{period}",
    workers: int = 1,
    env: dict | None = None,
    known_hosts: Path | None = None,
    identity: Path | None = None,
    extra_hosts: dict | None = None,
    link_venv: bool = True,
    symbol: dict | None = None,
    link_code: bool = True,
) -> Path:
    """A hosts file for the loopback servers: ``ranges`` = (address, port, "a:b") per host.

    Every host gets its own ``base_dir/hN`` (they are all this machine). With
    ``link_venv``, ``hN/venv`` is a symlink to the project's virtualenv (hosts.yaml
    ``venv`` is relative to base_dir), so that no test installs anything. With
    ``link_code``, ``hN/code-<id>`` links to the session's unpacked code (deploy finds it
    present, as on a host deployed before; while the code does not change meanwhile).
    ``symbol`` replaces the GER40 symbol block (default: the tiny data file and its dates).
    """
    project_venv = Path(sys.executable).parent.parent
    for i in range(len(ranges)):
        host = base_dir / f"h{i + 1}"
        for wanted, link, target in (
            (link_venv, host / "venv", project_venv),
            (link_code, host / farm.code.name, farm.code),
        ):
            if wanted and not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(target)
    hosts = {
        f"h{i + 1}": {
            "address": addr,
            "port": port,
            "symbol": "GER40",
            "range": rng,
            "base_dir": str(base_dir / f"h{i + 1}"),
        }
        for i, (addr, port, rng) in enumerate(ranges)
    }
    hosts.update(extra_hosts or {})
    doc = {
        "defaults": {
            "user": getpass.getuser(),
            "identity_file": str(identity or farm.client_key),
            "known_hosts": str(known_hosts or farm.known_hosts),
            "base_dir": str(base_dir),
            "python": sys.executable,
            "venv": "venv",
            "workers": workers,
            "output_dir": output_dir,
            "connect_timeout": 5,
            "command_timeout": 300,
            "env": env or {},
        },
        "symbols": {
            "GER40": symbol
            or {
                "groups_file": str(groups_file),
                "in_sample": {
                    "data_file": str(farm.data_file),
                    "start_date": DATES[0],
                    "end_date": DATES[1],
                },
            }
        },
        "hosts": hosts,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_fab(
    farm: SSHFarm, hosts_file: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess:
    """The repository's real ``fab`` CLI, HOME isolated, IBSWEEP_HOSTS set to ``hosts_file``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IBSWEEP_", "SSH_AUTH_SOCK"))}
    env.update({"HOME": str(farm.home), "IBSWEEP_HOSTS": str(hosts_file)})
    return subprocess.run(
        [FAB, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def status_json(hosts_file: Path, name: str, period: str | None = None) -> dict:
    """The host's status dict through the library (one remote command); ``period`` as
    ``--period``."""
    from farm.flows import select, status_hosts
    from farm.hosts import load_hosts

    farm = load_hosts(hosts_file)
    result = status_hosts(farm, select(farm, name, period=period))
    outcome = result.outcomes[0]
    assert outcome.ok, outcome.error
    return outcome.value


def wait_status(
    hosts_file: Path, name: str, until, timeout: float = 120, period: str | None = None
) -> dict:
    """Poll the host's status until ``until(status)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        st = status_json(hosts_file, name, period)
        if until(st):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: status never reached the wanted state: {st}")
        time.sleep(0.5)


def kill_runner_tree(pid: int) -> None:
    """SIGKILL the runner ``pid`` (started by this test) and its worker children, by pid.

    A runner that has already exited (it may finish, or stop on a pending SIGTERM, at any
    moment) is not an error, and a pid that is no longer a runner is left alone."""
    import signal

    try:
        if b"run_parallel_backtest" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return  # gone, and its pid taken by another process
    except OSError:
        return  # gone
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    for victim in (pid, *children):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class FinishedPair:
    """Two hosts that each ran one group to the end (h1 ``0:1``, h2 ``1:2``)."""

    hosts_file: Path
    groups_file: Path
    base_dir: Path
    pristine: Path

    def out(self, name: str) -> Path:
        """The host's remote output directory (the hosts are this machine)."""
        return self.base_dir / name / "output" / "GER40_in_sample"

    def reset(self) -> None:
        """Both output directories exactly as the runners left them."""
        import shutil

        for name in ("h1", "h2"):
            if self.out(name).exists():  # a test may have removed it
                shutil.rmtree(self.out(name))
            shutil.copytree(self.pristine / name, self.out(name), symlinks=True)


@pytest.fixture(scope="session")
def finished_pair_once(ssh_farm, tmp_path_factory) -> FinishedPair:
    """One real deploy of two one-group hosts per session, run to the end (shared by the
    tests that plant hostile content on a host: they start from :meth:`FinishedPair.reset`)."""
    import shutil

    a, b = ssh_farm.servers
    root = tmp_path_factory.mktemp("finished_pair")
    groups = write_groups(root / "groups.json", 2)
    base = root / "remote"
    hosts = write_hosts(
        ssh_farm,
        root / "hosts.yaml",
        groups,
        [(a.address, a.port, "0:1"), (b.address, b.port, "1:2")],
        base_dir=base,
    )
    deploy = run_fab(ssh_farm, hosts, "deploy")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    pair = FinishedPair(hosts, groups, base, root / "pristine")
    for name in ("h1", "h2"):
        st = wait_status(hosts, name, lambda s: s["state"] != "running")
        assert st["state"] == "finished", st
        shutil.copytree(pair.out(name), pair.pristine / name, symlinks=True)
    return pair


@pytest.fixture
def finished_pair(finished_pair_once: FinishedPair) -> FinishedPair:
    """:func:`finished_pair_once`, reset to what the runners left."""
    finished_pair_once.reset()
    return finished_pair_once


def plant_results(out: Path, groups: list[dict]) -> None:
    """Replace a host's committed results by ``groups`` (its own metadata kept), with a
    manifest that matches: what a tampered host can write, committed and all."""
    from backtest.runner.outputs import write_results

    meta = json.loads((out / "results_full_GER40.json").read_text())["metadata"]
    write_results(out, "GER40", meta, groups, [])


def own_groups(out: Path) -> list[dict]:
    """The group records of a host's committed results."""
    return json.loads((out / "results_full_GER40.json").read_text())["groups"]


def recommit(out: Path) -> None:
    """Make the manifest match the result files as they are now (a host can always)."""
    import hashlib

    manifest = out / "results_manifest_GER40.json"
    doc = json.loads(manifest.read_text())
    for entry in doc["files"].values():
        data = (out / entry["name"]).read_bytes()
        entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest.write_text(json.dumps(doc))
