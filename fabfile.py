"""fab tasks: run the sweep on the SSH hosts of hosts.yaml (see docs/FARM.md).

    fab setup | deploy | status | logs --host H | collect | stop | retry | trust --host H
    fab cluster-up | cluster-status | cluster-down | cluster-dashboard   (the Dask cluster)

Every task takes --hosts-file (default: $IBSWEEP_HOSTS, else ./hosts.yaml). A host that
fails never stops the others; the table at the end says what happened on each, and the
exit code is non-zero when any host failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import Exit, task

from farm import flows
from farm.errors import FarmError, HostsFileError
from farm.hosts import HOSTS_ENV, Farm, load_hosts
from farm.report import FarmResult, outcome_rows, table

HOSTS_HELP = f"hosts file (default: ${HOSTS_ENV}, else hosts.yaml)"
HOST_HELP = "only these hosts (names or addresses, comma-separated)"
SYMBOL_HELP = "only the hosts of this symbol"
PERIOD_HELP = "in_sample or control (default: hosts.yaml period)"


def _error(exc: Exception) -> str:
    """``error: `` before each line (a dry run refused for several hosts: one line each)."""
    return "\n".join(f"error: {line}" for line in str(exc).splitlines())


def _farm(hosts_file: str | None, need_groups: bool = False) -> Farm:
    try:
        farm = load_hosts(hosts_file, need_groups=need_groups)
    except HostsFileError as exc:
        raise Exit(f"error: {exc}", code=2) from None
    for note in farm.notes:
        print(f"warning: {note}", file=sys.stderr)
    return farm


def _hosts(
    farm: Farm, host: str | None = None, symbol: str | None = None, period: str | None = None
):
    if period not in (None, "in_sample", "control"):
        raise Exit(f"error: --period must be in_sample or control, got {period!r}", code=2)
    try:
        return flows.select(farm, host, symbol, period)
    except HostsFileError as exc:
        raise Exit(f"error: {exc}", code=2) from None


def _finish(result: FarmResult, what: str) -> None:
    print(table(outcome_rows(result), ["host", "address", "symbol", "range", "result"]))
    if result.failed:
        raise Exit(f"{what}: {len(result.failed)} of {len(result.outcomes)} host(s) failed", code=1)


def _print_plan(result: FarmResult) -> None:
    for o in result.outcomes:
        print(
            f"== {o.host.name} "
            f"({o.host.user or '(ssh config user)'}@{o.host.address}:{o.host.port}) "
            f"{o.host.symbol} {o.host.range_text}"
        )
        plan = o.value[0] if isinstance(o.value, tuple) else o.value
        for line in plan or []:
            print(f"   {line}")
    print("(dry run: nothing was connected to)")


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "hosts_file": HOSTS_HELP,
        "dry_run": "print the commands without connecting",
    },
)
def setup(c, host=None, symbol=None, hosts_file=None, dry_run=False):
    """Make bare Ubuntu hosts ready: base dir, venv with requirements, Python >= 3.11 check."""
    farm = _farm(hosts_file)
    result = flows.setup_hosts(farm, _hosts(farm, host, symbol), dry_run=dry_run)
    if dry_run:
        return _print_plan(result)
    _finish(result, "setup")


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
        "restart": "stop a runner that is still alive and start again "
        "(resumes the same output dir)",
        "dry_run": "connect to nothing: check each host's runner options here (the "
        "runner's own checks, exit 2 if one would refuse), print every command and transfer",
    },
)
def deploy(c, symbol=None, host=None, period=None, dry_run=False, restart=False, hosts_file=None):
    """Push code and groups, filter to each host's range, start the runner detached."""
    farm = _farm(hosts_file, need_groups=True)
    try:
        result = flows.deploy_hosts(
            farm, _hosts(farm, host, symbol, period), restart=restart, dry_run=dry_run
        )
    except HostsFileError as exc:  # a data file missing; with --dry-run, a runner refusal
        raise Exit(_error(exc), code=2) from None
    if dry_run:
        return _print_plan(result)
    _finish(result, "deploy")


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
    },
)
def status(c, host=None, symbol=None, period=None, hosts_file=None):
    """One table: runner state, groups done/total, last group, ETA, failed, load, free memory."""
    farm = _farm(hosts_file)
    result = flows.status_hosts(farm, _hosts(farm, host, symbol, period))
    print(
        table(
            flows.status_rows(result),
            [
                "host",
                "symbol",
                "range",
                "state",
                "done",
                "last",
                "eta",
                "failed",
                "load",
                "mem_free",
                "data",
            ],
        )
    )
    for line in flows.status_notes(result):
        print(line)
    problems = flows.status_problems(result)
    for line in problems:
        print(line)
    if problems:
        raise Exit(code=1)


