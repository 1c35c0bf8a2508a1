"""The Dask cluster on the hosts of hosts.yaml: fab cluster-up / -status / -down / -dashboard.

Remote layout under each host's ``base_dir``: ``code`` (the same archive fab deploy
pushes; the scheduler and the workers run in it, so they unpickle the client's tasks
with the client's code) and ``cluster.remote_dir`` (default ``cluster/``, mode 700):
``ca.pem``, ``node.pem``, ``node-key.pem`` (mode 600), ``scheduler.pid`` /
``scheduler.log`` / ``scheduler.json`` on the scheduler host, ``worker.pid`` /
``worker.log`` / ``worker-space/`` on every worker host.

Each service is started detached with ``nohup setsid``, so that it survives the SSH
session and everything it starts (nannies, worker processes) shares one session whose
id is the pid in the pid file: status counts that session's processes in ``/proc``,
and cluster-down ends all of them (SIGTERM, then SIGKILL after ``stop_timeout``), so
nothing is left behind. Every value in a remote command goes through ``shlex.quote``.
"""

from __future__ import annotations

import json
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from farm import steps
from farm.errors import FarmError, HostsFileError
from farm.hosts import ClusterSetup, Farm, Host, remote_join
from farm.report import FarmResult, HostOutcome, run_each, run_one
from farm.steps import DryRun, Remote, q
from farm.tls import CA_CERT, ensure_ca, sign_node, write_client_cert, write_signed_pair

SCHEDULER_FILE = "scheduler.json"
CLUSTER_IMPORTS = (*steps.RUNNER_IMPORTS, "distributed", "bokeh")  # bokeh: the dashboard
# The scheduler's settings (dask config by environment): every connection TLS; a group
# whose worker dies is handed out once more, then failed (backtest.runner.dask_executor);
# a worker holds at most one group per thread, so that a dying worker takes no queued
# groups down with it.
SCHEDULER_CONFIG: dict[str, Any] = {
    "distributed.comm.require-encryption": True,
    "distributed.scheduler.allowed-failures": 1,
    "distributed.scheduler.worker-saturation": 1.0,
}


def dask_env(config: dict[str, Any]) -> dict[str, str]:
    """Dask config keys as the environment variables dask reads at start."""
    return {
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in config.items()
    }


# A worker process always runs an HTTP server, even with --no-dashboard, and by default
# serves /health, /metrics and /sitemap.json to anyone on 0.0.0.0: it gets no routes,
# and worker_command binds it to 127.0.0.1.
WORKER_CONFIG: dict[str, Any] = {
    "distributed.comm.require-encryption": True,
    "distributed.worker.http.routes": [],
}
SCHEDULER_ENV = dask_env(SCHEDULER_CONFIG)
WORKER_ENV = dask_env(WORKER_CONFIG)

# Run on the host by the venv's Python: the processes of the session SID (a service
# started with setsid), and with "stop" SIGTERM to its leader, SIGKILL to whatever is
# left after WAIT seconds. Prints {"pids": [...]} of what is still alive.
_SESSION = """
import json, os, signal, sys, time
sid, wait_s, action = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
def members():
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    rest = handle.read().rpartition(")")[2].split()
            except OSError:
                continue
            if int(rest[3]) == sid and rest[0] != "Z":
                found.append(int(name))
    return found
def send(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
if action == "stop" and members():
    send([sid] if sid in members() else members(), signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while members() and time.monotonic() < deadline:
        time.sleep(0.2)
    send(members(), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while members() and time.monotonic() < deadline:
        time.sleep(0.1)
print(json.dumps({"pids": members()}))
"""


@dataclass(frozen=True)
class Service:
    """One detached service of a host: the scheduler or its worker processes."""

    role: str  # "scheduler" or "worker"

    def pid_file(self, host: Host, setup: ClusterSetup) -> str:
        return remote_join(cluster_dir(host, setup), f"{self.role}.pid")

    def log_file(self, host: Host, setup: ClusterSetup) -> str:
        return remote_join(cluster_dir(host, setup), f"{self.role}.log")


