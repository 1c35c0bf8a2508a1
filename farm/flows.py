"""What each fab task does, as library calls (fabfile.py only parses options and prints).

Every flow runs its step on every selected host (one failing never stops the
others) and returns the per-host outcomes; the caller prints the table and exits
non-zero when a host failed.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from farm import steps
from farm.connect import (
    fetch_host_key,
    fingerprint,
    host_key_name,
    known_key,
    record_host_key,
    recorded_keys,
    user_known_hosts,
)
from farm.errors import FarmError, HostsFileError, explain, oom_fix
from farm.hosts import Farm, Host
from farm.report import FarmResult, HostOutcome, run_each
from farm.salvage import needs_salvage, salvage

DEFAULT_DEST = steps.REPO_ROOT / "backtest" / "output" / "farm"


def select(
    farm: Farm, host: str | None = None, symbol: str | None = None, period: str | None = None
) -> list[Host]:
    """The chosen hosts, with ``--period`` applied (it picks the run and its output dir)."""
    hosts = farm.select(host, symbol)
    return [dataclasses.replace(h, period=period) for h in hosts] if period else hosts


# ---------------------------------------------------------------- setup / deploy / stop


def setup_hosts(
    farm: Farm,
    hosts: list[Host],
    dry_run: bool = False,
    requirements: Path = steps.REPO_ROOT / "requirements.txt",
) -> FarmResult:
    return run_each(hosts, lambda c, h: steps.setup(c, h, requirements), dry_run=dry_run)


def deploy_hosts(
    farm: Farm, hosts: list[Host], *, restart: bool = False, dry_run: bool = False
) -> FarmResult:
    """Push code + groups and start each host's runner detached (see :func:`farm.steps.deploy`).

    ``dry_run``: connects to nothing; first puts each host's exact runner options through
    the runner's own checks here (:func:`farm.preflight.check_runner_options`: a
    RunnerRefusedError naming each host whose runner would refuse them), then records
    every command and transfer."""
    check_data_files(farm, hosts)
    checked: dict[str, list[str]] = {}
    if dry_run:
        from farm.preflight import check_runner_options

        checked = check_runner_options(farm, hosts)
    with tempfile.TemporaryDirectory(prefix="ibsweep-code-") as tmp:
        archive = steps.build_code_archive(Path(tmp))

        def step(c: Any, h: Host) -> str:
            if isinstance(c, steps.DryRun):
                c.plan += checked.get(h.name, [])
            return steps.deploy(c, h, farm.symbols[h.symbol], archive, restart=restart)

        return run_each(hosts, step, dry_run=dry_run)


def check_data_files(farm: Farm, hosts: list[Host]) -> None:
    """Every host's period has a local data file that exists, or its symbol allows sample
    data, and the symbol's news file (if any) exists; else HostsFileError before anything
    connects (deploy, retry)."""
    for h in hosts:
        setup_ = farm.symbols[h.symbol]
        news = setup_.news_file
        if news is not None and not news.is_file():
            raise HostsFileError(f"{farm.path}: symbols.{h.symbol}.news_file: {news} not found")
        data = setup_.data_path(h.period)
        where = f"{farm.path}: symbols.{h.symbol}.{h.period}.data_file"
        if data is None and not setup_.allow_sample:
            raise HostsFileError(
                f"{where}: missing; a farm run needs real data for period {h.period}, and "
                "would otherwise run on built-in sample data (a random walk); fix: set it, "
                f"or allow_sample: true under symbols.{h.symbol} for a trial run"
            )
        if data is not None and not data.is_file():
            raise HostsFileError(f"{where}: {data} not found (period {h.period})")


def stop_hosts(farm: Farm, hosts: list[Host]) -> FarmResult:
    return run_each(hosts, lambda c, h: steps.stop_runner(c, h, steps.remote_status(c, h)))


# ---------------------------------------------------------------- status


def status_hosts(farm: Farm, hosts: list[Host]) -> FarmResult:
    return run_each(hosts, steps.remote_status)


def status_problem(host: Host, st: dict[str, Any]) -> str | None:
    """The one-line problem of a host's status, if its runner died or refused its input."""
    if st.get("state") == "refused":
        return (
            f"{host.name}: runner refused to start (exit 2): {st.get('error')}; "
            f"fix: correct the input (fab logs --host {host.name}), "
            f"then fab deploy --host {host.name}"
        )
    if st.get("state") == "crashed":
        reason = str(st.get("error")).removeprefix("error: ").removeprefix("the run crashed: ")
        return (
            f"{host.name}: crashed (exit {st.get('exit')}: {reason}) after {st.get('done')}/"
            f"{st.get('total')} groups; fix: fab logs --host {host.name} (the traceback is in "
            f"run.log), fix the cause (e.g. free disk space), then fab deploy --host {host.name} "
            "(it resumes)"
        )
    if st.get("state") != "dead":
        return None
    if st.get("oom"):
        return oom_fix(host.name, host.workers)
    kernel = (
        "no OOM kill in the kernel log" if st.get("oom") is False else "kernel log not readable"
    )
    return (
        f"{host.name}: runner died (exit {st.get('exit')}, {kernel}) "
        f"after {st.get('done')}/{st.get('total')} groups; "
        f"fix: fab logs --host {host.name}, then fab collect and fab retry"
    )


