"""Per-host steps. Like Fabric's own: each is a function taking a Connection (and the Host).

Remote layout under ``base_dir``: ``venv/`` (fab setup), ``code-<id>/`` (one per code
version, ``code`` links to the newest), ``data/`` (pushed data files), and the run's
output directory (``output_dir``) holding ``groups_filtered.json``, ``runner.pid``,
``runner.exit``, ``runner.out`` and the runner's own files; a retry runs in ``OUT/retry-N``.
Every value put into a remote command goes through :func:`shlex.quote`.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shlex
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from backtest.core.checksum import file_checksum
from backtest.runner.host_tools import DEPLOY_RECORD
from backtest.runner.options import option_fields, runner_arguments
from backtest.runner.rundir import MANIFEST_GLOB
from farm.errors import FarmError, NotReadyError, RunnerBusyError, TransferStalledError
from farm.hosts import Host, SymbolSetup, remote_join

q = shlex.quote
REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_PARTS = ("backtest", "strategies", "requirements.txt", "ibsweep.yaml")
EXCLUDE_DIRS = {"__pycache__", "output", ".pytest_cache"}
RUNNER_IMPORTS = ("numpy", "pandas", "pyarrow", "yaml", "numba", "matplotlib")
MIN_PYTHON = (3, 11)
ENV_FILE = "runner.env"
_FILE_PART = re.compile(r"[A-Za-z0-9_.-]{1,255}")
MB = 1 << 20  # hosts.yaml's collect_max_file_mb / collect_max_host_mb unit


class Remote(Protocol):
    """What steps need from a Connection (a real one, or the dry-run printer)."""

    def run(self, command: str, **kwargs: Any) -> Any: ...
    def put(self, local: Any, remote: str | None = None, **kwargs: Any) -> Any: ...
    def get(self, remote: str, local: Any = None, **kwargs: Any) -> Any: ...


@dataclass
class DryRun:
    """Stands in for a Connection under ``--dry-run``: records every command and transfer."""

    host: Host
    plan: list[str] = field(default_factory=list)

    def run(self, command: str, **kwargs: Any) -> Any:
        self.plan.append(f"run  {command}")
        return _Echo()

    def put(self, local: Any, remote: str | None = None, **kwargs: Any) -> Any:
        self.plan.append(f"put  {local} -> {remote}")

    def get(self, remote: str, local: Any = None, **kwargs: Any) -> Any:
        self.plan.append(f"get  {remote} -> {local}")


class _Echo:
    stdout = ""
    stderr = ""
    exited = 0
    ok = True


def _run(c: Remote, host: Host, command: str, **kwargs: Any) -> Any:
    kwargs.setdefault("hide", True)
    kwargs.setdefault("pty", False)
    kwargs.setdefault("timeout", host.command_timeout)
    return c.run(command, **kwargs)


def put(c: Remote, host: Host, local: Path | str, remote: str) -> None:
    """Upload over SFTP; fails after ``command_timeout`` seconds of stall (SFTP has no timeout)."""
    _transfer(c, host, "upload", str(local), remote, lambda: c.put(str(local), remote))


class FileTooBig(Exception):
    """A download that would pass its byte limit (it was stopped, nothing kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"{size:,} bytes or more")


def get(c: Remote, host: Host, remote: str, local: Path, limit: int) -> int:
    """Download over SFTP, failing like :func:`put` when it stalls; the bytes written.

    A file of more than ``limit`` bytes raises :class:`FileTooBig` and leaves nothing at
    ``local``: refused by its size before a byte comes, and stopped at the limit when it
    grows (or its listing lied), so it is never held or stored whole.
    """
    sftp = getattr(c, "sftp", None)  # a real Connection (the dry-run printer has none)
    if sftp is None:
        _transfer(c, host, "download", remote, str(local), lambda: c.get(remote, str(local)))
        return 0
    try:
        return _transfer(
            c,
            host,
            "download",
            remote,
            str(local),
            lambda: _get_capped(sftp(), remote, local, limit),
        )
    except FileTooBig:
        local.unlink(missing_ok=True)
        raise