SCHEDULER, WORKER = Service("scheduler"), Service("worker")


def cluster_dir(host: Host, setup: ClusterSetup) -> str:
    return remote_join(host.base_dir, setup.remote_dir)


def scheduler_address(farm: Farm, setup: ClusterSetup) -> str:
    """``tls://ADDRESS:PORT`` of the scheduler host (it binds to that address)."""
    return f"tls://{farm.host(setup.scheduler).address}:{setup.port}"


def require_cluster(farm: Farm) -> ClusterSetup:
    if farm.cluster is None:
        raise HostsFileError(
            f"{farm.path}: no cluster: section (scheduler host, ports, processes per host); "
            "fix: add one, see docs/FARM.md (The cluster)"
        )
    return farm.cluster


def worker_hosts(farm: Farm, setup: ClusterSetup) -> list[Host]:
    """The hosts that run worker processes (``processes`` > 0), in hosts.yaml order."""
    return [h for h in farm.hosts if setup.processes[h.name] > 0]


# ---------------------------------------------------------------- per-host steps


def _python(host: Host) -> str:
    return host.remote_venv + "/bin/python"


def session(c: Remote, host: Host, setup: ClusterSetup, service: Service, stop: bool) -> dict:
    """``{"pid": N, "pids": [alive processes of its session]}`` of ``service`` on the host
    (``pid`` None: never started or its pid file is gone); with ``stop``, it is ended
    first (SIGTERM, SIGKILL after ``stop_timeout``) and its pid file removed."""
    pid_file = service.pid_file(host, setup)
    pid_text = steps._run(c, host, f"cat {q(pid_file)} 2>/dev/null || true").stdout.strip()
    if not pid_text.isdigit():
        return {"pid": None, "pids": []}
    action = "stop" if stop else "status"
    res = steps._run(
        c,
        host,
        f"{q(_python(host))} -c {q(_SESSION)} {q(pid_text)} {host.stop_timeout} {action}",
        timeout=host.stop_timeout + 60,
    )
    lines = (res.stdout or "").strip().splitlines()
    alive = json.loads(lines[-1])["pids"] if lines else []
    if stop and not alive:
        steps._run(c, host, f"rm -f {q(pid_file)}")
    return {"pid": int(pid_text), "pids": alive}


def _log_tail(c: Remote, host: Host, path: str, lines: int = 3) -> str:
    res = steps._run(c, host, f"tail -n {lines} {q(path)} 2>/dev/null || true")
    return " | ".join(line.strip() for line in (res.stdout or "").splitlines() if line.strip())


def push_certs(c: Remote, host: Host, setup: ClusterSetup) -> None:
    """The cluster CA and a certificate of its own for ``host`` (its key mode 600),
    into the host's cluster folder (mode 700), with ``Connection.put``."""
    folder = cluster_dir(host, setup)
    steps._run(c, host, f"mkdir -p {q(folder)} && chmod 700 {q(folder)}")
    dry = isinstance(c, DryRun)
    node = None if dry else sign_node(setup.local_dir, host.name, host.address)
    ca = "" if dry else (setup.local_dir / CA_CERT).read_text()
    steps.put_text(c, host, ca, remote_join(folder, "ca.pem"), shown="(the cluster CA)")
    steps.put_text(
        c,
        host,
        node.cert if node else "",
        remote_join(folder, "node.pem"),
        shown=f"(certificate of {host.name}, signed by the cluster CA)",
    )
    steps.put_text(
        c,
        host,
        node.key if node else "",
        remote_join(folder, "node-key.pem"),
        shown=f"(private key of {host.name})",
        private=True,
    )


def _tls_args(host: Host, setup: ClusterSetup) -> list[str]:
    folder = cluster_dir(host, setup)
    return [
        "--protocol",
        "tls",
        "--tls-ca-file",
        remote_join(folder, "ca.pem"),
        "--tls-cert",
        remote_join(folder, "node.pem"),
        "--tls-key",
        remote_join(folder, "node-key.pem"),
    ]


