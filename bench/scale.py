"""A million combinations through the runner: time, memory of all processes, bytes on disk.

The workload of issue 12: 3 years of GER40 M1 sample data (the in-sample period), 2
workers, charts and report off, 10^6 combinations in 100 groups of 10,000 (20 IB windows
× 5 ``trade_end`` as groups; ``sl_mult`` 20 × ``tp_mult`` 25 × ``entry_buffer`` 5 ×
``direction`` 2 × ``max_trades_per_day`` 2 inside each). ``--combinations 10000000``
widens ``sl_mult`` to 200 values: 100 groups of 100,000.

Printed: end-to-end seconds (the runner's process, start-up and writing included), the
peak of the summed
PSS of the runner and all its workers (sampled every 0.5 s from /proc), bytes on disk per
combination (everything in OUT: results, checkpoint, parts), and the rate against the
kernel's (:func:`kernel_rates`: the same groups' work in one process). ``--interrupt`` sends
SIGINT once half of the groups are in the checkpoint, then resumes and checks that no
finished group runs again.

    python -m bench.scale [--combinations 1000000] [--workers 2] [--interrupt] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STARTS = ("07:00", "07:30", "08:00", "08:30", "09:00")
WINDOWS = [(s, e) for s in STARTS for e in ("09:30", "10:00", "10:30", "11:00")]
TRADE_END = ["15:00", "16:00", "17:00", "17:30", "18:00"]


def grid(combinations: int) -> dict[str, list[Any]]:
    """The grid inside each group (10,000 combinations); sl_mult widened ×10 for 10^7."""
    sl_count = 20 if combinations <= 1_000_000 else 200
    return {
        "sl_mult": [round(0.3 + 0.05 * i, 4) for i in range(sl_count)],
        "tp_mult": [round(0.25 * i, 4) for i in range(25)],
        "entry_buffer": [0.0, 0.05, 0.1, 0.15, 0.2],
        "direction": ["both", "long"],
        "max_trades_per_day": [1, 2],
    }


def groups_file(path: Path, combinations: int) -> int:
    """Write the workload's groups file; its number of combinations. Below 10^6 the
    first ``combinations / 10,000`` groups of the 10^6 workload (10^5: 10 groups)."""
    inner = grid(combinations)
    groups = [
        {
            "group_id": f"scale_{n:03d}",
            "params": {"ib_start": s, "ib_end": e, "trade_end": t, "close_time": "22:00"},
            "grid": inner,
        }
        for n, ((s, e), t) in enumerate((w, t) for w in WINDOWS for t in TRADE_END)
    ][: max(1, combinations // 10_000)]
    path.write_text(json.dumps({"symbol": "GER40", "groups": groups}))
    per_group = 1
    for values in inner.values():
        per_group *= len(values)
    return per_group * len(groups)


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the kernel's ``/proc/PID/task/TID/children`` lists)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return out


class PeakMemory(threading.Thread):
    """The peak over time of the summed PSS of a process tree (bytes)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, 1024 * sum(_pss_kib(p) for p in _tree(self.pid)))