def status_notes(result: FarmResult) -> list[str]:
    """Runs that finished with failed groups: what failed and what to do (not an error: exit 0)."""
    return [
        f"{o.host.name}: finished, {len(o.value['failed'])} group(s) failed: "
        f"{', '.join(o.value['failed'])}; fix: fab collect, then fab retry --symbol {o.host.symbol}"
        for o in result.succeeded.values()
        if o.value.get("state") == "finished" and o.value.get("failed")
    ]


def data_label(data: dict[str, Any] | None) -> str | None:
    """``file 1a2b3c4d5e6f`` / ``sample 9f8e7d6c5b4a``: a run's data source and checksum."""
    if not data or not data.get("source"):
        return None
    checksum = data.get("checksum")
    return f"{data['source']} {checksum[:12] if checksum else '(checksum not known yet)'}"


def status_rows(result: FarmResult) -> list[dict[str, Any]]:
    rows = []
    for o in result.outcomes:
        h = o.host
        row: dict[str, Any] = {"host": h.name, "symbol": h.symbol, "range": h.range_text}
        if not o.ok:
            row["state"] = "UNREACHABLE"
        else:
            st = o.value
            load = st.get("load")
            row.update(
                {
                    "state": st.get("state"),
                    "done": f"{st['done']}/{st['total']}" if "done" in st else None,
                    "last": st.get("last_group"),
                    "eta": f"{st['eta_min']:.1f}min" if st.get("eta_min") is not None else None,
                    "failed": len(st["failed"]) if "failed" in st else None,
                    "load": f"{load[0]:.2f}/{st.get('cpus')}cpu" if load else None,
                    "mem_free": f"{st['mem_free_mb']}MB" if "mem_free_mb" in st else None,
                    "data": data_label(st.get("data")),
                }
            )
        rows.append(row)
    return rows


def status_problems(result: FarmResult) -> list[str]:
    """Unreachable hosts and dead runners, one line each (non-empty → exit non-zero)."""
    lines = [o.error or "" for o in result.failed.values()]
    lines += [p for o in result.succeeded.values() if (p := status_problem(o.host, o.value))]
    return lines


# ---------------------------------------------------------------- collect / retry


@dataclass
class SymbolCollect:
    """One symbol's collect: downloads per host, the merge and what is left to run."""

    symbol: str
    period: str
    downloads: FarmResult
    merged_dir: Path | None = None
    merge: Any = None  # backtest.analysis.merge.MergeReport
    rerun_command: str | None = None
    salvaged: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # host -> runs' data

    @property
    def left(self) -> list[str]:
        if self.merge is None:
            return []
        return self.merge.missing + [g for g in self.merge.failed if g not in self.merge.missing]


def _run_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    retries = sorted(
        (p for p in root.glob("retry-*") if p.name[6:].isdigit()), key=lambda p: int(p.name[6:])
    )
    return [root] + retries