def scheduler_command(host: Host, setup: ClusterSetup) -> list[str]:
    """The scheduler bound to the host's address; its dashboard to the host's 127.0.0.1."""
    return [
        _python(host),
        "-m",
        "distributed.cli.dask_scheduler",
        "--host",
        host.address,
        "--port",
        str(setup.port),
        "--dashboard-address",
        f"127.0.0.1:{setup.dashboard_port}",
        "--scheduler-file",
        remote_join(cluster_dir(host, setup), SCHEDULER_FILE),
        *_tls_args(host, setup),
    ]


def worker_command(host: Host, setup: ClusterSetup, address: str) -> list[str]:
    """``processes`` worker processes of one thread each (a group at a time), bound to
    the host's address, named after the host, without a worker dashboard (their HTTP
    server, which dask always starts, on 127.0.0.1 and without routes: WORKER_CONFIG)."""
    args = [
        _python(host),
        "-m",
        "distributed.cli.dask_worker",
        address,
        "--host",
        host.address,
        "--nworkers",
        str(setup.processes[host.name]),
        "--nthreads",
        "1",
        "--name",
        host.name,
        "--no-dashboard",
        "--dashboard-address",
        "127.0.0.1:0",
        "--local-directory",
        remote_join(cluster_dir(host, setup), "worker-space"),
        *_tls_args(host, setup),
    ]
    for option, ports in (
        ("--worker-port", setup.worker_ports),
        ("--nanny-port", setup.nanny_ports),
    ):
        if ports:
            args += [option, ports]
    return args


def start_service(
    c: Remote,
    host: Host,
    setup: ClusterSetup,
    service: Service,
    command: list[str],
    env: dict[str, str],
) -> int | None:
    """Start ``command`` detached in its own session (``nohup setsid``, streams
    redirected, no pty) from the host's code folder; hosts.yaml ``env`` comes from the
    mode-600 file :func:`farm.steps.put_env_file` writes, deleted before the start."""
    folder = cluster_dir(host, setup)
    env_file = steps.put_env_file(c, host, folder)
    pid_file, log = service.pid_file(host, setup), service.log_file(host, setup)
    program = " ".join(q(a) for a in ["env", *(f"{k}={v}" for k, v in env.items()), *command])
    inner = (
        f"exec {program}"
        if env_file is None
        else f". {q(env_file)}; rm -f {q(env_file)}; exec {program}"
    )
    code = remote_join(host.base_dir, "code")
    cmd = (
        f"cd {q(code)} && rm -f {q(pid_file)} && "
        f"{{ nohup setsid sh -c {q(inner)} > {q(log)} 2>&1 < /dev/null & "
        f"echo $! > {q(pid_file)}; }} && cat {q(pid_file)}"
    )
    text = (steps._run(c, host, cmd).stdout or "").strip()
    if not text.isdigit() and not isinstance(c, DryRun):
        raise FarmError(host.name, f"the {service.role} did not start", f"read {log} on the host")
    return int(text) if text.isdigit() else None


def wait_scheduler_file(c: Remote, host: Host, setup: ClusterSetup, pid: int | None) -> dict:
    """The scheduler file once the scheduler wrote it (it listens then); its log's last
    lines in the error when it exits first or takes longer than ``start_timeout``."""
    path = remote_join(cluster_dir(host, setup), SCHEDULER_FILE)
    if isinstance(c, DryRun):
        c.run(f"(wait for {path})")
        return {}
    deadline = time.monotonic() + setup.start_timeout
    while time.monotonic() < deadline:
        text = steps._run(c, host, f"cat {q(path)} 2>/dev/null || true").stdout.strip()
        if text:
            return json.loads(text)
        if not session(c, host, setup, SCHEDULER, stop=False)["pids"]:
            break
        time.sleep(0.5)
    tail = _log_tail(c, host, SCHEDULER.log_file(host, setup))
    raise FarmError(
        host.name,
        f"the scheduler (pid {pid}) did not start listening within {setup.start_timeout}s: "
        f"{tail or '(empty log)'}",
        f"a port in use? check cluster.port / dashboard_port; "
        f"the log is {SCHEDULER.log_file(host, setup)}",
    )