@task(
    auto_shortflags=False,
    help={
        "host": "the host whose log to show (required)",
        "follow": "keep printing new lines (Ctrl-C ends)",
        "lines": "how many last lines (default 50)",
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
    },
)
def logs(c, host, follow=False, lines=50, period=None, hosts_file=None):
    """Print the last lines of a host's runner log (--follow to keep watching)."""
    from farm import steps
    from farm.report import run_one

    farm = _farm(hosts_file)
    chosen = _hosts(farm, host, None, period)
    if len(chosen) != 1:
        raise Exit("error: --host must name exactly one host", code=2)
    outcome = run_one(chosen[0], lambda cn, h: steps.tail_log(cn, h, int(lines), follow))
    if not outcome.ok:
        raise Exit(outcome.error, code=1)


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
        "dest": "local directory (default backtest/output/farm)",
        "force": "merge results made with different data checksums or code versions",
    },
)
def collect(c, symbol=None, host=None, period=None, dest=None, force=False, hosts_file=None):
    """Download each host's output (unchanged files skipped), merge per symbol, list what's left."""
    from backtest.analysis.merge import MergeError

    farm = _farm(hosts_file, need_groups=True)
    hosts = _hosts(farm, host, symbol, period)
    try:
        reports = flows.collect(farm, hosts, Path(dest) if dest else flows.DEFAULT_DEST, force)
    except MergeError as exc:
        raise Exit(f"error: merge refused: {exc}", code=1) from None
    failed = _print_collect(reports)
    if failed:
        raise Exit(code=1)


def _print_collect(reports) -> bool:
    failed = False
    for r in reports:
        rows = []
        if not r.downloads.outcomes:  # retry --dry-run
            print(
                f"{r.symbol}: nothing downloaded (dry run): "
                "planning from the copies a collect left in --dest"
            )
        for o in r.downloads.outcomes:
            v = o.value or {}
            data = [flows.data_label(d) for d in r.data.get(o.host.name, [])]
            rows.append(
                {
                    "host": o.host.name,
                    "symbol": r.symbol,
                    "data": ", ".join(d for d in data if d) or None,
                    "result": f"{len(v['fetched'])} fetched, {len(v['skipped'])} unchanged"
                    if o.ok
                    else "FAILED: " + (o.error or ""),
                }
            )
            if v.get("ignored"):
                shown = ", ".join(repr(name) for name in v["ignored"][:5])
                print(
                    f"{o.host.name}: ignored {len(v['ignored'])} file(s) with names the runner "
                    f"never writes: {shown}"
                )
        if rows:
            print(table(rows, ["host", "symbol", "data", "result"]))
        failed |= bool(r.downloads.failed)
        for where, ids in r.salvaged.items():
            print(
                f"{where}: runner did not finish; "
                f"saved {len(ids)} finished groups from its checkpoint"
            )
        for note in r.notes:
            print(note)
            failed = True
        if r.merge is None:
            continue
        print("\n".join(r.merge.summary_lines()))
        if r.rerun_command:
            print(f"re-run them on the hosts: fab retry --symbol {r.symbol}")
            print(f"or locally: {r.rerun_command}")
            failed = True
    return failed


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
    },
)
def stop(c, host=None, symbol=None, period=None, hosts_file=None):
    """Stop runners gracefully (SIGTERM): they save the groups they finished, then exit."""
    farm = _farm(hosts_file)
    _finish(flows.stop_hosts(farm, _hosts(farm, host, symbol, period)), "stop")


@task(
    auto_shortflags=False,
    help={
        "host": HOST_HELP,
        "symbol": SYMBOL_HELP,
        "period": PERIOD_HELP,
        "hosts_file": HOSTS_HELP,
        "dest": "local directory (default backtest/output/farm)",
        "force": "as for collect",
        "dry_run": "connect to nothing: plan from the last collect's copies in --dest, "
        "print the commands",
    },
)
def retry(
    c, symbol=None, host=None, period=None, dest=None, force=False, dry_run=False, hosts_file=None
):
    """Collect, then run only the failed and missing groups, spread over the symbol's idle hosts."""
    from backtest.analysis.merge import MergeError

    farm = _farm(hosts_file, need_groups=True)
    hosts = _hosts(farm, host, symbol, period)
    try:
        reports, result = flows.retry(
            farm, hosts, Path(dest) if dest else flows.DEFAULT_DEST, force, dry_run
        )
    except HostsFileError as exc:
        raise Exit(f"error: {exc}", code=2) from None
    except MergeError as exc:
        raise Exit(f"error: merge refused: {exc}", code=1) from None
    _print_collect(reports)
    if not any(r.left for r in reports):
        if any(r.merge is None for r in reports):
            raise Exit(
                "nothing to retry from: no results yet"
                + (
                    " in --dest (run fab collect first)"
                    if dry_run
                    else "; fix: fab deploy, or wait until the runners wrote results (fab status)"
                ),
                code=1,
            )
        print("nothing to retry: every group of the groups file has a result")
        return
    if dry_run:
        return _print_plan(result)
    _finish(result, "retry")


