"""Cost per combination-day of the fast sweep's kernel, and what it is made of.

The standard workload of ``bench.bench`` (1,000 combinations = 20 entry rules × 10
``sl_mult`` × 5 ``tp_mult``, GER40 sample 2023-01-01..2025-10-31), in one process, in
chunks of 250 as the bench's 1-worker row: the kernel alone
(``backtest.engines.sweep.sweep_parts``) and the runner's scoring path
(``backtest.engines.run.score_batch``), fastest of ``--repeats``; the kernel's work
counters (``backtest.engines.sweep.STATS``) per combination-day; the time of one "first
bar that touches a level" query (``kernel_nb.first_touch_nb``) in the kernel's access
pattern (a few queries per day, day after day); and, for contrast, the same grid with
every combination its own entry rule (nothing shared). ``--spread-model`` and
``--spread-source`` choose the execution model (spec section 8; default the configured).

    python -m bench.cost [--repeats N] [--spread-model bid_ask|cost] [--spread-source fixed|data]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from typing import Any

import numpy as np

from bench.bench import STANDARD, load_bars, machine, standard_grid

CHUNK = 250  # combinations per call, as the bench's 1-worker row


def _best(run, repeats: int) -> float:
    """Fastest CPU seconds of ``repeats`` calls (CPU time: the machine may be shared)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def _unshared(combos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grid with every combination its own entry rule (a buffer of its own, at most
    1e-4 × IB more: the same trades but for the odd bar)."""
    from backtest.strategy.params import resolve_params

    return [
        resolve_params("GER40", {**c, "entry_buffer": c["entry_buffer"] + i * 1e-7})
        for i, c in enumerate(combos)
    ]


def query_ns(data, per_day: int, passes: int) -> float:
    """Nanoseconds per ``first_touch_nb`` query: ``per_day`` queries on each day in turn
    (from 10:00 to the day's end, levels a stop or target away from the day's price),
    ``passes`` times over the days (one pass per batch, as the kernel makes them)."""
    from numba import njit

    from backtest.engines import kernel_nb as nb

    @njit(cache=False)
    def run(values, blocks, lo, hi, level, above, passes):
        total = 0
        for _ in range(passes):
            for i in range(len(lo)):
                total += nb.first_touch_nb(values, blocks, lo[i], hi[i], level[i], above[i])
        return total

    rng = np.random.default_rng(1)
    day = np.repeat(np.arange(len(data.day_start)), per_day)
    start = data.day_start[day] + (data.day_end[day] - data.day_start[day]) // 3
    lo = start + 1
    hi = data.day_end[day]
    above = rng.random(len(day)) < 0.5
    distance = rng.integers(500, 6000, len(day))  # 5..60 points of 0.01
    level = np.where(above, data.high[start] + distance, data.low[start] - distance)
    values = data.high  # the kernel picks high or low per query; the cost is alike
    args = (values, data.high_blocks, lo, hi, level, above)
    run(*args, 1)
    seconds = min(
        (lambda t: (run(*args, passes), time.perf_counter() - t)[1])(time.perf_counter())
        for _ in range(3)
    )
    return seconds / (len(day) * passes) * 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per timing (fastest)")
    parser.add_argument("--spread-model", choices=("bid_ask", "cost"), help="execution model")
    parser.add_argument("--spread-source", choices=("fixed", "data"), help="bid_ask's spread")
    args = parser.parse_args(argv)
    if args.spread_model == "cost" and args.spread_source == "data":
        parser.error("--spread-source data needs --spread-model bid_ask (ib-strategy.md 8)")

    from backtest.core.settings import RunSettings
    from backtest.engines import kernel_nb as nb
    from backtest.engines import sweep
    from backtest.engines.run import score_batch

    bars = load_bars(*STANDARD, args.spread_model, args.spread_source)
    settings = RunSettings()
    grids = {"standard grid (20 rules × 50)": standard_grid()}
    grids["nothing shared (1,000 rules × 1)"] = _unshared(grids["standard grid (20 rules × 50)"])
    sweep.warm_up()
    data = sweep.prepare_sweep(bars, [c for g in grids.values() for c in g], settings)
    gc.collect()
    gc.freeze()
    days = len(data.day_start)
    print(f"Machine: {machine()}, pid {os.getpid()}")
    print(f"{len(bars):,} bars, {days} days; chunks of {CHUNK}, batches of up to {sweep.BATCH}")
    print(f"Execution: {bars.symbol.spread_model}, spread {bars.symbol.spread_source}")
    print()
    print(
        "| grid | kernel ns / combination-day | score_batch ns / combination-day | "
        "comb/s (score_batch) | entry searches | exit queries run | exit queries shared | "
        "trades |"
    )
    print("|---|---|---|---|---|---|---|---|")
    shares = {}
    for name, combos in grids.items():
        chunks = [combos[i : i + CHUNK] for i in range(0, len(combos), CHUNK)]
        cells = len(combos) * days
        kernel = _best(
            lambda cs=chunks: [sweep.sweep_parts(bars, c, settings) for c in cs], args.repeats
        )
        scored = _best(lambda cs=chunks: [score_batch(bars, c, settings) for c in cs], args.repeats)
        sweep.STATS[:] = 0
        trades = sum(len(p.trades) for c in chunks for p in sweep.sweep_parts(bars, c, settings))
        stats = sweep.STATS / cells
        shares[name] = (kernel / cells * 1e9, stats)
        print(
            f"| {name} | {kernel / cells * 1e9:.0f} | {scored / cells * 1e9:.0f} | "
            f"{len(combos) / scored:,.0f} | {stats[nb.S_ENTRY]:.3f} | {stats[nb.S_EXIT]:.3f} | "
            f"{stats[nb.S_SHARED]:.3f} | {trades / cells:.3f} |"
        )
    batches_per_run = -(-CHUNK // sweep.BATCH) * -(
        -len(grids["standard grid (20 rules × 50)"]) // CHUNK
    )
    print()
    print("| query pattern | ns per query |")
    print("|---|---|")
    for per_day in (1, 16, 256):
        ns = query_ns(data, per_day, batches_per_run)
        print(f"| {per_day} a day, day after day, {batches_per_run} passes | {ns:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