def _host_inputs(symbol: str, base: Path, h: Host) -> tuple[list[Path], dict[str, list[str]]]:
    """One host copy's result dirs: committed results (checked), or what its checkpoint
    holds (salvaged into ``salvaged/``). Raises ResultsError for results not to trust."""
    from backtest.runner.outputs import commit_problem, read_results

    dirs, salvaged = [], {}
    root = base / "hosts" / h.name
    for run in _run_dirs(root):
        if needs_salvage(run, symbol):
            rel = run.relative_to(root)
            target = base / "salvaged" / h.name / rel
            label = h.name if run == root else f"{h.name}/{rel}"
            salvaged[label] = salvage(run, target, symbol, h.name)
            dirs.append(target)
        elif commit_problem(run, symbol) is None:
            read_results(run, symbol, checkpoint_fallback=False, combos=False)  # checked first
            dirs.append(run)
    return dirs, salvaged


def merge_inputs(
    symbol: str, base: Path, hosts: list[Host]
) -> tuple[list[Path], dict[str, list[str]], dict[str, str]]:
    """Result dirs to merge per host copy (salvaging checkpoints of runners that died),
    and the hosts left out because their results cannot be trusted, with the reason."""
    from backtest.runner.outputs import ResultsError

    dirs: list[Path] = []
    salvaged: dict[str, list[str]] = {}
    refused: dict[str, str] = {}
    for h in hosts:
        try:
            host_dirs, host_salvaged = _host_inputs(symbol, base, h)
        except ResultsError as exc:
            refused[h.name] = " ".join(str(exc).split())
            continue
        dirs += host_dirs
        salvaged.update(host_salvaged)
    return dirs, salvaged, refused


def host_data(base: Path, h: Host) -> list[dict[str, Any]]:
    """The data each run of a host copy used (source, checksum, path), distinct."""
    from backtest.runner.host_tools import run_data

    found = [run_data(run) for run in _run_dirs(base / "hosts" / h.name)]
    return [d for i, d in enumerate(found) if d not in found[:i]]


def rerun_data_file(farm: Farm, symbol: str, period: str) -> str:
    """``--data-file`` for the local re-run command: the local file hosts.yaml names for
    the symbol and period (the hosts' own path does not exist here); "" for none."""
    local = farm.symbols[symbol].data_path(period)
    return str(local) if local is not None else ""


def rerun_command(farm: Farm, symbol: str, period: str, merge: Any) -> str | None:
    """The local command that runs the missing and failed groups as the hosts ran them
    (their execution settings are in the merged metadata): hosts.yaml's local data and
    news files, the hosts' copies not existing here (``merge`` is a
    backtest.analysis.merge.MergeReport)."""
    setup_ = farm.symbols[symbol]
    if setup_.news_file is not None:
        merge = dataclasses.replace(
            merge, metadata={**merge.metadata, "news_file": str(setup_.news_file)}
        )
    return merge.rerun_groups(data_file=rerun_data_file(farm, symbol, period))


def _download_step(hosts_dir: Path) -> Callable[[Any, Host], dict]:
    """The collect step: download a host's output into ``hosts_dir/<host name>``."""

    def step(c: Any, h: Host) -> dict:
        return steps.download(c, h, hosts_dir / h.name)

    return step


def _download_problems(host: Host, value: dict[str, list[str]]) -> list[str]:
    """What a download that ran left undone, each with its fix."""
    problems = []
    if value["bad"]:
        problems.append(
            f"files that do not parse: {'; '.join(value['bad'])}; fix: fab collect again"
        )
    if value["too_big"]:
        problems.append(
            f"files over collect_max_file_mb {host.collect_max_file_mb:,} not fetched: "
            f"{'; '.join(value['too_big'])}; fix: inspect them on the host, or raise "
            "collect_max_file_mb in hosts.yaml"
        )
    return problems