def _get_capped(sftp: Any, remote: str, local: Path, limit: int) -> int:
    """Copy ``remote`` to ``local``, prefetching its size if within ``limit``, reading at
    most ``limit`` + 1 bytes: FileTooBig past the limit."""
    with sftp.open(remote, "rb") as source:
        size = source.stat().st_size
        if size > limit:
            raise FileTooBig(size)
        source.prefetch(size)
        copied = 0
        with local.open("wb") as target:
            while chunk := source.read(min(1 << 20, limit + 1 - copied)):
                copied += len(chunk)
                if copied > limit:
                    raise FileTooBig(copied)
                target.write(chunk)
    return copied


def _transfer(c: Remote, host: Host, what: str, src: str, dst: str, move: Callable[[], Any]) -> Any:
    sftp = getattr(c, "sftp", None)  # a real Connection (the dry-run printer has none)
    if sftp is not None:
        sftp().get_channel().settimeout(host.command_timeout)
    try:
        return move()
    except TimeoutError:
        raise TransferStalledError(
            host.name,
            f"{what} {src} -> {dst} stalled for {host.command_timeout}s",
            f"check the network/VPN to the VM and its free disk (df -h {q(host.base_dir)}), "
            f"or raise command_timeout in hosts.yaml",
        ) from None


# ---------------------------------------------------------------- code archive


@dataclass(frozen=True)
class CodeArchive:
    """One tar.gz of what the runner needs; ``code_id`` hashes its contents."""

    path: Path
    code_id: str


def _code_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for part in CODE_PARTS:
        top = root / part
        if top.is_file():
            files.append(top)
        elif top.is_dir():
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(
                    d for d in dirnames if d not in EXCLUDE_DIRS and not d.startswith(".")
                )
                files += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith(".pyc")]
    return files