@task(
    auto_shortflags=False,
    help={
        "host": "the host to trust (required)",
        "yes": "record without asking",
        "hosts_file": HOSTS_HELP,
    },
)
def trust(c, host, yes=False, hosts_file=None):
    """Show a host's SSH key fingerprint and record it in the project known_hosts on request."""
    farm = _farm(hosts_file)
    try:
        ask = input if sys.stdin.isatty() else None
        ok = flows.trust(farm, host, yes, ask=ask)
    except HostsFileError as exc:
        raise Exit(f"error: {exc}", code=2) from None
    except FarmError as exc:
        raise Exit(f"error: {exc}", code=1) from None
    except OSError as exc:
        raise Exit(f"{host}: cannot reach it to read its key: {exc}", code=1) from None
    if not ok:
        raise Exit(code=1)


# ---------------------------------------------------------------- the Dask cluster


def _cluster_farm(hosts_file: str | None) -> Farm:
    from farm.cluster import require_cluster

    farm = _farm(hosts_file)
    try:
        require_cluster(farm)
    except HostsFileError as exc:
        raise Exit(f"error: {exc}", code=2) from None
    return farm


@task(
    auto_shortflags=False,
    name="cluster-up",
    help={
        "hosts_file": HOSTS_HELP,
        "dry_run": "print every command and transfer per host without connecting",
    },
)
def cluster_up(c, hosts_file=None, dry_run=False):
    """Start the Dask cluster of hosts.yaml's cluster: section (TLS; scheduler, then workers)."""
    from farm import cluster

    farm = _cluster_farm(hosts_file)
    try:
        up = cluster.cluster_up(farm, dry_run=dry_run)
    except FarmError as exc:
        raise Exit(f"error: {exc}", code=1) from None
    if dry_run:
        return _print_plan(up.result)
    print(table(cluster.outcome_rows(up.result), ["host", "address", "result"]))
    print(f"scheduler {up.address}: {sum(up.joined.values())} worker processes connected")
    if up.result.failed:
        raise Exit(f"cluster-up: {len(up.result.failed)} host(s) failed", code=1)
    print(f"run on it: invoke backtest --groups-file G.json --scheduler-file {up.scheduler_file}")


@task(auto_shortflags=False, name="cluster-status", help={"hosts_file": HOSTS_HELP})
def cluster_status(c, hosts_file=None):
    """Each host's scheduler/worker services, and each worker's memory and tasks."""
    from farm import cluster

    farm = _cluster_farm(hosts_file)
    result, info, error = cluster.cluster_status(farm)
    rows = cluster.status_rows(farm, result, info)
    print(table(rows, ["host", "scheduler", "workers", "connected", "wanted", "result"]))
    if info is None:
        raise Exit(f"scheduler: cannot connect: {error}", code=1)
    workers = cluster.worker_rows(info)
    print(table(workers, ["worker", "host", "threads", "memory", "limit", "executing", "stored"]))
    print(
        f"scheduler {info.get('address')}: {len(workers)} workers, "
        f"{info.get('total_threads')} threads, {info['processing']} tasks processing"
    )
    if cluster.status_problems(rows):
        raise Exit(code=1)


@task(auto_shortflags=False, name="cluster-down", help={"hosts_file": HOSTS_HELP})
def cluster_down(c, hosts_file=None):
    """Stop the cluster's workers, then its scheduler; nothing they started is left running."""
    from farm import cluster

    result = cluster.cluster_down(_cluster_farm(hosts_file))
    print(table(cluster.outcome_rows(result), ["host", "address", "result"]))
    if result.failed:
        raise Exit(f"cluster-down: {len(result.failed)} host(s) failed", code=1)


@task(
    auto_shortflags=False,
    name="cluster-dashboard",
    help={
        "hosts_file": HOSTS_HELP,
        "local_port": "port on this machine's 127.0.0.1 (default 8787)",
    },
)
def cluster_dashboard(c, hosts_file=None, local_port=8787):
    """An SSH tunnel to the scheduler's dashboard on 127.0.0.1:PORT until Ctrl-C."""
    from farm import cluster

    farm = _cluster_farm(hosts_file)
    try:
        cluster.forward_dashboard(farm, int(local_port), lambda url: print(url, flush=True))
    except KeyboardInterrupt:
        print("tunnel closed")
    except FarmError as exc:
        raise Exit(f"error: {exc}", code=1) from None
