"""Robust-selection benchmark: walk-forward against a plain sweep, and PBO at scale.

1. The users' full GER40 sweep (60 groups × 256 combinations, bench.full_sweep's grid) on
   the built-in sample data, 2023-01-01..2025-10-31: a plain run of the runner, then
   ``invoke walk-forward`` on the same grid with 12 windows (10M train, 2M test), both as
   processes, both from a fresh output folder; prints wall times and the ratio (target < 2).
2. PBO (S = 16, 12,870 splits) on a random float32 matrix of 736 days × 100,000
   combinations in this process: seconds and peak RSS (target < 60 s, < 2 GiB).

    python -m bench.robust [--workers 2] [--pbo-trials 100000] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.full_sweep import groups_file

REPO = Path(__file__).resolve().parent.parent


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def sweep_vs_walk_forward(workers: str) -> None:
    invoke = str(Path(sys.executable).parent / "invoke")
    with tempfile.TemporaryDirectory(prefix="ibsweep-robust-") as tmp:
        groups = str(groups_file("GER40", Path(tmp) / "groups_GER40.json"))
        common = ["--groups-file", groups, "--workers", workers]
        # untimed warm-up: sample data generated, kernels compiled into numba's cache
        _timed(
            [
                sys.executable,
                "-m",
                "backtest.run_parallel_backtest",
                *common,
                "--skip-charts",
                "--no-report",
                "--output-dir",
                f"{tmp}/warm",
                "--end-date",
                "2023-01-31",
            ]
        )
        plain = _timed(
            [
                sys.executable,
                "-m",
                "backtest.run_parallel_backtest",
                *common,
                "--skip-charts",
                "--no-report",
                "--output-dir",
                f"{tmp}/plain",
            ]
        )
        walk = _timed(
            [
                invoke,
                "walk-forward",
                *common,
                "--train",
                "10M",
                "--test",
                "2M",
                "--output-dir",
                f"{tmp}/wf",
            ]
        )
        walk_only = _timed(
            [
                invoke,
                "walk-forward",
                *common,
                "--train",
                "10M",
                "--test",
                "2M",
                "--no-robustness",
                "--output-dir",
                f"{tmp}/wf2",
            ]
        )
    print("| run (GER40, 60 groups × 256 = 15,360 combinations, 736 days) | seconds |")
    print("|---|---|")
    print(f"| plain sweep (runner, charts skipped) | {plain:.1f} |")
    print(f"| walk-forward, 12 windows, no robustness | {walk_only:.1f} |")
    print(
        f"| walk-forward, 12 windows, + robustness (PBO, DSR, stability, bootstrap) | {walk:.1f} |"
    )
    print(
        f"\nwalk-forward / plain sweep: {walk_only / plain:.2f}× (target < 2×); "
        f"with robustness {walk / plain:.2f}×"
    )


def pbo_at_scale(trials: int, days: int = 736) -> None:
    from backtest.analysis.overfitting import pbo_cscv

    daily = np.random.default_rng(0).normal(0.0, 1.0, (days, trials)).astype(np.float32)
    start = time.perf_counter()
    result = pbo_cscv(daily, 16, "sharpe")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nPBO, S=16 ({result.n_splits} splits), {days} days × {trials:,} combinations "
        f"(float32 input): {seconds:.1f} s, peak RSS {peak:,.0f} MiB (input "
        f"{daily.nbytes / 2**20:,.0f} MiB); PBO of pure noise = {result.pbo:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2")
    parser.add_argument("--pbo-trials", type=int, default=100_000)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_sweep:
        sweep_vs_walk_forward(args.workers)
    pbo_at_scale(args.pbo_trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