def up_scheduler(c: Remote, host: Host, setup: ClusterSetup, archive: steps.CodeArchive) -> dict:
    """Code, certificates, the scheduler (unless it runs); its scheduler file."""
    steps.check_ready(c, host, CLUSTER_IMPORTS)
    steps.push_code(c, host, archive)
    running = session(c, host, setup, SCHEDULER, stop=False)
    if running["pids"]:
        info = wait_scheduler_file(c, host, setup, running["pid"])
        return {"result": f"scheduler already running (pid {running['pid']})", "file": info}
    push_certs(c, host, setup)
    steps._run(c, host, f"rm -f {q(remote_join(cluster_dir(host, setup), SCHEDULER_FILE))}")
    pid = start_service(c, host, setup, SCHEDULER, scheduler_command(host, setup), SCHEDULER_ENV)
    info = wait_scheduler_file(c, host, setup, pid)
    return {"result": f"scheduler started (pid {pid})", "file": info}


def up_workers(
    c: Remote, host: Host, setup: ClusterSetup, archive: steps.CodeArchive, address: str
) -> str:
    """Code, certificates, the host's worker processes (unless they run)."""
    steps.check_ready(c, host, CLUSTER_IMPORTS)
    steps.push_code(c, host, archive)
    running = session(c, host, setup, WORKER, stop=False)
    if running["pids"]:
        return f"workers already running (pid {running['pid']})"
    push_certs(c, host, setup)
    pid = start_service(c, host, setup, WORKER, worker_command(host, setup, address), WORKER_ENV)
    return f"{setup.processes[host.name]} worker processes started (pid {pid})"


def down(c: Remote, host: Host, setup: ClusterSetup, service: Service) -> str:
    """End ``service`` and everything in its session; an error if anything survives."""
    st = session(c, host, setup, service, stop=True)
    if st["pid"] is None:
        return f"{service.role}: not running"
    if st["pids"]:
        raise FarmError(
            host.name,
            f"{service.role} session {st['pid']}: processes {st['pids']} survived SIGKILL",
            "check them on the host (ps -s SID); a process in uninterruptible sleep (D) "
            "ends with its I/O",
        )
    return f"{service.role} stopped (pid {st['pid']})"


# ---------------------------------------------------------------- flows (fab tasks)


@dataclass
class ClusterUp:
    """What cluster-up did: per-host outcomes, the scheduler's address and file."""

    result: FarmResult
    address: str
    scheduler_file: Path | None
    joined: dict[str, int]  # host name -> worker processes connected to the scheduler


def _merge(host: Host, first: str | None, outcome: HostOutcome | None) -> HostOutcome:
    """One row per host: the scheduler's result (if it is that host) and its workers'."""
    parts = [p for p in (first, outcome.value if outcome and outcome.ok else None) if p]
    if outcome is not None and not outcome.ok:
        return HostOutcome(host, error="; ".join([*parts, outcome.error or ""]))
    return HostOutcome(host, "; ".join(parts) or "no worker processes (processes: 0)")


