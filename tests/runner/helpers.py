"""Shared pieces of the runner tests: a tiny deterministic dataset and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SYMBOL = "GER40"
GROUP_IDS = ("group_GER40_001", "group_GER40_002")
START, END = "2024-01-08", "2024-01-19"
# Per-run metadata that legitimately differs between two runs of the same input.
RUN_TIME_KEYS = ("start_time", "end_time", "host", "workers")


def write_bars(path: Path, start: str, end: str, seed: int = 7) -> Path:
    """Synthetic GER40 M1 bars of the local dates start..end, as Parquet."""
    from backtest.data.sample import generate_bars, write_parquet

    write_parquet(generate_bars(SYMBOL, start, end, seed), path)
    return path


def write_groups(path: Path, group_ids: tuple[str, ...] = GROUP_IDS) -> Path:
    """Groups of 2 × 4 = 8 combinations each, differing in ib_end."""
    ib_ends = ["10:00", "09:30", "10:30", "11:00"]
    groups = [
        {
            "group_id": gid,
            "params": {"ib_end": ib_ends[i]},
            "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [0.5, 1.0, 1.5, 2.0]},
        }
        for i, gid in enumerate(group_ids)
    ]
    path.write_text(json.dumps({"symbol": SYMBOL, "groups": groups}))
    return path


def runner_command(*args: Any) -> list[str]:
    return [sys.executable, "-m", "backtest.run_parallel_backtest", *map(str, args)]


def runner_env(fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IBSWEEP_FAULT", "IBSWEEP_CONFIG")}
    if fault:
        env["IBSWEEP_FAULT"] = fault
    return env


def run_cli(
    *args: Any,
    fault: str | None = None,
    timeout: float = 90,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess:
    """The runner as a real process (cwd = the repository); ``preexec_fn`` runs in the
    child before the runner starts (e.g. a resource limit)."""
    return subprocess.run(
        runner_command(*args),
        cwd=REPO,
        env=runner_env(fault),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def run_args(bars: Path, groups: Path, out: Path, *extra: Any) -> list[Any]:
    return [
        "--groups-file",
        groups,
        "--data-file",
        bars,
        "--start-date",
        START,
        "--end-date",
        END,
        "--workers",
        2,
        "--output-dir",
        out,
        *extra,
    ]


def run_options(bars: Path, groups: Path, out: Path) -> dict[str, Any]:
    """:func:`run_args` as ``run_backtest``'s options: one worker, no charts."""
    return {
        "groups_file": groups,
        "data_file": bars,
        "start_date": START,
        "end_date": END,
        "workers": 1,
        "output_dir": out,
        "skip_charts": True,
    }


def checkpoint_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "checkpoint.jsonl").read_text().splitlines()]


def full_results(out: Path) -> dict[str, Any]:
    return json.loads((out / f"results_full_{SYMBOL}.json").read_text())


def without_run_time(full: dict[str, Any]) -> dict[str, Any]:
    """The full results minus what differs between runs of the same input."""
    meta = {k: v for k, v in full["metadata"].items() if k not in RUN_TIME_KEYS}
    groups = [{k: v for k, v in g.items() if k != "elapsed_s"} for g in full["groups"]]
    return {"metadata": meta, "groups": groups}


def summary_bytes(out: Path) -> bytes:
    return (out / f"results_summary_{SYMBOL}.csv").read_bytes()


def combos_bytes(out: Path) -> bytes:
    return (out / f"results_combos_{SYMBOL}.csv").read_bytes()


def copy_run(source: Path, target: Path) -> Path:
    """A copy of a finished run's output directory (to resume or refuse it)."""
    import shutil

    shutil.copytree(source, target)
    return target
