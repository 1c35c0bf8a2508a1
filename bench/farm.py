"""Static host ranges against the Dask cluster, with one host slowed down, and the
cluster's overhead against the local pool on one machine.

Setup (``invoke bench --farm``; it needs no sshd): the "hosts" are processes of this
machine. A fast host has 3 worker processes, the slowed one 1 (hosts.yaml ``workers``);
each group costs its real sweep (256 combinations of the users' GER40 grid on 10 months
of the sample data) plus ``--group-seconds`` of emulated work on its worker (the runner's
``IBSWEEP_FAULT`` ``sleep``), which stands in for a bigger grid without taking CPU:
the box has 2 cores, and the question is how the work is spread, not how fast a core is.

- static ranges: two runners at once, as two hosts run their ranges (``range: 0:12`` with
  3 workers, ``12:24`` with 1); the makespan is the later one's end;
- Dask: one TLS cluster on 127.0.0.1 (:func:`farm.cluster.local_cluster`, cluster-up's
  settings) of the same 4 worker processes, the whole sweep through ``--scheduler-file``:
  cold (the cluster's first run: kernels and bars reach the workers) and warm;
- overhead: the users' 60 GER40 groups x 256 without emulated work, the local pool
  (2 workers) against a 2-process cluster (warm).

    python -m bench.farm [--groups 24] [--group-seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.full_sweep import groups_file
from farm.cluster import local_cluster

REPO = Path(__file__).resolve().parent.parent
SYMBOL = "GER40"
SPAN = ("--start-date", "2025-01-01", "--end-date", "2025-10-31")  # balancing: 10 months
FAST, SLOW = 3, 1  # worker processes of the fast and the slowed host


def _runner(groups: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "backtest.run_parallel_backtest",
        "--groups-file",
        str(groups),
        "--skip-charts",
        "--no-report",
        "--fresh",
        "--output-dir",
        str(out),
        *extra,
    ]


def _env(group_ids: list[str], seconds: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBSWEEP_")}
    if seconds > 0:
        env["IBSWEEP_FAULT"] = ",".join(f"{gid}:sleep={seconds}" for gid in group_ids)
    return env


def _timed(*commands: tuple[list[str], dict[str, str]]) -> float:
    """Start every command at once; seconds until the last one ended (each must succeed)."""
    started = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for cmd, env in commands
    ]
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{proc.args[-1]}: exit {proc.returncode}: {err.decode()[-800:]}")
    return time.perf_counter() - started


def _slice(source: Path, target: Path, start: int, stop: int) -> Path:
    """The groups a host's ``range: start:stop`` runs (what host_tools filter writes)."""
    doc = json.loads(source.read_text())
    target.write_text(json.dumps({**doc, "groups": doc["groups"][start:stop]}))
    return target


def balancing(tmp: Path, n_groups: int, seconds: float) -> dict[str, float]:
    """Makespans: static ranges (fast host 3 workers, slowed host 1) and the cluster."""
    full = groups_file(SYMBOL, tmp / "all.json")
    doc = json.loads(full.read_text())
    full.write_text(json.dumps({**doc, "groups": doc["groups"][:n_groups]}))
    ids = [g["group_id"] for g in doc["groups"][:n_groups]]
    half = n_groups // 2
    fast = _slice(full, tmp / "fast.json", 0, half)
    slow = _slice(full, tmp / "slow.json", half, n_groups)
    static = _timed(
        (_runner(fast, tmp / "out_fast", *SPAN, "--workers", str(FAST)), _env(ids[:half], seconds)),
        (_runner(slow, tmp / "out_slow", *SPAN, "--workers", str(SLOW)), _env(ids[half:], seconds)),
    )
    with local_cluster(tmp / "tls4", FAST + SLOW) as scheduler_file:
        cluster = (*SPAN, "--scheduler-file", str(scheduler_file))
        cold = _timed((_runner(full, tmp / "out_dask", *cluster), _env(ids, seconds)))
        warm = _timed((_runner(full, tmp / "out_dask", *cluster), _env(ids, seconds)))
    ideal = n_groups * seconds / (FAST + SLOW)
    return {"static": static, "cold": cold, "warm": warm, "ideal": ideal}


def overhead(tmp: Path) -> dict[str, float]:
    """The users' 60 GER40 groups: the local pool (2 workers) and a warm 2-process cluster."""
    groups = groups_file(SYMBOL, tmp / "users.json")
    local = _timed((_runner(groups, tmp / "out_local", "--workers", "2"), _env([], 0)))
    with local_cluster(tmp / "tls2", 2) as scheduler_file:
        cluster = ("--scheduler-file", str(scheduler_file))
        _timed((_runner(groups, tmp / "out_warmup", *cluster), _env([], 0)))
        dask = _timed((_runner(groups, tmp / "out_dask2", *cluster), _env([], 0)))
    return {"local": local, "dask": dask, "groups": 60}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=24)
    parser.add_argument("--group-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    subprocess.run(  # the sample data, generated on first use: not timed
        [
            sys.executable,
            "-c",
            "from backtest.data.loaders import resolve_data_file;"
            f"resolve_data_file('{SYMBOL}', 'in_sample', None)",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory(prefix="ibsweep-farm-bench-") as folder:
        tmp = Path(folder)
        spread = balancing(tmp, args.groups, args.group_seconds)
        cost = overhead(tmp)
    n = args.groups
    print(
        f"Balancing: {n} groups x 256 combinations (GER40 sample data, {SPAN[1]}..{SPAN[3]}) + "
        f"{args.group_seconds} s emulated work each; fast host {FAST} worker processes, "
        f"slowed host {SLOW}\n"
    )
    print("| run | makespan (s) | vs static |")
    print("|---|---|---|")
    rows = [
        (f"static ranges ({n // 2} + {n - n // 2} groups)", spread["static"]),
        ("Dask cluster, cold (first run)", spread["cold"]),
        ("Dask cluster, warm", spread["warm"]),
        (f"lower bound: {n} x {args.group_seconds} s / {FAST + SLOW} processes", spread["ideal"]),
    ]
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {spread['static'] / seconds:.2f}x |")
    per_group = (cost["dask"] - cost["local"]) / cost["groups"]
    print(
        f"\nOverhead on one machine: the users' {cost['groups']} GER40 groups x 256, "
        "2 worker processes, no emulated work\n"
    )
    print("| run | seconds (end to end) |")
    print("|---|---|")
    print(f"| local pool (--workers 2) | {cost['local']:.1f} |")
    print(f"| Dask cluster (2 processes, warm) | {cost['dask']:.1f} |")
    print(f"| difference per group | {per_group * 1000:+.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