def cluster_up(farm: Farm, *, dry_run: bool = False) -> ClusterUp:
    """Certificates (CA once, this machine), then the scheduler, then every host's
    workers, then wait until the scheduler sees them all (``start_timeout``)."""
    setup = require_cluster(farm)
    sched = farm.host(setup.scheduler)
    address = scheduler_address(farm, setup)
    if not dry_run:
        ensure_ca(setup.local_dir)
        write_client_cert(setup.local_dir)
    with tempfile.TemporaryDirectory(prefix="ibsweep-code-") as tmp:
        archive = steps.build_code_archive(Path(tmp))
        first = run_one(sched, lambda c, h: up_scheduler(c, h, setup, archive), dry_run)
        if not first.ok:
            outcomes = [
                first
                if h.name == sched.name
                else HostOutcome(h, error="not started: scheduler failed")
                for h in farm.hosts
            ]
            return ClusterUp(FarmResult(outcomes), address, None, {})
        workers = run_each(
            worker_hosts(farm, setup),
            lambda c, h: up_workers(c, h, setup, archive, address),
            dry_run=dry_run,
        )
    if dry_run:  # every value is (the host's plan, what the step returned)
        plans: dict[str, list[str]] = {h.name: [] for h in farm.hosts}
        for o in [first, *workers.outcomes]:
            plans[o.host.name] += o.value[0]
        return ClusterUp(
            FarmResult([HostOutcome(h, plans[h.name]) for h in farm.hosts]), address, None, {}
        )
    by_name = {o.host.name: o for o in workers.outcomes}
    outcomes = [
        _merge(h, first.value["result"] if h.name == sched.name else None, by_name.get(h.name))
        for h in farm.hosts
    ]
    local_file = setup.local_dir / SCHEDULER_FILE
    local_file.write_text(json.dumps(first.value["file"], indent=1) + "\n")
    joined = wait_for_workers(farm, setup, outcomes)
    return ClusterUp(FarmResult(outcomes), address, local_file, joined)


@contextmanager
def local_cluster(folder: Path, workers: int) -> Iterator[Path]:
    """A cluster on this machine as cluster-up makes one (TLS with a CA of its own in
    ``folder``, keys mode 600, the scheduler's and the workers' settings, one thread per
    worker process), for the tests and the benchmark; yields its scheduler file, beside
    the client's certificates."""
    import dask
    from distributed import LocalCluster, Security

    ensure_ca(folder)
    write_client_cert(folder)
    pair = write_signed_pair(folder, ("node.pem", "node-key.pem"), "local-node", "127.0.0.1")
    cert, key = map(str, pair)
    security = Security(
        require_encryption=True,
        tls_ca_file=str(folder / CA_CERT),
        tls_scheduler_cert=cert,
        tls_scheduler_key=key,
        tls_worker_cert=cert,
        tls_worker_key=key,
        tls_client_cert=cert,
        tls_client_key=key,
    )
    with dask.config.set({**SCHEDULER_CONFIG, **WORKER_CONFIG}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            protocol="tls://",
            host="127.0.0.1",
            security=security,
            # the scheduler's HTTP server (health, metrics; no dashboard) on a free port of
            # 127.0.0.1: Dask's default 8787 is taken when two test clusters run at once
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            worker_dashboard_address="127.0.0.1:0",
        )
    scheduler_file = folder / SCHEDULER_FILE
    scheduler_file.write_text(json.dumps({"address": cluster.scheduler_address}) + "\n")
    try:
        yield scheduler_file
    finally:
        cluster.close()


def client(farm: Farm, setup: ClusterSetup, timeout: float = 10) -> Any:
    """A TLS client of the cluster with this machine's certificate (``local_dir``)."""
    from distributed import Client, Security

    folder = setup.local_dir
    security = Security(
        require_encryption=True,
        tls_ca_file=str(folder / CA_CERT),
        tls_client_cert=str(folder / "client.pem"),
        tls_client_key=str(folder / "client-key.pem"),
    )
    return Client(
        scheduler_address(farm, setup), security=security, timeout=timeout, set_as_default=False
    )


def worker_counts(info: dict[str, Any], hosts: list[Host]) -> dict[str, int]:
    """Connected worker processes per host name: dask names a host's processes after it
    (``--name HOST``: ``HOST`` for one process, ``HOST-0``, ``HOST-1``, ... for more)."""
    names = {h.name for h in hosts}
    counts: dict[str, int] = {}
    for worker in info["workers"].values():
        name = str(worker.get("name", ""))
        stem, _, number = name.rpartition("-")
        owner = name if name in names else stem if number.isdigit() and stem in names else None
        if owner is not None:
            counts[owner] = counts.get(owner, 0) + 1
    return counts


