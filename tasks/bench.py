"""invoke tasks (bench): the fast sweep's benchmark."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from invoke import Exit, task

REPO = Path(__file__).resolve().parent.parent


@task(
    auto_shortflags=False,
    help={
        "quick": "a short run: 128 combinations, a 1-month reference slice, no cold compile",
        "workers": "workers of the all-cores row (default: every core)",
        "full_sweep": "instead: the users' full sweep end to end through the runner "
        "(106 groups x 256 combinations, both symbols, charts skipped)",
        "robust": "instead: walk-forward (12 windows) vs a plain sweep of the users' GER40 grid, "
        "and PBO on 100,000 combinations x 736 days",
        "farm": "instead: static host ranges vs the Dask cluster with one host slowed down "
        "(makespans), and the cluster's overhead against the local pool (one machine)",
        "scale": "instead: 1,000,000 combinations (or --combinations 10000000) through the "
        "runner: time, peak memory of all processes, bytes on disk per combination",
        "combinations": "with --scale: 1000000 (default) or 10000000",
        "interrupt": "with --scale: interrupt the run at half-way (SIGINT), then resume it",
        "runner": "the default benchmark's runner rows, COMBINATIONS:WORKERS[,...] (default "
        "100000:1,1000000:N, N the --workers or every core; 10000000:2 adds the 10^7 run; "
        "none: no runner rows; each run's report is opened in headless Chromium and its "
        "table explored)",
        "suite": "the default benchmark also times the test suite: bash .ci/run on a fresh "
        "clone of HEAD (~9 min); with --runner 100000:1,1000000:2,10000000:2 every figure "
        "of issue 26's targets in one run",
    },
)
def bench(
    c,
    quick=False,
    workers=None,
    full_sweep=False,
    robust=False,
    farm=False,
    scale=False,
    combinations=None,
    interrupt=False,
    runner=None,
    suite=False,
):
    """Benchmark the sweep against the emulator and backtesting.py; prints markdown tables.

    The fast sweep on 1 worker and on every core, with and without metrics, its compile
    time, the same strategy on the emulator and backtesting.py, the runner's default
    command end to end beside the kernel's rate, by phase, each run's report opened and
    its table explored, and issue 26's targets beside the figures (``--full-sweep``,
    ``--robust``, ``--farm``, ``--scale``: the other benchmarks)."""
    if (combinations is not None or interrupt) and not scale:
        raise Exit("error: --combinations and --interrupt go with --scale", code=2)
    module = (
        "bench.scale"
        if scale
        else "bench.farm"
        if farm
        else "bench.robust"
        if robust
        else "bench.full_sweep"
        if full_sweep
        else "bench.bench"
    )
    args = [sys.executable, "-m", module] + (
        ["--quick"] if module == "bench.bench" and quick else []
    )
    if workers is not None and not farm:
        args += ["--workers", str(workers)]
    if combinations is not None:
        args += ["--combinations", str(combinations)]
    if interrupt:
        args.append("--interrupt")
    if runner is not None:
        if module != "bench.bench":
            raise Exit("error: --runner goes with the default benchmark", code=2)
        args += ["--runner", str(runner)]
    if suite:
        if module != "bench.bench":
            raise Exit("error: --suite goes with the default benchmark", code=2)
        args.append("--suite")
    with c.cd(str(REPO)):
        result = c.run(shlex.join(args), warn=True, pty=False)
    if result.exited != 0:
        raise Exit("error: the benchmark failed (see above)", code=2)