def run(
    groups: Path,
    out: Path,
    workers: int,
    interrupt_at: int | None,
    report: bool = False,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The runner once (until done, or SIGINT once ``interrupt_at`` groups are finished);
    ``report``: the default command (the HTML report written), else ``--no-report``;
    ``extra``: more runner options (e.g. the dates). Each
    line of its output comes with the second it arrived (the phases)."""
    command = [
        sys.executable,
        "-m",
        "backtest.run_parallel_backtest",
        "--groups-file",
        str(groups),
        "--output-dir",
        str(out),
        "--workers",
        str(workers),
        "--skip-charts",
        *([] if report else ["--no-report"]),
        "--max-combinations",
        "100000000",
        *extra,
    ]
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    memory = PeakMemory(proc.pid)
    memory.start()
    lines: list[str] = []
    arrived: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        finished, sent = 0, False
        for raw in proc.stdout:
            lines.append(raw.decode(errors="replace").rstrip())
            arrived.append(time.perf_counter() - started)
            finished += "INFO - [" in lines[-1]
            if interrupt_at is not None and finished >= interrupt_at and not sent:
                proc.send_signal(signal.SIGINT)
                sent = True

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = proc.wait()
    reader.join()
    memory.stop.set()
    memory.join()
    first = next((x for x in lines if "INFO - [" in x), None)
    return {
        "code": code,
        "seconds": time.perf_counter() - started,
        "arrived": arrived,
        "cpu_seconds": _children_cpu() - cpu,
        "peak_bytes": memory.peak,
        "groups_run": sum("INFO - [" in x for x in lines),
        "lines": lines,
        "first_group_line": first,
    }


def _children_cpu() -> float:
    """CPU seconds of the waited-for child processes (and theirs) so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


KERNEL_GROUPS = 10  # groups of the workload the kernel's reference runs (evenly spread)
KERNEL_PER_GROUP = 10_000  # combinations of each of them (the first ones)


def kernel_rate(combinations: int) -> float:
    """Combinations per second of the engine alone: :func:`kernel_rates`' wall-clock rate."""
    return kernel_rates(combinations)[0]


def kernel_rates(combinations: int) -> tuple[float, float]:
    """Combinations per second of wall clock and per CPU-second of the engine alone (run +
    compiled scoring, ``score_batch``, one warm process), on the runner's work: up to
    ``KERNEL_GROUPS`` groups of the workload spread evenly over it (every group at 10^5),
    the first ``KERNEL_PER_GROUP`` combinations of each, in the runner's batches, with the
    runner's setting (no excursions: nothing keeps trades) and every group's shared tables
    built first (the runner builds them before its workers start). Groups differ in cost
    (a later ``trade_end`` scans more bars): one group alone is not the runner's mix."""
    code = (
        "import time, json, sys, itertools\n"
        "from backtest.core.settings import RunSettings\n"
        "from backtest.data.loaders import load_period_bars\n"
        "from backtest.engines.run import score_batch\n"
        "from backtest.engines.sweep import prepare_sweep, warm_up\n"
        "from backtest.runner.group_run import SCORE_BATCH\n"
        "from backtest.runner.groups import iter_group, load_groups_file\n"
        "bars = load_period_bars('GER40', 'in_sample').between('2023-01-01', '2025-10-31')\n"
        "groups = load_groups_file(sys.argv[1], expand=False).groups\n"
        "n, k, per = len(groups), min(len(groups), int(sys.argv[2])), int(sys.argv[3])\n"
        "picked = [groups[round(i * (n - 1) / max(k - 1, 1))] for i in range(k)]\n"
        "work = [list(itertools.islice(iter_group(g), per)) for g in picked]\n"
        "settings = RunSettings()\n"
        "warm_up(); prepare_sweep(bars, [w[0] for w in work], settings)\n"
        "score_batch(bars, work[0][:64], settings, excursions=False)\n"
        "t, cpu = time.perf_counter(), time.process_time()\n"
        "for combos in work:\n"
        "    for at in range(0, len(combos), SCORE_BATCH):\n"
        "        score_batch(bars, combos[at : at + SCORE_BATCH], settings, excursions=False)\n"
        "wall, cpu = time.perf_counter() - t, time.process_time() - cpu\n"
        "total = sum(len(w) for w in work)\n"
        "print(json.dumps([total / wall, total / cpu]))\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.json"
        groups_file(path, combinations)
        result = subprocess.run(
            [sys.executable, "-c", code, str(path), str(KERNEL_GROUPS), str(KERNEL_PER_GROUP)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    wall, cpu = json.loads(result.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu)


def phases(log: Path) -> dict[str, float]:
    """Seconds of each phase of the last run in ``run.log``: start-up (up to the kernels
    being ready, the scan and the data load included), groups, writing the results."""
    import datetime as dt

    def at(line: str) -> dt.datetime:
        return dt.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")

    lines = log.read_text().splitlines()
    ready = max(i for i, x in enumerate(lines) if "sweep kernels ready" in x)
    groups = [x for x in lines[ready:] if "INFO - [" in x]
    done = next(x for x in lines[ready:] if " - INFO - done: " in x)
    return {
        "groups": (at(groups[-1]) - at(lines[ready])).total_seconds() if groups else 0.0,
        "writing": (at(done) - at(groups[-1] if groups else lines[ready])).total_seconds(),
    }


def arrival_phases(result: dict[str, Any]) -> dict[str, float]:
    """Seconds of each phase of a run, from when its lines arrived: start-up (process start,
    imports, the groups scan, the data load, the kernels ready and the shared tables
    built), groups (to the last group's line), writing the results (to the closing
    ``done:`` line) and what follows (the HTML report, when written)."""
    lines, arrived = result["lines"], result["arrived"]
    ready = max(i for i, x in enumerate(lines) if "sweep kernels ready" in x)
    grouped = [i for i, x in enumerate(lines) if "INFO - [" in x and i > ready]
    done = next(i for i, x in enumerate(lines) if " - INFO - done: " in x and i > ready)
    last = grouped[-1] if grouped else ready
    return {
        "start-up": arrived[ready],
        "groups": arrived[last] - arrived[ready],
        "writing": arrived[done] - arrived[last],
        "report": result["seconds"] - arrived[done],
    }


def measure(
    combinations: int,
    workers: int,
    report: bool = True,
    then: Callable[[Path], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One run of the workload through the runner (the default command: report included,
    charts off), its phases, peak memory, bytes on disk, and the kernel's rate on the same
    grid in the same minutes; ``then``: what else is measured on the run's folder (after
    the kernel's rate, before the folder is removed), under ``"then"``."""
    with tempfile.TemporaryDirectory(prefix="ibsweep-runner-") as tmp:
        groups = Path(tmp) / "groups.json"
        total = groups_file(groups, combinations)
        result = run(groups, Path(tmp) / "out", workers, None, report)
        if result["code"] != 0:
            raise SystemExit("the run failed:\n" + "\n".join(result["lines"][-20:]))
        size = disk_bytes(Path(tmp) / "out")
        wall_rate, cpu_rate = kernel_rates(combinations)
        load = os.getloadavg()[0]
        more = then(Path(tmp) / "out") if then else {}
    return {
        "then": more,
        "combinations": total,
        "workers": workers,
        "seconds": result["seconds"],
        "phases": arrival_phases(result),
        "peak_bytes": result["peak_bytes"],
        "disk_bytes": size,
        "cpu_seconds": result["cpu_seconds"],
        "kernel_rate": wall_rate,
        "kernel_cpu_rate": cpu_rate,
        "load": load,
    }


RUNNER_HEAD = [
    "| combinations | workers | seconds | start-up s | groups s | writing s | report s | "
    "comb/s/core | kernel comb/s/core | runner ÷ kernel | comb per CPU-s | kernel per CPU-s "
    "| runner ÷ kernel (CPU) | peak MiB (PSS) | B/comb on disk | load |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def runner_row(m: dict[str, Any]) -> str:
    """A markdown row of :func:`measure`."""
    per_core = m["combinations"] / m["seconds"] / m["workers"]
    per_cpu = m["combinations"] / m["cpu_seconds"]
    p = m["phases"]
    return (
        f"| {m['combinations']:,} | {m['workers']} | {m['seconds']:.1f} | "
        f"{p['start-up']:.1f} | {p['groups']:.1f} | {p['writing']:.1f} | {p['report']:.1f} | "
        f"{per_core:,.0f} | {m['kernel_rate']:,.0f} | {per_core / m['kernel_rate']:.0%} | "
        f"{per_cpu:,.0f} | {m['kernel_cpu_rate']:,.0f} | {per_cpu / m['kernel_cpu_rate']:.0%} | "
        f"{m['peak_bytes'] / 2**20:,.0f} | {m['disk_bytes'] / m['combinations']:.0f} | "
        f"{m['load']:.1f} |"
    )


def disk_bytes(out: Path) -> int:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--combinations", type=int, default=1_000_000, choices=(10**4, 10**5, 10**6, 10**7)
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interrupt", action="store_true")
    parser.add_argument("--keep", help="keep the output folder here")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, load {load:.2f} at start, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ibsweep-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    groups = work / "groups.json"
    total = groups_file(groups, args.combinations)
    n_groups = len(WINDOWS) * len(TRADE_END)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    rate = kernel_rate(args.combinations)
    runs = []
    if args.interrupt:
        runs.append(("interrupted at half", run(groups, out, args.workers, n_groups // 2)))
    runs.append(("resumed" if args.interrupt else "run", run(groups, out, args.workers, None)))
    print(f"\n{total:,} combinations in {n_groups} groups, {args.workers} workers, charts off\n")
    print("| run | exit | seconds | groups run | peak memory, all processes (PSS) MiB |")
    print("|---|---|---|---|---|")
    for name, r in runs:
        print(
            f"| {name} | {r['code']} | {r['seconds']:.1f} | {r['groups_run']} | "
            f"{r['peak_bytes'] / 2**20:,.0f} |"
        )
    last = runs[-1][1]
    if last["code"] != 0:
        print("\n".join(last["lines"][-20:]))
        raise SystemExit("the run failed")
    if args.interrupt:
        already = next((x for x in last["lines"] if "already finished" in x), "")
        print(f"\nresume: {already.split(' - ')[-1]}")
        print(f"groups computed: {runs[0][1]['groups_run']} + {last['groups_run']} = {n_groups}")
    size = disk_bytes(out)
    seconds = sum(r["seconds"] for _, r in runs)
    per_core = total / seconds / args.workers
    print(f"\non disk: {size / 2**20:,.1f} MiB in {out}, {size / total:.0f} bytes per combination")
    for path in sorted(out.iterdir()):
        bytes_ = disk_bytes(path) if path.is_dir() else path.stat().st_size
        print(f"  {path.name}: {bytes_ / 2**20:,.1f} MiB")
    print(
        f"rate: {total / seconds:,.0f} combinations/s end to end ({per_core:,.0f}/s/core); "
        f"kernel alone (run + scoring, one process) {rate:,.0f}/s/core: "
        f"{per_core / rate:.0%} of it"
    )
    if not args.interrupt:
        spent = arrival_phases(last)
        grouped = total / max(spent["groups"], 1e-9) / args.workers
        print(
            f"phases: start-up {spent['start-up']:.1f} s (scan, data, kernels), groups "
            f"{spent['groups']:.1f} s ({grouped:,.0f}/s/core: {grouped / rate:.0%} of the "
            f"kernel's rate), writing the results {spent['writing']:.1f} s"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