def wait_for_workers(farm: Farm, setup: ClusterSetup, outcomes: list[HostOutcome]) -> dict:
    """Wait until every started host's processes joined; a host whose workers did not
    join in ``start_timeout`` becomes a failed outcome with its log's last lines."""
    wanted = {o.host.name: setup.processes[o.host.name] for o in outcomes if o.ok}
    wanted = {name: n for name, n in wanted.items() if n}
    deadline = time.monotonic() + setup.start_timeout
    counts: dict[str, int] = {}
    try:
        dask_client = client(farm, setup, timeout=setup.start_timeout)
    except (OSError, TimeoutError) as exc:
        raise FarmError(
            setup.scheduler,
            f"this machine cannot connect to the scheduler {scheduler_address(farm, setup)} "
            f"({type(exc).__name__}: {exc})",
            "the runner connects there too: check the address, cluster.port and the firewall",
        ) from None
    with dask_client:
        while time.monotonic() < deadline:
            counts = worker_counts(dask_client.scheduler_info(n_workers=-1), farm.hosts)
            if all(counts.get(name, 0) >= n for name, n in wanted.items()):
                return counts
            time.sleep(0.5)
    for index, outcome in enumerate(outcomes):
        name = outcome.host.name
        if name in wanted and counts.get(name, 0) < wanted[name]:
            tail = run_one(
                outcome.host,
                lambda c, h: _log_tail(c, h, WORKER.log_file(h, setup)),
            )
            outcomes[index] = HostOutcome(
                outcome.host,
                error=f"{name}: {counts.get(name, 0)} of {wanted[name]} worker processes joined "
                f"the scheduler within {setup.start_timeout}s: {tail.value or '(empty log)'}; "
                f"fix: can the host reach {scheduler_address(farm, setup)}? (firewall, address)",
            )
    return counts


def cluster_down(farm: Farm) -> FarmResult:
    """Every host's workers, then the scheduler; each service and its whole session."""
    setup = require_cluster(farm)
    result = run_each(farm.hosts, lambda c, h: down(c, h, setup, WORKER))
    sched = farm.host(setup.scheduler)
    last = run_one(sched, lambda c, h: down(c, h, setup, SCHEDULER))
    outcomes = [
        _merge(o.host, None, o) if o.host.name != sched.name else _join(o, last)
        for o in result.outcomes
    ]
    if all(o.ok for o in outcomes):
        (setup.local_dir / SCHEDULER_FILE).unlink(missing_ok=True)
    return FarmResult(outcomes)


def _join(a: HostOutcome, b: HostOutcome) -> HostOutcome:
    texts = [o.value if o.ok else o.error for o in (a, b)]
    if a.ok and b.ok:
        return HostOutcome(a.host, "; ".join(str(t) for t in texts))
    return HostOutcome(a.host, error="; ".join(str(t) for t in texts))


def status_step(setup: ClusterSetup, sched: str) -> Callable[[Any, Host], dict]:
    def step(c: Any, h: Host) -> dict:
        out = {"worker": session(c, h, setup, WORKER, stop=False)}
        if h.name == sched:
            out["scheduler"] = session(c, h, setup, SCHEDULER, stop=False)
        return out

    return step


def service_text(st: dict | None) -> str:
    """``running (pid N, K processes)``, ``not started`` or ``DEAD (pid N)``."""
    if st is None:
        return "-"
    if st["pid"] is None:
        return "not started"
    if not st["pids"]:
        return f"DEAD (pid {st['pid']})"
    return f"running (pid {st['pid']}, {len(st['pids'])} processes)"


def cluster_status(farm: Farm) -> tuple[FarmResult, dict[str, Any] | None, str | None]:
    """Per host: the services' sessions (SSH); from the scheduler (TLS): its workers,
    their memory and tasks. The scheduler's error instead when it cannot be reached."""
    setup = require_cluster(farm)
    result = run_each(farm.hosts, status_step(setup, setup.scheduler))
    try:
        with client(farm, setup) as dask_client:
            info = dask_client.scheduler_info(n_workers=-1)
            info["processing"] = sum(len(v) for v in dask_client.processing().values())
        return result, info, None
    except Exception as exc:  # reported as one line, like any host failure
        return result, None, " ".join(f"{type(exc).__name__}: {exc}".split())


