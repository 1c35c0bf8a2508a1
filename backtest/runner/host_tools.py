"""Small commands run ON a farm host, so that each fab task needs one remote command.

    python -m backtest.runner.host_tools filter --groups G.json --range 0:30 --out OUT.json
    python -m backtest.runner.host_tools status --dir OUT

``status`` prints one JSON object: the runner's state (running; finished, exit 0 or 1
= some groups failed; stopped by fab stop; refused, exit 2 = bad input; crashed,
exit 3 = the run itself failed; dead; not started), groups done/total, last finished
group, ETA, failed groups so far, the data the run uses (source, checksum), load
average and free memory, and whether the kernel log shows an OOM kill.
Run files (written by fab deploy): ``runner.pid``, ``runner.exit``, ``runner.out``,
``stop.requested``, ``groups_filtered.json``, ``farm_deploy.json``; a retry runs in
``OUT/retry-N``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backtest.runner.exit_codes import ALL_OK, BAD_INPUT, CRASHED, GROUPS_FAILED
from backtest.runner.rundir import (
    CHECKPOINT_FILE,
    MANIFEST_GLOB,
    RUN_LOG,
    manifest_symbol,
    result_paths,
)

PROGRESS = re.compile(r"\[(\d+)/(\d+)\]\s+(\S+?):\s*(.*)$")
ETA = re.compile(r"ETA:\s*([\d.]+)\s*(min|s|h)")
OOM = re.compile(r"(out of memory|oom-kill|killed process)", re.IGNORECASE)
RUNNER_MODULE = "run_parallel_backtest"
FINISHED_EXITS = (ALL_OK, GROUPS_FAILED)
DEPLOY_RECORD = "farm_deploy.json"  # fab deploy: the data file (or sample) and its checksum
EXIT_WAIT_STEPS = 40  # x 50 ms: how long a just-ended runner's wrapper gets to write its code
_RANGE = re.compile(r"^\s*(-?\d*)\s*:\s*(-?\d*)\s*$")


def parse_range(
    text: Any, where: str = "--range", error: type[Exception] = ValueError
) -> tuple[int | None, int | None]:
    """``"0:30"`` → ``(0, 30)``; ``":30"`` → ``(None, 30)`` (an empty or ``-`` end: open);
    anything else ``error`` naming ``where``. The hosts file's ranges (farm.hosts) and the
    host's ``filter --range`` read them alike."""
    match = _RANGE.match(str(text)) if isinstance(text, (str, int)) else None
    if not match:
        raise error(f"{where}: range must look like '0:30' (start:stop), got {text!r}")
    start, stop = (int(v) if v not in ("", "-") else None for v in match.groups())
    return start, stop


def cmd_filter(groups: Path, range_text: str, out: Path) -> int:
    """Write the slice ``range_text`` of the groups file to ``out`` (groups-file format)."""
    from backtest.runner.groups import load_groups_file, select_range, write_groups_file

    start, stop = parse_range(range_text)
    groups_file = load_groups_file(groups)
    chosen = select_range(groups_file, start, stop).groups
    write_groups_file(out, groups_file.symbol, [g.raw for g in chosen])
    print(
        json.dumps(
            {
                "groups": len(chosen),
                "first": chosen[0].group_id if chosen else None,
                "last": chosen[-1].group_id if chosen else None,
            }
        )
    )
    return 0