def collect(
    farm: Farm,
    hosts: list[Host],
    dest: Path = DEFAULT_DEST,
    force: bool = False,
    download: bool = True,
) -> list[SymbolCollect]:
    """Download every host's output, merge per symbol (backtest.analysis.merge), list what is left.

    ``download=False`` merges the copies already in ``dest`` without connecting (retry --dry-run).
    """
    from backtest.analysis.merge import MergeError, merge_dirs

    out = []
    for symbol in dict.fromkeys(h.symbol for h in hosts):
        mine = [h for h in hosts if h.symbol == symbol]
        period = mine[0].period
        base = Path(dest) / f"{symbol}_{period}"
        downloads = run_each(mine, _download_step(base / "hosts")) if download else FarmResult([])
        report = SymbolCollect(symbol, period, downloads)
        report.data = {h.name: host_data(base, h) for h in mine}
        dirs, report.salvaged, refused = merge_inputs(symbol, base, mine)
        for o in downloads.outcomes:
            problems = _download_problems(o.host, o.value) if o.ok else []
            if problems:
                o.error = f"{o.host.name}: " + "; ".join(problems)
            if o.host.name in refused and o.value is not None:  # downloaded, but not trusted
                o.error = (
                    f"{o.host.name}: results not merged, they cannot be trusted: "
                    f"{refused[o.host.name]}; fix: inspect the host's output dir, then "
                    f"fab retry --symbol {symbol}"
                )
        if not downloads.outcomes:  # retry --dry-run: nothing downloaded, say it anyway
            report.notes += [f"{name}: results not merged: {why}" for name, why in refused.items()]
        if not dirs:
            report.notes.append(f"{symbol}: no results on any host yet")
            out.append(report)
            continue
        report.merged_dir = base / "merged"
        groups_file = farm.symbols[symbol].groups_file
        try:
            report.merge = merge_dirs(
                dirs, report.merged_dir, symbol=symbol, groups_file=groups_file, force=force
            )
        except MergeError as exc:  # e.g. parts run on different data: this symbol only
            report.notes.append(f"{symbol}: merge refused: {exc}")
            out.append(report)
            continue
        if report.left:
            report.rerun_command = rerun_command(farm, symbol, period, report.merge)
        out.append(report)
    return out


def retry(
    farm: Farm,
    hosts: list[Host],
    dest: Path = DEFAULT_DEST,
    force: bool = False,
    dry_run: bool = False,
) -> tuple[list[SymbolCollect], FarmResult]:
    """Collect, then run the missing and failed groups on the symbol's idle hosts, split evenly.

    ``dry_run``: connects to nothing; plans from the last collect's copies in ``dest`` over
    all the symbol's hosts (their runner states are not checked) and prints the commands.
    """
    check_data_files(farm, hosts)
    collected = collect(farm, hosts, dest, force, download=not dry_run)
    outcomes: list[HostOutcome] = []
    with tempfile.TemporaryDirectory(prefix="ibsweep-retry-") as tmp:
        archive = steps.build_code_archive(Path(tmp))
        for sc in collected:
            if not sc.left:
                continue
            mine = [h for h in hosts if h.symbol == sc.symbol]
            states = (
                FarmResult([HostOutcome(h, {"state": "not checked (dry run)"}) for h in mine])
                if dry_run
                else status_hosts(farm, mine)
            )
            idle = [o.host for o in states.succeeded.values() if o.value.get("state") != "running"]
            busy = [o for o in states.succeeded.values() if o.host not in idle]
            running = {
                g for o in busy for g in _running_groups(Path(dest) / f"{sc.symbol}_{sc.period}", o)
            }
            outcomes += [HostOutcome(o.host, error=o.error) for o in states.failed.values()]
            outcomes += [
                HostOutcome(
                    o.host,
                    value=f"busy (runner {o.value.get('pid')} running): its groups are left to it",
                )
                for o in busy
            ]
            left = [g for g in sc.left if g not in running]
            if not idle or not left:
                continue
            shares = dict(zip((h.name for h in idle), steps.split_evenly(left, len(idle))))
            files = {
                name: _share_file(Path(tmp), sc, name, ids) for name, ids in shares.items() if ids
            }
            step = _retry_step(farm, archive, files, shares)
            outcomes += run_each(
                [h for h in idle if h.name in files], step, dry_run=dry_run
            ).outcomes
    return collected, FarmResult(outcomes)


