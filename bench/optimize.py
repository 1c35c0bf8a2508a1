"""``invoke optimize`` against the exhaustive answer (issue 27's targets).

The workload of ``bench.scale``: 3 years of GER40 M1 sample data (the in-sample period) and
its 10^6-combination grid (20 IB windows × 5 ``trade_end`` × ``sl_mult`` 20 × ``tp_mult``
25 × ``entry_buffer`` 5 × ``direction`` 2 × ``max_trades_per_day`` 2). The grid is swept
exhaustively by the runner (its groups phase timed from run.log: the sweep's rate), which
gives every combination's ``total_r`` and so the grid's top 0.1 % (the 1,000th best). The
same grid, written as a search space (ranges and lists, :data:`SPACE`), is then searched by
``invoke optimize`` with TPE, CMA-ES and random sampling, several seeds each, in batches of
``--batch`` trials, in stages of doubling ``--trials`` (each stage resumes the study) until
the best trial found is in the grid's top 0.1 % or the budget (2 % of the grid) is spent.

Printed: the best found (as its rank in the grid) against trials and evaluations, per
sampler (median over the seeds); the trials and evaluations each seed needed to reach the
top 0.1 %; the rates: the sweep's groups phase, and the searches' evaluation (the kernel on
the pool) and whole search loop (sampling, storage, results of each batch included), all in
combinations per second per worker; and a check that every evaluated trial's ``total_r``
equals the sweep's for its combination.

    python -m bench.optimize [--workers 2] [--seeds 5] [--samplers tpe,cmaes,random]
        [--budget 20000] [--curve 4096] [--batch 256] [--keep DIR] [--quick] [--kernel-only]
        [--trial combination|entry-rule] [--resweep]

``--trial entry-rule``: each trial is an entry rule run with its whole exit sub-grid
(``sl_mult`` × ``tp_mult``: 500 combinations here); the budget, the curve and the stages
count combinations evaluated (a trial's 500 each), the batches default to 8 trials.
``--resweep``: sweep again even with a kept sweep (its rate measured in the same minutes).
``--rate N``: then one more run per sampler of N trials in one process (seed 1), whose
search loop gives the rate (the stages of a 2 % budget are too short for it).

Last, the kernel alone in one process on three sets of 2,048 combinations, each batch of
256 sorted by entry rule (as the search's evaluator sorts it): a group of the grid (what a
sweep's worker runs: 500 stop/target pairs per entry rule), a random sample of the grid,
and the last trials TPE evaluated: how much of the sweep's rate comes from sharing entry
searches, which a sample of a large space rarely does.

``--quick``: the last 6 months of the period, 2 seeds, budget 4096 (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.runner.rundir import RUN_LOG, manifest_path, result_paths
from bench.scale import REPO, groups_file, phases, run

GRID = 1_000_000
SPACE = """\
# bench.scale's 10^6-combination grid as a search space (bench/optimize.py)
symbol: GER40
params: {close_time: "22:00"}
grid:
  ib_start: {start: "07:00", stop: "09:00", step: 30}
  ib_end: {start: "09:30", stop: "11:00", step: 30}
  trade_end: ["15:00", "16:00", "17:00", "17:30", "18:00"]
  sl_mult: {start: 0.3, stop: 1.25, step: 0.05}
  tp_mult: {start: 0.0, stop: 6.0, step: 0.25}
  entry_buffer: {start: 0.0, stop: 0.2, step: 0.05}
  direction: [both, long]
  max_trades_per_day: {start: 1, stop: 2, step: 1}