def current_run(out: Path) -> Path:
    """The newest started run in ``out`` (itself or a ``retry-N``), by its pid file's mtime."""
    runs = [(0, out)] + [(int(p.name[6:]), p) for p in out.glob("retry-*") if p.name[6:].isdigit()]
    started = [
        ((p / "runner.pid").stat().st_mtime_ns, n, p)
        for n, p in runs
        if (p / "runner.pid").exists()
    ]
    return max(started)[2] if started else out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs and is the backtest runner (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = _read(Path(f"/proc/{pid}/cmdline"))
    if cmdline is None:
        return True
    state = _read(Path(f"/proc/{pid}/stat")) or ""
    zombie = state.rpartition(")")[2].split()[:1] == ["Z"]
    return RUNNER_MODULE in cmdline and not zombie


def last_line(path: Path) -> str | None:
    """The runner's own word on why it stopped: its last ``error:`` line (stderr, unbuffered,
    may land before the last log lines of stdout), else the last line."""
    lines = [ln for ln in (_read(path) or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines)[-1] if lines else None


def group_ids(path: Path) -> list[str]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    groups = raw.get("groups", []) if isinstance(raw, dict) else raw
    return [
        g["group_id"] for g in groups if isinstance(g, dict) and isinstance(g.get("group_id"), str)
    ]


def progress(run: Path) -> dict:
    """Done/failed groups from the checkpoint (JSONL) and the log's progress lines."""
    done: dict[str, str] = {}
    last, eta_min = None, None
    for ckpt in sorted(run.glob("*.jsonl")):
        for line in (_read(ckpt) or "").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("group_id"):
                done[rec["group_id"]] = str(rec.get("status", "ok"))
                last = rec["group_id"]
    for log in (run / RUN_LOG, run / "runner.out"):
        for line in (_read(log) or "").splitlines():
            m = PROGRESS.search(line)
            if not m:
                continue
            gid, rest = m.group(3), m.group(4)
            done.setdefault(gid, "failed" if "fail" in rest.lower() else "ok")
            last = gid
            e = ETA.search(rest)
            if e:
                value = float(e.group(1))
                eta_min = value * {"min": 1.0, "s": 1 / 60, "h": 60.0}[e.group(2)]
        if done:
            break
    return {"done_ids": done, "last_group": last, "eta_min": eta_min}


def committed(run: Path) -> bool:
    """The run committed its result files (a manifest that matches them): only then did
    it finish; exit code 0 or 1 alone may come from a crash outside the runner's edge."""
    from backtest.runner.outputs import commit_problem

    symbols = [manifest_symbol(p) for p in run.glob(MANIFEST_GLOB)]
    return bool(symbols) and all(commit_problem(run, s) is None for s in symbols)


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _header(run: Path) -> dict:
    """The checkpoint's first line (the runner's header), if readable."""
    try:
        with open(run / CHECKPOINT_FILE, encoding="utf-8") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return {}
    return first if isinstance(first, dict) and first.get("kind") == "header" else {}


def run_data(run: Path) -> dict:
    """The data a run uses: ``source`` (file or sample), ``checksum``, ``path``.

    The runner's own word wins: its results' ``metadata.data``, else its checkpoint
    header's ``data_checksum``; before the runner wrote either, what fab deploy gave it
    (``farm_deploy.json``). Read on the host by ``status`` and locally by ``fab collect``.
    """
    data: dict[str, str | None] = {"source": None, "checksum": None, "path": None}
    deployed = _json(run / DEPLOY_RECORD).get("data")
    if isinstance(deployed, dict):
        data.update({k: deployed.get(k) for k in data})
    checksum = _header(run).get("data_checksum")
    if isinstance(checksum, str):
        data["checksum"] = checksum
    for manifest in sorted(run.glob(MANIFEST_GLOB)):
        meta = _json(result_paths(run, manifest_symbol(manifest))["full"]).get("metadata")
        reported = meta.get("data") if isinstance(meta, dict) else None
        if isinstance(reported, dict):
            data.update({k: reported[k] for k in data if isinstance(reported.get(k), str)})
    return data


def kernel_oom(pid: int | None) -> bool | None:
    """Whether the kernel log shows an OOM kill (of ``pid`` if given); None if unreadable."""
    for cmd in (["dmesg"], ["journalctl", "-k", "--no-pager", "-q", "-n", "2000"]):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if res.returncode != 0:
            continue
        lines = [ln for ln in res.stdout.splitlines() if OOM.search(ln)]
        if pid is not None and any(f"process {pid} " in ln or f"pid={pid}" in ln for ln in lines):
            return True
        return any("python" in ln for ln in lines)
    return None


def machine() -> dict:
    load = os.getloadavg()
    mem = {}
    for line in (_read(Path("/proc/meminfo")) or "").splitlines():
        key, _, value = line.partition(":")
        mem[key] = int(value.split()[0]) if value.split() else 0
    return {
        "load": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
        "mem_free_mb": mem.get("MemAvailable", mem.get("MemFree", 0)) // 1024,
    }


def status(out: Path) -> dict:
    """The state of the newest run in ``out`` as a JSON-able dict."""
    run = current_run(out)
    pid_text = _read(run / "runner.pid")
    pid = int(pid_text) if pid_text and pid_text.isdigit() else None
    alive = pid is not None and pid_alive(pid)
    exit_text = _read(run / "runner.exit")
    for _ in range(EXIT_WAIT_STEPS if pid is not None and not alive else 0):
        if exit_text is not None:
            break
        time.sleep(0.05)  # the runner has just ended: its wrapper is writing runner.exit
        exit_text = _read(run / "runner.exit")
    ids = group_ids(run / "groups_filtered.json")
    prog = progress(run)
    done = {g: s for g, s in prog["done_ids"].items() if not ids or g in ids}
    failed = sorted(g for g, s in done.items() if s != "ok")
    exit_code = int(exit_text) if exit_text and exit_text.lstrip("-").isdigit() else None
    if pid is None:
        state = "not started"
    elif alive:
        state = "running"
    elif exit_code in FINISHED_EXITS and committed(run):
        state = "finished"
    elif (run / "stop.requested").exists():
        state = "stopped"
    elif exit_code == BAD_INPUT:
        state = "refused"
    elif exit_code == CRASHED or exit_code in FINISHED_EXITS:
        state = "crashed"  # 3, or Python's 1 for an error before the runner's edge
    else:
        state = "dead"
    info = {
        "dir": str(out),
        "run": str(run),
        "state": state,
        "pid": pid,
        "exit": exit_code,
        "error": last_line(run / "runner.out") if state in ("refused", "crashed") else None,
        "done": len(done),
        "total": len(ids),
        "failed": failed,
        "last_group": prog["last_group"],
        "eta_min": prog["eta_min"] if state == "running" else None,
        "log": str(run / RUN_LOG) if (run / RUN_LOG).exists() else str(run / "runner.out"),
        "oom": kernel_oom(pid) if state == "dead" else None,
        "data": run_data(run),
    }
    info.update(machine())
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backtest.runner.host_tools", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("filter", help="write a slice of a groups file")
    f.add_argument("--groups", required=True, type=Path)
    f.add_argument("--range", required=True, dest="range_text")
    f.add_argument("--out", required=True, type=Path)
    s = sub.add_parser("status", help="print the run's state as JSON")
    s.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "filter":
        try:
            return cmd_filter(args.groups, args.range_text, args.out)
        except (ValueError, OSError) as exc:
            print(f"host_tools filter: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(status(args.dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