def _running_groups(base: Path, outcome: HostOutcome) -> list[str]:
    """Group ids of a busy host's current run, from the copy collect just downloaded."""
    from backtest.runner.host_tools import group_ids

    rel = str(outcome.value.get("run", ""))[len(outcome.host.remote_out) :].lstrip("/")
    if rel and not re.fullmatch(r"retry-\d+", rel):  # a host's word never picks a local path
        return []
    return group_ids(base / "hosts" / outcome.host.name / rel / "groups_filtered.json")


def _share_file(tmp: Path, sc: SymbolCollect, host: str, ids: list[str]) -> Path:
    from backtest.runner.groups import write_groups_file

    path = tmp / f"retry_{sc.symbol}_{host}.json"
    write_groups_file(path, sc.symbol, [sc.merge.raw_groups[g] for g in ids])
    return path


def _retry_step(
    farm: Farm, archive: steps.CodeArchive, files: dict[str, Path], shares: dict[str, list[str]]
) -> Callable[[Any, Host], str]:
    def step(c: Any, h: Host) -> str:
        run_dir = steps.next_retry_dir(c, h)
        started = steps.deploy(
            c, h, farm.symbols[h.symbol], archive, groups=files[h.name], run_dir=run_dir
        )
        return f"{len(shares[h.name])} groups: {started}"

    return step


# ---------------------------------------------------------------- trust


def trust(
    farm: Farm,
    name: str,
    yes: bool,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] | None = None,
) -> bool:
    """Show the host's key fingerprint and record it in the project known_hosts on request."""
    hosts = farm.select(name)
    if len(hosts) != 1:
        raise HostsFileError(f"{farm.path}: fab trust takes exactly one host, got '{name}'")
    (host,) = hosts
    try:
        key = fetch_host_key(host)
    except (
        OSError,
        paramiko.SSHException,
    ) as exc:  # down, refused, silent: the same one line as the others
        line = explain(
            host.name, host.address, host.port, exc, "(none: trust reads the key before login)"
        )
        raise FarmError(host.name, line.removeprefix(f"{host.name}: ")) from None
    fp = fingerprint(key)
    say(f"{host.name} ({host.address}:{host.port}) presents {key.get_name()} key {fp}")
    recorded = recorded_keys(host, key.get_name())
    user_file = user_known_hosts()
    stale = [k for f, k in recorded if f == user_file and k.asbytes() != key.asbytes()]
    if stale:  # read first by every connection: recording in the project file cannot help
        name = host_key_name(host)
        raise FarmError(
            host.name,
            f"{user_file} has a DIFFERENT {key.get_name()} key for {name}: "
            f"{fingerprint(stale[0])}, which every connection checks first "
            f"(the host presents {fp}); nothing recorded",
            f"only if the VM was reinstalled (compare {fp} with its admin): "
            f"ssh-keygen -R {shlex.quote(name)} -f {shlex.quote(str(user_file))}, "
            f"then fab trust --host {host.name}",
        )
    if recorded and recorded[0][1].asbytes() == key.asbytes():
        say(f"{host.name}: already trusted (known_hosts has this key)")
        return True
    if recorded:
        say(
            f"WARNING: {host.known_hosts} has a DIFFERENT key for {host.name}: "
            f"{fingerprint(recorded[0][1])}; only replace it if the VM was reinstalled"
        )
    if not yes:
        if ask is None:
            raise FarmError(
                host.name,
                "fingerprint not recorded",
                f"compare it with the VM's (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the VM), "
                f"then fab trust --host {host.name} --yes",
            )
        if ask(
            f"Record {fp} for {host.name} in {host.known_hosts}? [y/N] "
        ).strip().lower() not in ("y", "yes"):
            say("not recorded")
            return False
    path = record_host_key(host, key)
    checked = known_key(host, key.get_name())
    if checked is None or checked.asbytes() != key.asbytes():
        raise FarmError(
            host.name, f"recorded {fp} in {path}, but connections still see another key"
        )
    say(f"{host.name}: recorded {fp} in {path}")
    return True


__all__ = [
    "select",
    "setup_hosts",
    "deploy_hosts",
    "stop_hosts",
    "status_hosts",
    "status_rows",
    "status_notes",
    "status_problems",
    "collect",
    "retry",
    "trust",
]