"""
KEY = [
    "ib_start",
    "ib_end",
    "trade_end",
    "sl_mult",
    "tp_mult",
    "entry_buffer",
    "direction",
    "max_trades_per_day",
]
CHECKPOINTS = (256, 512, 1024, 2048, 4096, 8192, 16384, 20000)
SUB_GRID = 20 * 25  # sl_mult × tp_mult: the combinations of one entry rule


def sweep(work: Path, workers: int, dates: list[str], again: bool = False) -> dict[str, Any]:
    """The exhaustive sweep (reused when ``work/sweep`` holds a finished one, unless
    ``again``)."""
    out = work / "sweep"
    groups = work / "groups.json"
    groups_file(groups, GRID)
    table = result_paths(out, "GER40")["parquet"]
    if again and out.exists():
        shutil.rmtree(out)
    if table.exists() and manifest_path(out, "GER40").exists():
        print(f"sweep: reusing {out}")
        return {"out": out, "seconds": None, "table": table}
    extra = ["--start-date", dates[0], "--end-date", dates[1]] if dates else []
    done = run_sweep(groups, out, workers, extra)
    return {"out": out, "seconds": done["seconds"], "table": table}


def run_sweep(groups: Path, out: Path, workers: int, extra: list[str]) -> dict[str, Any]:
    done = run(groups, out, workers, None, extra=tuple(extra))
    if done["code"] != 0:
        print("\n".join(done["lines"][-20:]))
        raise SystemExit("the sweep failed")
    return done


def optimize(
    space: Path,
    out: Path,
    sampler: str,
    seed: int,
    trials: int,
    batch: int,
    workers: int,
    dates: list[str],
    trial: str = "combination",
) -> dict[str, Any]:
    """One stage: ``invoke optimize`` up to ``trials`` trials (a resume after the first)."""
    command = [
        str(Path(sys.executable).parent / "invoke"),
        "optimize",
        "--space",
        str(space),
        "--sampler",
        sampler,
        "--seed",
        str(seed),
        "--trials",
        str(trials),
        "--batch",
        str(batch),
        "--workers",
        str(workers),
        "--output-dir",
        str(out),
        "--no-report",
        "--trial",
        trial,
    ]
    if dates:
        command += ["--start-date", dates[0], "--end-date", dates[1]]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr}")
    meta = json.loads(result_paths(out, "GER40")["full"].read_text())["metadata"]["optimize"]
    return {"seconds": time.perf_counter() - started, "meta": meta}


def grid_values(table: Path) -> pd.DataFrame:
    """Every combination of the sweep: its identity and total_r."""
    frame = pd.read_parquet(table, columns=[*KEY, "total_r"])
    for name in ("sl_mult", "tp_mult", "entry_buffer"):
        frame[name] = frame[name].round(6)
    return frame


def curve(out: Path, ranks: np.ndarray) -> pd.DataFrame:
    """Per trial (number order): the best total_r found so far, its rank in the grid
    (1 = the grid's best) and the evaluations made so far."""
    trials = pd.read_parquet(out / "optimize_trials_GER40.parquet").sort_values("trial")
    values = trials["value"].where(trials["outcome"].isin(["evaluated", "duplicate"]))
    best = values.fillna(-np.inf).cummax().to_numpy()
    # combinations evaluated (a trial's sub-grid each with --trial entry-rule)
    evaluated = trials["combos"].where(trials["outcome"] == "evaluated")
    evaluations = evaluated.fillna(0).astype(int).cumsum().to_numpy()
    # rank of a value: 1 + the grid's combinations strictly better (ranks: sorted descending)
    rank = 1 + np.searchsorted(-ranks, -best, side="left")
    return pd.DataFrame(
        {"trial": trials["trial"].to_numpy(), "best": best, "rank": rank, "evals": evaluations}
    )


def check_values(out: Path, grid: pd.DataFrame) -> tuple[int, int]:
    """(evaluated trials, those whose total_r differs from the sweep's)."""
    rows = pd.read_parquet(result_paths(out, "GER40")["parquet"], columns=[*KEY, "total_r"])
    for name in ("sl_mult", "tp_mult", "entry_buffer"):
        rows[name] = rows[name].round(6)
    joined = rows.merge(grid, on=KEY, how="left", suffixes=("", "_sweep"))
    differ = ~np.isclose(joined["total_r"], joined["total_r_sweep"], rtol=0, atol=1e-9)
    return len(rows), int(differ.sum())


KERNEL_CODE = """
import json, random, sys, time, itertools
import pandas as pd
from backtest.core.settings import RunSettings
from backtest.data.loaders import load_period_bars
from backtest.engines.run import score_batch
from backtest.engines.sweep import sweep_data, warm_up
from backtest.runner.groups import iter_group, load_groups_file
from backtest.search.evaluate import rule_key
start, end, groups_path, late_path = sys.argv[1:5]
bars = load_period_bars("GER40", "in_sample").between(start, end)
groups = load_groups_file(groups_path, expand=False).groups
warm_up(); sweep_data(bars)
grid = list(itertools.islice(iter_group(groups[len(groups) // 2]), 2048))
from backtest.strategy.params import resolve_params
rng = random.Random(1)
points = [(g := rng.choice(groups), {k: rng.choice(v) for k, v in g.grid.items()})
          for _ in range(2048)]
sample = sorted([resolve_params("GER40", {**g.params, **p}) for g, p in points], key=rule_key)
late = pd.read_parquet(late_path).drop(columns=["group_id", "combo"]).tail(2048)
names = list(grid[0])
late = sorted([{n: (list(r[n]) if n == "weekdays" else r[n]) for n in names}
               for r in late.to_dict("records")], key=rule_key)
out = {}
for name, combos in (("grid group", grid), ("random sample", sample), ("TPE, last 2048", late)):
    score_batch(bars, combos[:64], RunSettings())
    t = time.perf_counter()
    for at in range(0, len(combos), 256):
        score_batch(bars, combos[at : at + 256], RunSettings())
    out[name] = [len(combos) / (time.perf_counter() - t), len({rule_key(c) for c in combos})]
print(json.dumps(out))
"""


def kernel_rates(work: Path, dates: list[str]) -> dict[str, list[float]]:
    """Combinations/s of the kernel alone (one process, batches of 256, each sorted by
    entry rule as the search's evaluator sorts it): a group of the grid, a random sample of
    the grid, the last 2,048 trials TPE evaluated (seed 1): what sharing entry rules gives."""
    start, end = dates or ["2023-01-01", "2025-10-31"]
    late = result_paths(work / "tpe_1", "GER40")["parquet"]
    result = subprocess.run(
        [sys.executable, "-c", KERNEL_CODE, start, end, str(work / "groups.json"), str(late)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--samplers", default="tpe,cmaes,random")
    parser.add_argument("--budget", type=int, default=GRID // 50)
    parser.add_argument("--curve", type=int, default=4096, help="trials every run reaches")
    parser.add_argument("--batch", type=int, help="trials per batch (256; entry-rule: 8)")
    parser.add_argument("--trial", default="combination", choices=("combination", "entry-rule"))
    parser.add_argument("--resweep", action="store_true", help="sweep again (its rate now)")
    parser.add_argument("--rate", type=int, default=0, help="trials of one run per sampler")
    parser.add_argument("--keep", help="work folder (a finished sweep there is reused)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--kernel-only", action="store_true", help="only the kernel's rates (needs --keep DIR)"
    )
    args = parser.parse_args()
    dates = ["2025-05-01", "2025-10-31"] if args.quick else []
    seeds = 2 if args.quick else args.seeds
    entry = args.trial == "entry-rule"
    # in combinations; with --quick the entry-rule budget stays 2 % (40 trials of 500)
    budget = min(args.budget, 4096) if args.quick and not entry else args.budget
    per_trial = SUB_GRID if entry else 1
    batch = args.batch or (8 if entry else 256)
    load = os.getloadavg()[0]
    print(
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, load {load:.2f} at start, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ibsweep-optimize-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.kernel_only:
        print_kernel_rates(work, dates)
        return
    swept = sweep(work, args.workers, dates, args.resweep)
    grid = grid_values(swept["table"])
    ranks = np.sort(grid["total_r"].to_numpy())[::-1]
    top = ranks[GRID // 1000 - 1]  # the 1,000th best: the grid's top 0.1 %
    print(
        f"\ngrid: {len(grid):,} combinations; best total_r {ranks[0]:.2f}, top 0.1 % from "
        f"{top:.2f} (the 1,000th), median {np.median(ranks):.2f}"
    )
    if swept["seconds"] is not None:
        spent = phases(swept["out"] / RUN_LOG)
        sweep_rate = GRID / spent["groups"] / args.workers
        print(
            f"sweep: {swept['seconds']:.0f} s end to end, groups phase {spent['groups']:.0f} s: "
            f"{sweep_rate:,.0f} combinations/s/worker"
        )
    else:
        sweep_rate = None
    space = work / "space.yaml"
    space.write_text(SPACE)
    results: dict[str, list[dict[str, Any]]] = {}
    limit = budget // per_trial  # trials
    for sampler in args.samplers.split(","):
        for seed in range(1, seeds + 1):
            out = work / (f"{sampler}_entry_{seed}" if entry else f"{sampler}_{seed}")
            stages, trials, hit = [], min(2048 // per_trial, limit), None
            while True:
                stage = optimize(
                    space, out, sampler, seed, trials, batch, args.workers, dates, args.trial
                )
                stages.append({"trials": trials, **stage})
                line = curve(out, ranks)
                reached = line[line["best"] >= top]
                hit = None if reached.empty else reached.iloc[0]
                if trials >= limit or (hit is not None and trials * per_trial >= args.curve):
                    break
                trials = min(trials * 2, limit)
            evaluated, differ = check_values(out, grid)
            results.setdefault(sampler, []).append(
                {
                    "seed": seed,
                    "curve": line,
                    "hit": hit,
                    "stages": stages,
                    "check": (evaluated, differ),
                }
            )
            print(
                f"  {sampler} seed {seed}: {len(line)} trials, "
                f"best rank {int(line['rank'].iloc[-1])}"
                + (
                    f", top 0.1 % at trial {int(hit['trial'])} ({int(hit['evals'])} evaluations)"
                    if hit is not None
                    else ", top 0.1 % not reached"
                )
                + f"; {sum(s['seconds'] for s in stages):.0f} s; {differ} of {evaluated} "
                "evaluated values differ from the sweep's",
                flush=True,
            )
    report(results, ranks, top, budget, sweep_rate, args.workers, entry)
    if args.rate:
        rates(work, space, args, batch, dates, sweep_rate)
    if "tpe" in results and not entry:
        print_kernel_rates(work, dates)


def rates(work: Path, space: Path, args: Any, batch: int, dates: list[str], sweep_rate) -> None:
    """One run of ``--rate`` trials per sampler, in one process: its search loop's rate."""
    print(f"\nRates of one run of {args.rate:,} trials per sampler (batches of {batch}):\n")
    print(
        "| sampler | combinations | evaluation (kernel on the pool) | whole search loop | "
        "against the sweep | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for sampler in args.samplers.split(","):
        out = work / f"{sampler}_{args.trial}_rate"
        shutil.rmtree(out, ignore_errors=True)
        done = optimize(space, out, sampler, 1, args.rate, batch, args.workers, dates, args.trial)
        this = done["meta"]["this_run"]
        evaluation = this["combinations"] / max(this["evaluation_seconds"], 1e-9) / args.workers
        loop = this["combinations"] / max(this["seconds"], 1e-9) / args.workers
        share = f"{loop / sweep_rate:.0%}" if sweep_rate else "-"
        print(
            f"| {sampler} | {this['combinations']:,} | {evaluation:,.0f} | {loop:,.0f} | {share} "
            f"| {this['seconds']:.1f} |",
            flush=True,
        )


def print_kernel_rates(work: Path, dates: list[str]) -> None:
    print("\nThe kernel alone, one process, batches of 256 sorted by entry rule:\n")
    print("| combinations | entry rules among 2,048 | combinations/s |")
    print("|---|---|---|")
    for name, (rate, rules) in kernel_rates(work, dates).items():
        print(f"| {name} | {rules:,} | {rate:,.0f} |")


def report(results, ranks, top, budget, sweep_rate, workers, entry=False) -> None:
    print("\nBest found, as its rank in the grid (1 = the grid's best; median over seeds):\n")
    if entry:  # by combinations evaluated: the rank after the last trial within each count
        points = [c for c in (1000, 2000, 4000, 8000, 12000, 16000, 20000) if c <= budget]
        print("| sampler | " + " | ".join(f"{c:,} evaluations" for c in points) + " |")
    else:
        points = [c for c in CHECKPOINTS if c <= budget]
        print("| sampler | " + " | ".join(f"{c:,} trials" for c in points) + " |")
    print("|---|" + "---|" * len(points))
    for sampler, runs in results.items():
        cells = []
        for c in points:
            if entry:
                within = [r["curve"][r["curve"]["evals"] <= c] for r in runs]
                got = [int(w["rank"].iloc[-1]) for w in within if len(w)]
                full = all(int(r["curve"]["evals"].iloc[-1]) >= c for r in runs)
                ok = len(got) == len(runs) and full
            else:
                got = [int(r["curve"]["rank"].iloc[c - 1]) for r in runs if len(r["curve"]) >= c]
                ok = len(got) == len(runs)
            cells.append(f"{statistics.median(got):,.0f}" if ok else "-")
        print(f"| {sampler} | " + " | ".join(cells) + " |")
    limit = budget // (SUB_GRID if entry else 1)  # trials
    print(f"\nTop 0.1 % (total_r >= {top:.2f}) reached within {budget:,} evaluations:\n")
    print(
        "| sampler | runs reaching it | trials (median) | evaluations (median) | "
        "evaluations, % of the grid |"
    )
    print("|---|---|---|---|---|")
    for sampler, runs in results.items():
        hits = [r["hit"] for r in runs if r["hit"] is not None]
        if len(hits) * 2 > len(runs):  # the median over all seeds exists
            worst = sorted([int(h["evals"]) for h in hits] + [budget + 1] * (len(runs) - len(hits)))
            evals = statistics.median(worst)
            trials_needed = statistics.median(
                sorted([int(h["trial"]) + 1 for h in hits] + [limit + 1] * (len(runs) - len(hits)))
            )
            print(
                f"| {sampler} | {len(hits)} of {len(runs)} | {trials_needed:,.0f} | "
                f"{evals:,.0f} | {evals / len(ranks):.2%} |"
            )
        else:
            print(f"| {sampler} | {len(hits)} of {len(runs)} | - | - | - |")
    stages = "every stage" if entry else "the first stage"
    print(f"\nRates, combinations per second per worker ({stages} of each run; medians):\n")
    print("| what | evaluation (kernel on the pool) | whole search loop | against the sweep |")
    print("|---|---|---|---|")
    if sweep_rate is not None:
        print(f"| exhaustive sweep (groups phase) | - | {sweep_rate:,.0f} | 100 % |")
    for sampler, runs in results.items():
        evaluation, loop = [], []
        for r in runs:
            runs_ = [s["meta"]["this_run"] for s in (r["stages"] if entry else r["stages"][:1])]
            done = sum(t["combinations"] for t in runs_)  # rows (a sub-grid each: entry-rule)
            busy = sum(t["evaluation_seconds"] for t in runs_)
            evaluation.append(done / max(busy, 1e-9) / workers)
            loop.append(done / max(sum(t["seconds"] for t in runs_), 1e-9) / workers)
        share = f"{statistics.median(loop) / sweep_rate:.0%}" if sweep_rate else "-"
        print(
            f"| {sampler}, {'entry rules' if entry else 'combinations'} | "
            f"{statistics.median(evaluation):,.0f} | "
            f"{statistics.median(loop):,.0f} | {share} |"
        )


if __name__ == "__main__":
    main()