def build_code_archive(dest_dir: Path, root: Path = REPO_ROOT) -> CodeArchive:
    """Pack backtest/, strategies/, requirements.txt (no caches, outputs or sample data)."""
    files = _code_files(root)
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    code_id = digest.hexdigest()[:12]
    path = dest_dir / f"code-{code_id}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for f in files:
            info = tar.gettarinfo(str(f), arcname=str(f.relative_to(root)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with f.open("rb") as fh:
                tar.addfile(info, fh)
    return CodeArchive(path, code_id)


# ---------------------------------------------------------------- setup / readiness


def python_version(c: Remote, host: Host, python: str) -> tuple[int, int] | None:
    res = _run(c, host, f"{q(python)} -c 'import sys; print(*sys.version_info[:2])'", warn=True)
    parts = (res.stdout or "").split()
    return (int(parts[0]), int(parts[1])) if res.ok and len(parts) == 2 else None


def setup(c: Remote, host: Host, requirements: Path = REPO_ROOT / "requirements.txt") -> str:
    """Base dir, a virtualenv with the project's requirements, Python >= 3.11. Safe to repeat."""
    version = python_version(c, host, host.python)
    if version is not None and version < MIN_PYTHON and not isinstance(c, DryRun):
        raise NotReadyError(
            host.name,
            f"{host.python} is Python {version[0]}.{version[1]}, need >= 3.11",
            "install python3.11 (apt install python3.11 python3.11-venv) "
            "and set python: in hosts.yaml",
        )
    if version is None and not isinstance(c, DryRun):
        raise NotReadyError(
            host.name,
            f"no Python at '{host.python}'",
            "apt install python3 python3-venv, or set python: in hosts.yaml",
        )
    base, venv = host.base_dir, host.remote_venv
    _run(c, host, f"mkdir -p {q(base)} {q(remote_join(base, 'data'))}")
    created = _run(
        c,
        host,
        f"if [ -x {q(venv + '/bin/python')} ]; then echo exists; "
        f"else {q(host.python)} -m venv {q(venv)} && echo created; fi",
    )
    want = file_checksum(requirements)
    stamp = remote_join(base, ".requirements.sha256")
    have = _run(c, host, f"cat {q(stamp)} 2>/dev/null || true").stdout.strip()
    if have == want and "created" not in created.stdout:
        return f"ready ({'.'.join(map(str, version or ()))}, requirements up to date)"
    remote_req = remote_join(base, "requirements.txt")
    put(c, host, requirements, remote_req)
    _run(
        c,
        host,
        f"{q(venv + '/bin/python')} -m pip install -q --disable-pip-version-check "
        f"-r {q(remote_req)} && echo {q(want)} > {q(stamp)}",
    )
    return f"ready ({'.'.join(map(str, version or ()))}, requirements installed)"


def check_ready(c: Remote, host: Host, modules: tuple[str, ...] = RUNNER_IMPORTS) -> None:
    """The venv's Python is >= 3.11 and has ``modules`` (what the runner needs), else
    point to fab setup."""
    py = host.remote_venv + "/bin/python"
    probe = (
        "import sys, importlib.util as u; "
        f"assert sys.version_info >= {MIN_PYTHON!r}, 'Python < 3.11'; "
        f"missing = [m for m in {modules!r} if u.find_spec(m) is None]; "
        f"assert not missing, 'missing packages: ' + ', '.join(missing)"
    )
    res = _run(c, host, f"{q(py)} -c {q(probe)}", warn=True)
    if not res.ok:
        lines = (res.stderr or "").strip().splitlines()
        why = lines[-1] if lines else f"{py} missing"
        raise NotReadyError(host.name, f"host not set up ({why})", f"fab setup --host {host.name}")


# ---------------------------------------------------------------- status


def remote_status(c: Remote, host: Host) -> dict:
    """The newest run's state on the host, from one command (backtest.runner.host_tools status)."""
    out = host.remote_out
    code = remote_join(host.base_dir, "code")
    cmd = (
        f'if [ ! -d {q(out)} ] || [ ! -d {q(code)} ]; then echo \'{{"state": "not deployed"}}\'; '
        f"else cd {q(code)} && {q(host.remote_venv + '/bin/python')} "
        f"-m backtest.runner.host_tools status --dir {q(out)}; fi"
    )
    res = _run(c, host, cmd)
    text = (res.stdout or "").strip()
    return json.loads(text.splitlines()[-1]) if text else {"state": "not deployed"}


# ---------------------------------------------------------------- deploy


def push_code(c: Remote, host: Host, archive: CodeArchive) -> str:
    """Unpack the archive into ``code-<id>`` (skipped when present) and point ``code`` at it."""
    base = host.base_dir
    target = remote_join(base, f"code-{archive.code_id}")
    link = remote_join(base, "code")
    present = (
        _run(
            c, host, f"mkdir -p {q(base)} && if [ -d {q(target)} ]; then echo yes; else echo no; fi"
        ).stdout.strip()
        == "yes"
    )
    if not present:
        unique = f"{archive.code_id}.{uuid.uuid4().hex[:8]}"
        remote_tar = remote_join(base, f".code-{unique}.tar.gz")
        tmp = remote_join(base, f".code-{unique}.tmp")
        put(c, host, archive.path, remote_tar)
        _run(
            c,
            host,
            f"mkdir -p {q(tmp)} && tar -xzf {q(remote_tar)} -C {q(tmp)} && rm -f {q(remote_tar)} "
            f"&& {{ [ -d {q(target)} ] || mv {q(tmp)} {q(target)}; }} && rm -rf {q(tmp)}",
        )
    _run(c, host, f"ln -sfn {q('code-' + archive.code_id)} {q(link)}")
    return target


def push_if_changed(c: Remote, host: Host, local: Path, remote: str) -> bool:
    """Upload ``local`` unless the remote file has the same sha256; True when uploaded."""
    have = _run(c, host, f"sha256sum {q(remote)} 2>/dev/null || true").stdout.split()
    if have and have[0] == file_checksum(local):
        return False
    put(c, host, local, remote)
    return True


def runner_values(
    host: Host,
    setup_: SymbolSetup,
    *,
    groups_file: str,
    output_dir: str,
    data_file: str | None,
    news_file: str | None,
) -> dict[str, Any]:
    """The runner options of ``host`` (option name of
    :class:`backtest.runner.options.RunOptions` -> value; None or False: not given), in
    the table's order, with the given paths (the host's, or this machine's for
    ``deploy --dry-run``'s local check): the period and its dates, workers, charts,
    ``--strict-data`` unless ``strict_data: false``, ``--save-daily``, and the symbol's
    ``server_tz``, news file and execution settings when hosts.yaml sets them."""
    period = setup_.period(host.period)
    values = {
        "groups_file": groups_file,
        "data_file": data_file,
        "start_date": period.start_date,
        "end_date": period.end_date,
        "workers": host.workers,
        "output_dir": output_dir,
        "skip_charts": not host.charts,
        "save_daily": host.save_daily,
        "period": host.period,
        "news_file": news_file,
        "server_tz": setup_.server_tz,
        "strict_data": host.strict_data,
        "spread_model": setup_.spread_model,
        "spread_source": setup_.spread_source,
        "slippage": setup_.slippage,
    }
    return {row.name: values[row.name] for row in option_fields() if row.name in values}


def runner_command(
    host: Host,
    setup_: SymbolSetup,
    run_dir: str,
    data_remote: str | None,
    news_remote: str | None = None,
) -> str:
    """The runner's command line on the host, from the runner's own option table
    (:func:`backtest.runner.options.runner_arguments` of :func:`runner_values`), every
    word quoted; no environment values (those go through :func:`put_env_file`, never a
    command line)."""
    values = runner_values(
        host,
        setup_,
        groups_file=remote_join(run_dir, "groups_filtered.json"),
        output_dir=run_dir,
        data_file=data_remote,
        news_file=news_remote,
    )
    args = [host.remote_venv + "/bin/python", "-m", "backtest.run_parallel_backtest"]
    return " ".join(q(a) for a in args + runner_arguments(values))


def news_remote_path(host: Host, setup_: SymbolSetup) -> str | None:
    """Where deploy puts the symbol's news file on the host: ``BASE/data/news/NAME``."""
    if setup_.news_file is None:
        return None
    return remote_join(host.base_dir, f"data/news/{setup_.news_file.name}")


def put_text(
    c: Remote, host: Host, text: str, remote: str, shown: str | None = None, private: bool = False
) -> None:
    """Upload ``text`` as the file ``remote``. ``private``: the remote file is created
    with mode 600 before any byte is written into it. ``shown`` is what --dry-run
    prints instead of the content's temporary file."""
    if isinstance(c, DryRun):
        c.plan.append(f"put  {shown or 'generated file'} -> {remote}")
        return
    if private:
        _run(c, host, f"rm -f {q(remote)} && (umask 077 && : > {q(remote)})")
    fd, name = tempfile.mkstemp(prefix="ibsweep-", suffix=".txt")  # mode 600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        put(c, host, name, remote)
    finally:
        os.unlink(name)


def env_file_path(run_dir: str) -> str:
    """The runner's environment file (hosts.yaml ``env``); the launcher deletes it."""
    return remote_join(run_dir, ENV_FILE)


def put_env_file(c: Remote, host: Host, run_dir: str) -> str | None:
    """hosts.yaml ``env`` as a mode-600 file of ``export NAME='value'`` lines that the
    launcher reads and deletes, so that no value is ever on a command line (``ps``);
    --dry-run shows the names only. None when there is no ``env``."""
    if not host.env:
        return None
    remote = env_file_path(run_dir)
    text = "".join(f"export {k}={q(v)}\n" for k, v in host.env)
    masked = ", ".join(f"{k}=***" for k, _ in host.env)
    put_text(c, host, text, remote, shown=f"(environment: {masked})", private=True)
    return remote


def start_runner(
    c: Remote, host: Host, run_dir: str, command: str, env_file: str | None = None
) -> int | None:
    """Start the runner detached (nohup, all streams redirected, no pty); returns its pid.

    A small ``sh`` wrapper records the runner's exit code in ``runner.exit`` so that
    status can tell finished from dead; ``runner.pid`` is the runner itself, so that
    ``fab stop`` signals it and not the wrapper. ``env_file`` (see
    :func:`put_env_file`) is read by the wrapper and deleted before the runner starts.
    """
    pid_file, exit_file = remote_join(run_dir, "runner.pid"), remote_join(run_dir, "runner.exit")
    inner = f"{command} & echo $! > {q(pid_file)}; wait $!; echo $? > {q(exit_file)}"
    if env_file is not None:
        inner = f". {q(env_file)}; rm -f {q(env_file)}; {inner}"
    code = remote_join(host.base_dir, "code")
    log = remote_join(run_dir, "runner.out")
    cmd = (
        f"cd {q(code)} && rm -f {q(pid_file)} {q(exit_file)} "
        f"{q(remote_join(run_dir, 'stop.requested'))} && "
        f"{{ nohup sh -c {q(inner)} > {q(log)} 2>&1 < /dev/null & }} ; "
        f"for i in $(seq 100); do [ -s {q(pid_file)} ] && break; sleep 0.1; done; cat {q(pid_file)}"
    )
    res = _run(c, host, cmd)
    text = (res.stdout or "").strip()
    if not text.isdigit() and not isinstance(c, DryRun):
        raise FarmError(
            host.name, f"the runner did not start (no pid in {pid_file})", f"read {log} on the host"
        )
    return int(text) if text.isdigit() else None


def stop_runner(c: Remote, host: Host, status: dict) -> str:
    """SIGTERM the newest run's runner (it saves what finished) and wait ``stop_timeout``
    seconds until it exits; a runner still alive then (SIGSTOPped, or deep in a long
    group) is an error, never reported as stopped."""
    if status.get("state") != "running":
        return f"not running ({status.get('state')})"
    wait_s = host.stop_timeout
    run, pid = status["run"], int(status["pid"])
    marker, exit_file = remote_join(run, "stop.requested"), remote_join(run, "runner.exit")
    cmd = (
        f"touch {q(marker)} && kill -TERM {pid} 2>/dev/null; n=0; "
        f"while [ ! -e {q(exit_file)} ] && [ $n -lt {wait_s * 5} ]; "
        "do sleep 0.2; n=$((n+1)); done; "
        f"cat {q(exit_file)} 2>/dev/null || echo timeout"
    )
    res = _run(c, host, cmd, timeout=wait_s + 30)
    code = (res.stdout or "").strip()
    if code == "timeout":
        raise RunnerBusyError(
            host.name,
            f"the runner (pid {pid}) did not stop within {wait_s}s of SIGTERM "
            "(stopped with SIGSTOP, or still inside a long group)",
            f"fab status --host {host.name}; on the host: kill -CONT {pid} (if stopped) or wait, "
            f"or raise stop_timeout in hosts.yaml; then fab stop --host {host.name} again",
        )
    return f"stopped pid {pid} (exit {code})"


def deploy(
    c: Remote,
    host: Host,
    setup_: SymbolSetup,
    archive: CodeArchive,
    *,
    restart: bool = False,
    groups: Path | None = None,
    run_dir: str | None = None,
) -> str:
    """Push code, data and groups, filter to the host's range, start the runner detached.

    ``groups``/``run_dir`` (retry): a ready groups file started in ``run_dir`` as is,
    instead of the symbol's groups file filtered to ``host.range`` in the output dir.
    """
    check_ready(c, host)
    status = remote_status(c, host)
    if status.get("state") == "running":
        if not restart:
            raise RunnerBusyError(
                host.name,
                f"a runner (pid {status.get('pid')}) is still running in {status['run']}",
                f"fab status / fab stop --host {host.name}, "
                f"or fab deploy --restart --host {host.name}",
            )
        try:
            stop_runner(c, host, status)
        except RunnerBusyError as exc:  # starting now would be refused by its lock
            raise RunnerBusyError(host.name, exc.cause + "; not restarted", exc.fix) from None
    push_code(c, host, archive)
    target = run_dir or host.remote_out
    data_dir = remote_join(host.base_dir, f"data/{host.period}")
    news_remote = news_remote_path(host, setup_)
    news_dir = [posixpath.dirname(news_remote)] if news_remote else []
    _run(c, host, "mkdir -p " + " ".join(q(d) for d in [target, data_dir, *news_dir]))
    data_remote, data_sha = None, None
    data_local = setup_.data_path(host.period)
    if data_local is not None:
        data_remote, data_sha = remote_join(data_dir, data_local.name), file_checksum(data_local)
        push_if_changed(c, host, data_local, data_remote)
    news: dict[str, str] | None = None
    if setup_.news_file is not None and news_remote is not None:
        news = {"path": news_remote, "checksum": file_checksum(setup_.news_file)}
        push_if_changed(c, host, setup_.news_file, news_remote)
    source = "file" if data_remote else "sample"
    record = {
        "period": host.period,
        "code_id": archive.code_id,
        "data": {"source": source, "path": data_remote, "checksum": data_sha},
        "news": news,
    }
    shown = f"(deploy record: data {source}, code {archive.code_id})"
    put_text(c, host, json.dumps(record) + "\n", remote_join(target, DEPLOY_RECORD), shown)
    filtered = remote_join(target, "groups_filtered.json")
    if groups is not None:
        put(c, host, groups, filtered)
    else:
        assert setup_.groups_file is not None, "deploy's hosts are loaded with need_groups=True"
        full = remote_join(target, "groups.json")
        put(c, host, setup_.groups_file, full)
        code = remote_join(host.base_dir, "code")
        _run(
            c,
            host,
            f"cd {q(code)} && {q(host.remote_venv + '/bin/python')} "
            "-m backtest.runner.host_tools filter "
            f"--groups {q(full)} --range {q(host.range_text)} --out {q(filtered)}",
        )
    env_file = put_env_file(c, host, target)
    command = runner_command(host, setup_, target, data_remote, news_remote)
    pid = start_runner(c, host, target, command, env_file)
    return f"started pid {pid} in {target}"


def next_retry_dir(c: Remote, host: Host) -> str:
    """``OUT/retry-N`` with N one more than the highest existing."""
    out = host.remote_out
    res = _run(c, host, f"mkdir -p {q(out)} && cd {q(out)} && ls -d retry-* 2>/dev/null || true")
    nums = [int(n[6:]) for n in (res.stdout or "").split() if n[6:].isdigit()]
    return remote_join(out, f"retry-{max(nums, default=0) + 1}")


# ---------------------------------------------------------------- logs / collect


def tail_log(c: Remote, host: Host, lines: int, follow: bool) -> None:
    """Print (or follow) the newest run's log on stdout."""
    status = remote_status(c, host)
    if "log" not in status:
        raise NotReadyError(host.name, "nothing deployed yet", f"fab deploy --host {host.name}")
    flags = f"-n {int(lines)}" + (" -F" if follow else "")
    c.run(
        f"tail {flags} -- {q(status['log'])}",
        pty=False,
        hide=False,
        timeout=None if follow else host.command_timeout,
    )


def list_remote_files(c: Remote, host: Host) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime) of every file under the host's output directory.

    The listing is NUL-separated: a file name may hold any byte but NUL and ``/``
    (a newline too), and nothing in it can shift the fields.
    """
    out = host.remote_out
    res = _run(
        c,
        host,
        f"if [ -d {q(out)} ]; then cd {q(out)} && find . -type f -printf '%P\\0%s\\0%T@\\0'; fi",
    )
    fields = (res.stdout or "").split("\0")
    files = []
    for rel, size, mtime in zip(fields[0::3], fields[1::3], fields[2::3]):
        try:
            files.append((rel, int(size), int(float(mtime))))
        except ValueError:  # only a tampered find prints such fields
            files.append((rel, -1, 0))
    return files


def collectable(rel: str) -> bool:
    """A name the runner or fab writes: ``/``-separated parts of letters, digits, ``_ . -``
    (group ids follow that rule), never ``.`` or ``..``, and not the environment file."""
    parts = rel.split("/")
    return all(_FILE_PART.fullmatch(p) and p not in (".", "..") for p in parts) and (
        parts[-1] != ENV_FILE
    )


def check_parses(path: Path) -> None:
    """Raise ValueError when a downloaded result file does not parse."""
    suffix = path.suffix
    if suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".jsonl":  # append-only: a torn last line (written right now) is expected
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines, 1):
            if line.strip():
                try:
                    json.loads(line)
                except ValueError as exc:
                    if n < len(lines):
                        raise ValueError(f"line {n}: {exc}") from None
    elif suffix == ".csv":
        import pandas as pd

        pd.read_csv(path)
    elif suffix == ".png":  # by its header: a chart is never read whole
        with path.open("rb") as handle:
            if handle.read(8) != b"\x89PNG\r\n\x1a\n":
                raise ValueError("not a PNG")


def download(c: Remote, host: Host, local_dir: Path) -> dict:
    """Fetch the output directory file by file, skipping files already here and unchanged.

    Only :func:`collectable` names are fetched (the others are listed as ``ignored``),
    and only to paths that resolve inside ``local_dir``: a host cannot write anywhere
    else on this machine, whatever its listing says. hosts.yaml's caps bound what it can
    make this machine store: a file over ``collect_max_file_mb`` is not fetched (listed
    in ``too_big``, an older copy here removed); a host whose other files hold more than
    ``collect_max_host_mb`` fails before anything is fetched; both caps also bound the
    bytes as they come (a listing can lie, a file grow).
    """
    fetched, skipped, bad, ignored, too_big = [], [], [], [], []
    file_cap, host_cap = host.collect_max_file_mb * MB, host.collect_max_host_mb * MB
    root = local_dir.resolve()
    listing = list_remote_files(c, host)
    _drop_stale_manifests(local_dir, {rel for rel, _, _ in listing})
    wanted = []
    for rel, size, mtime in listing:
        if rel.endswith(".tmp"):  # an atomic write in progress: the next collect gets it
            continue
        if not collectable(rel) or size < 0:
            ignored.append(rel)
            continue
        local = local_dir / rel
        if not local.resolve().is_relative_to(root):
            bad.append(f"{rel}: refused, it resolves outside {root}")
        elif size > file_cap:
            too_big.append(_too_big(rel, local, size))
        else:
            wanted.append((rel, size, mtime, local))
    total = sum(size for _, size, _, _ in wanted)
    if total > host_cap:
        raise _host_cap_error(host, total)
    left = host_cap - total
    for rel, size, mtime, local in wanted:
        if local.exists() and local.stat().st_size == size and int(local.stat().st_mtime) == mtime:
            skipped.append(rel)
            continue
        local.parent.mkdir(parents=True, exist_ok=True)
        left += size  # its listed size was counted; now its real bytes are
        try:
            left -= get(c, host, remote_join(host.remote_out, rel), local, min(file_cap, left))
        except FileTooBig as exc:
            if exc.size <= file_cap:  # within the file cap: the host's total grew past its cap
                raise _host_cap_error(host, host_cap - left + exc.size) from None
            too_big.append(_too_big(rel, local, exc.size))
            continue
        os.utime(local, (mtime, mtime))
        fetched.append(rel)
        try:
            check_parses(local)
        except (ValueError, UnicodeDecodeError, OSError) as exc:
            bad.append(f"{rel}: {exc}")
    return {
        "fetched": fetched,
        "skipped": skipped,
        "bad": bad,
        "ignored": ignored,
        "too_big": too_big,
    }


def _too_big(rel: str, local: Path, size: int) -> str:
    """A file over the cap, as collect lists it; an older copy of it here goes (it would
    mix an old file into the new results)."""
    if local.is_file():
        local.unlink()
    return f"{rel} ({size / MB:,.1f} MB)"


def _host_cap_error(host: Host, total: int) -> FarmError:
    """The host's ``total`` bytes to collect pass its collect_max_host_mb."""
    return FarmError(
        host.name,
        f"its output holds {total / MB:,.1f} MB to collect, more than collect_max_host_mb "
        f"{host.collect_max_host_mb:,}; nothing more fetched",
        f"check {host.remote_out} on the host (a runaway or tampered run?), or raise "
        "collect_max_host_mb in hosts.yaml",
    )


def _drop_stale_manifests(local_dir: Path, remote: set[str]) -> None:
    """Remove the copy's result manifests that the host no longer has: the host is
    rewriting (or failed to write) those results, and an old manifest here must not
    commit a mix of old and new files (backtest.runner.outputs.commit_problem)."""
    if not local_dir.is_dir():
        return
    for manifest in local_dir.rglob(MANIFEST_GLOB):
        if manifest.relative_to(local_dir).as_posix() not in remote:
            manifest.unlink()


def split_evenly(items: list, parts: int) -> list[list]:
    """``items`` in ``parts`` contiguous chunks whose sizes differ by at most one."""
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        chunks.append(items[start:stop])
        start = stop
    return chunks