def forward_dashboard(farm: Farm, local_port: int, ready: Callable[[str], None]) -> None:
    """An SSH tunnel from this machine's 127.0.0.1:``local_port`` to the dashboard on
    the scheduler host's 127.0.0.1 (which nothing else reaches), open until Ctrl-C
    (KeyboardInterrupt); ``ready`` gets the line to print once it listens. A failure
    to connect is a :class:`FarmError` (host, cause, fix)."""
    from farm.connect import classify_host_key_error, connection, key_description
    from farm.errors import explain

    setup = require_cluster(farm)
    host = farm.host(setup.scheduler)
    # Ctrl-C (SIGINT) must close the tunnel even when this process was started with SIGINT
    # ignored (a command put in the background by a non-interactive shell inherits that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    conn = None
    try:
        conn = connection(host)
        with conn.forward_local(
            local_port,
            remote_port=setup.dashboard_port,
            remote_host="127.0.0.1",
            local_host="127.0.0.1",
        ):
            _wait_listening("127.0.0.1", local_port)
            ready(f"dashboard: http://127.0.0.1:{local_port}/status (Ctrl-C closes the tunnel)")
            while True:
                time.sleep(1)
    except (OSError, EOFError, ValueError) as exc:  # paramiko's errors are OSError/SSHException
        error = classify_host_key_error(host, exc)
        line = explain(host.name, host.address, host.port, error, key_description(host, conn))
        raise FarmError(host.name, line.split(": ", 1)[1]) from None
    finally:
        if conn is not None:
            conn.close()


def _wait_listening(address: str, port: int, seconds: float = 10.0) -> None:
    """Return once ``address:port`` accepts a connection: Fabric's ``forward_local`` opens
    its listening socket in a thread, so the URL is printed only when it works."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ---------------------------------------------------------------- tables


def outcome_rows(result: FarmResult) -> list[dict[str, Any]]:
    """host / address / result rows of cluster-up and cluster-down."""
    return [
        {
            "host": o.host.name,
            "address": f"{o.host.address}:{o.host.port}",
            "result": o.value if o.ok else "FAILED: " + (o.error or ""),
        }
        for o in result.outcomes
    ]


def status_rows(
    farm: Farm, result: FarmResult, info: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Per host: its services' state, the worker processes the scheduler sees and wants."""
    setup = require_cluster(farm)
    counts = worker_counts(info, farm.hosts) if info else {}
    rows = []
    for o in result.outcomes:
        value = o.value if o.ok else {}
        rows.append(
            {
                "host": o.host.name,
                "scheduler": service_text(value.get("scheduler")) if o.ok else None,
                "workers": service_text(value.get("worker")) if o.ok else None,
                "connected": counts.get(o.host.name, 0) if info else None,
                "wanted": setup.processes[o.host.name],
                "result": "ok" if o.ok else "FAILED: " + (o.error or ""),
            }
        )
    return rows


def status_problems(rows: list[dict[str, Any]]) -> list[str]:
    """Hosts that failed, a dead service, or fewer workers connected than wanted."""
    return [
        r["host"]
        for r in rows
        if r["result"] != "ok"
        or "DEAD" in f"{r['scheduler']}{r['workers']}"
        or (r["connected"] is not None and r["connected"] < r["wanted"])
    ]


def worker_rows(info: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per worker process: threads, memory used and limit, tasks."""
    rows = []
    for w in sorted(info["workers"].values(), key=lambda w: str(w.get("name"))):
        metrics = w.get("metrics", {})
        counts = metrics.get("task_counts", {})
        rows.append(
            {
                "worker": w.get("name"),
                "host": w.get("host"),
                "threads": w.get("nthreads"),
                "memory": f"{metrics.get('memory', 0) / 2**20:.0f} MiB",
                "limit": f"{(w.get('memory_limit') or 0) / 2**20:.0f} MiB",
                "executing": counts.get("executing", 0),
                "stored": counts.get("memory", 0),
            }
        )
    return rows
