"""Benchmark of the fast sweep, against the emulator and backtesting.py.

Standard workload: sample GER40 M1 data 2023-01-01..2025-10-31 and a 1,000-
combination grid (2 IB windows × direction both/long × 10 sl_mult × 5 tp_mult ×
5 entry_buffer), with 1 worker and with every core (a fork pool over chunks of
combinations), with and without metrics scoring (the runner's: ``score_batch``, compiled,
a chunk at once). Each timed run is its own
subprocess so that its peak memory is its own. Kernel compile time is measured
cold (an empty numba cache) and cached. Reference: a 12-month slice and a
16-combination grid through the fast sweep, the emulator and backtesting.py
(optional, bench/requirements.txt). Execution models (spec section 8): the standard
rows run the configured model (``--spread-model``/``--spread-source`` override it), and
a table compares the kernel's rate (1 worker, no metrics) in ``cost``, ``bid_ask`` with
the fixed spread and ``bid_ask`` with the data's spread, in the same minutes (the three
runs twice, interleaved; the faster of the two each). Through the runner: the default
command (report included, charts off) end to end on 10^5 combinations (1 worker) and 10^6
(every core), by phase (start-up, groups, writing, report), beside the kernel's rate
(bench/scale.py; ``--runner`` chooses the sizes, 10000000:2 adds the 10^7 run); each
run's report opened in headless Chromium and its table explored (bench/targets.py);
``--suite``: ``bash .ci/run`` on a fresh clone, timed; issue 26's targets beside them.

    python -m bench.bench [--quick] [--workers N] [--spread-model bid_ask|cost]
                          [--spread-source fixed|data] [--runner COMBINATIONS:WORKERS,...]
                          [--suite]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SYMBOL = "GER40"
STANDARD = ("2023-01-01", "2025-10-31")
REFERENCE = ("2024-11-01", "2025-10-31")
QUICK_REFERENCE = ("2025-10-01", "2025-10-31")
WINDOWS = (("09:00", "10:00"), ("08:00", "09:00"))
REPEATS = 3  # timed sweeps report the fastest of these (the machine may be shared)
# (spread_model, spread_source) of the execution-model table; the first is the baseline
EXECUTIONS = (("cost", "fixed"), ("bid_ask", "fixed"), ("bid_ask", "data"))
MODEL_REPEATS = 7  # the model table's runs are short: more of them, the fastest counts

_BARS = None  # the period's bars, set in the parent before the pool forks
_SETTINGS = None


def standard_grid() -> list[dict[str, Any]]:
    """The 1,000 combinations of the standard workload."""
    from backtest.strategy.params import resolve_params

    axes = itertools.product(
        WINDOWS,
        ("both", "long"),
        (0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9, 2.1),
        (0.0, 0.5, 1.0, 1.5, 2.0),
        (0.0, 0.05, 0.1, 0.15, 0.2),
    )
    return [
        resolve_params(
            SYMBOL,
            {
                "ib_start": a,
                "ib_end": b,
                "direction": d,
                "sl_mult": s,
                "tp_mult": t,
                "entry_buffer": e,
            },
        )
        for (a, b), d, s, t, e in axes
    ]


def reference_grid() -> list[dict[str, Any]]:
    """The 16 combinations of the reference comparison."""
    from backtest.strategy.params import resolve_params

    axes = itertools.product(WINDOWS, ("both", "long"), (0.5, 1.0), (1.0, 2.0))
    return [
        resolve_params(
            SYMBOL, {"ib_start": a, "ib_end": b, "direction": d, "sl_mult": s, "tp_mult": t}
        )
        for (a, b), d, s, t in axes
    ]


def load_bars(
    start: str, end: str, spread_model: str | None = None, spread_source: str | None = None
):
    """The sample's bars of ``start..end``, with the symbol's execution settings
    overridden where given (spec section 8)."""
    from backtest.data.loaders import load_period_bars

    bars = load_period_bars(SYMBOL, "in_sample").between(start, end)
    given = {"spread_model": spread_model, "spread_source": spread_source}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if overrides:
        bars = dataclasses.replace(bars, symbol=dataclasses.replace(bars.symbol, **overrides))
    return bars


def _smaps_mb(*keys: str) -> float:
    """Sum of ``keys`` (e.g. Pss, Private_Dirty) of this process's smaps_rollup, MB."""
    try:
        lines = Path("/proc/self/smaps_rollup").read_text().splitlines()
    except OSError:
        return float("nan")
    return sum(int(line.split()[1]) for line in lines if line.split(":")[0] in keys) / 1024


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (microsecond resolution)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _pss_mb() -> float:
    """Proportional set size of this process (shared pages split fairly), MB."""
    return _smaps_mb("Pss")


def _sweep_chunk(args: tuple[list[dict[str, Any]], bool, bool]) -> tuple[int, int, float]:
    """Worker: sweep one chunk, and with metrics score it as the runner does
    (``backtest.engines.run.score_batch``: compiled, all combinations at once);
    (pid, trades, private MB: its own pages, read only when ``measure``: reading
    smaps_rollup takes ~17 ms, as long as the sweep of a chunk)."""
    from backtest.engines.run import score_batch
    from backtest.engines.sweep import run_sweep

    combos, with_metrics, measure = args
    if with_metrics:
        trades = int(score_batch(_BARS, combos, _SETTINGS).metrics["trades"].sum())
    else:
        trades = sum(len(t) for t, _ in run_sweep(_BARS, combos, _SETTINGS))
    private = _smaps_mb("Private_Clean", "Private_Dirty") if measure else 0.0
    return os.getpid(), trades, private


def _run_chunks(workers: int, chunks: list) -> list[tuple[int, int, float]]:
    """Every chunk in this process (1 worker) or in a fork pool of ``workers``."""
    if workers == 1:
        return [_sweep_chunk(c) for c in chunks]
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        out = pool.map(_sweep_chunk, chunks, chunksize=1)
        pool.close()
        pool.join()
    return out


def timed_sweep(
    workers: int,
    n_combos: int,
    with_metrics: bool,
    spread_model: str | None = None,
    spread_source: str | None = None,
    repeats: int = REPEATS,
) -> dict[str, Any]:
    """One standard-workload run in this process (called in a fresh subprocess)."""
    global _BARS, _SETTINGS
    from backtest.core.settings import RunSettings
    from backtest.engines.sweep import prepare_sweep, warm_up

    _BARS, _SETTINGS = load_bars(*STANDARD, spread_model, spread_source), RunSettings()
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    combos = standard_grid()[:n_combos]
    warm = warm_up()
    pss_before = _pss_mb()
    prepare_sweep(_BARS, combos, _SETTINGS)  # shared tables built before the fork
    tables_mb = _pss_mb() - pss_before
    gc.collect()
    gc.freeze()  # forked workers' collections then leave the inherited objects' pages alone
    chunk = max(1, -(-len(combos) // (workers * 4)))
    chunks = [(combos[i : i + chunk], with_metrics) for i in range(0, len(combos), chunk)]
    best = None
    least_cpu = float("inf")
    for _ in range(repeats):
        cpu0 = _cpu_seconds()
        start = time.perf_counter()
        out = _run_chunks(workers, [(*c, False) for c in chunks])
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu0
        least_cpu = min(least_cpu, cpu)
        if best is None or seconds < best[0]:
            best = (seconds, cpu, out)
    seconds, cpu, out = best
    worker_private: dict[int, float] = {}
    if workers > 1:  # the workers' own pages, from one more run, untimed
        for pid, _, private in _run_chunks(workers, [(*c, True) for c in chunks]):
            worker_private[pid] = max(private, worker_private.get(pid, 0.0))
    return {
        "spread_model": _BARS.symbol.spread_model,
        "spread_source": _BARS.symbol.spread_source,
        "bars": len(_BARS),
        "days": len(_BARS.trading_days()),
        "combos": len(combos),
        "workers": workers,
        "metrics": with_metrics,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "least_cpu_seconds": least_cpu,  # the fewest CPU seconds of the repeats
        "warm_up": warm,
        "trades": sum(n for _, n, _ in out),
        "load_peak_mb": loaded_mb,
        "tables_mb": tables_mb,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "total_mb": _pss_mb() + (sum(worker_private.values()) if workers > 1 else 0.0),
    }


def compile_seconds() -> dict[str, float]:
    """First kernel call in this process (called in a subprocess with a chosen cache)."""
    start = time.perf_counter()
    import backtest.engines.sweep as sweep

    imported = time.perf_counter() - start
    return {"import": imported, "first_call": sweep.warm_up()}


def reference(start: str, end: str, n_combos: int) -> list[dict[str, Any]]:
    """Fast sweep, emulator and backtesting.py on the reference slice and grid."""
    from backtest.core.settings import RunSettings
    from backtest.engines.adapter import run_combo
    from backtest.engines.sweep import run_sweep, warm_up

    bars, settings, combos = load_bars(start, end), RunSettings(), reference_grid()[:n_combos]
    warm_up()
    rows = []
    t = time.perf_counter()
    fast = run_sweep(bars, combos, settings)
    rows.append(
        {
            "engine": "fast sweep",
            "seconds": time.perf_counter() - t,
            "trades": sum(len(tr) for tr, _ in fast),
        }
    )
    t = time.perf_counter()
    slow = [run_combo(bars, params, settings) for params in combos]
    rows.append(
        {
            "engine": "emulator",
            "seconds": time.perf_counter() - t,
            "trades": sum(len(tr) for tr, _ in slow),
        }
    )
    try:
        os.environ.setdefault("TQDM_DISABLE", "1")
        import backtesting  # noqa: F401

        from bench.bt_ib_strategy import bars_frame, run_backtesting_py
    except ImportError:
        rows.append(
            {
                "engine": "backtesting.py",
                "seconds": None,
                "trades": None,
                "note": "not installed: pip install -r bench/requirements.txt",
            }
        )
    else:
        import warnings

        frame = bars_frame(bars)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trades = sum(run_backtesting_py(bars, frame, params) for params in combos)
        same = "same trade count" if trades == rows[0]["trades"] else "trade count differs"
        rows.append(
            {
                "engine": "backtesting.py",
                "seconds": time.perf_counter() - t,
                "trades": trades,
                "note": f"its own fill model; {same}",
            }
        )
    for row in rows:
        row.update(bars=len(bars), combos=len(combos))
    return rows


def _child(args: list[str], env: dict[str, str] | None = None) -> Any:
    """Run ``python -m bench.bench <args>`` in a fresh process; its JSON answer."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench step {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores (nproc), {cpu}, Python {platform.python_version()}, "
        f"load average {load:.2f} at start, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _execution_args(spread_model: str | None, spread_source: str | None) -> list[str]:
    return (["--spread-model", spread_model] if spread_model else []) + (
        ["--spread-source", spread_source] if spread_source else []
    )


def execution_table(n_combos: int, rounds: int = 2) -> list[str]:
    """The kernel's rate (1 worker, no metrics) per execution model, the models' runs
    interleaved ``rounds`` times (so that they share the machine's minutes); the fastest."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(rounds):
        for execution in EXECUTIONS:
            r = _child(
                ["--step", "sweep", "--workers", "1", "--combos", str(n_combos)]
                + _execution_args(*execution)
                + ["--repeats", str(MODEL_REPEATS)]
            )
            if execution in best:
                r["seconds"] = min(r["seconds"], best[execution]["seconds"])
                r["least_cpu_seconds"] = min(
                    r["least_cpu_seconds"], best[execution]["least_cpu_seconds"]
                )
            best[execution] = r
    base = best[EXECUTIONS[0]]
    lines = [
        "",
        f"Execution models (spec section 8): the kernel alone, 1 worker, no metrics, "
        f"{n_combos} combinations; each model run {rounds} times interleaved with the others, "
        f"{MODEL_REPEATS} sweeps a run: the fastest (wall) and the fewest CPU seconds (on a "
        "shared machine the steadier figure):",
        "",
        "| spread_model | spread_source | seconds | comb/s/core (wall) | rate vs cost | "
        "comb/s per CPU-second | rate vs cost | trades | shared tables MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, source), r in best.items():
        wall, cpu = r["seconds"], r["least_cpu_seconds"]
        lines.append(
            f"| {model} | {source} | {_fmt(wall, 4)} | {_fmt(r['combos'] / wall, 0)} | "
            f"{base['seconds'] / wall - 1:+.1%} | {_fmt(r['combos'] / cpu, 0)} | "
            f"{base['least_cpu_seconds'] / cpu - 1:+.1%} | {r['trades']:,} | "
            f"{_fmt(r['tables_mb'], 1)} |"
        )
    return lines


def runner_sizes(text: str | None, quick: bool, workers: int) -> list[tuple[int, int]]:
    """``--runner COMBINATIONS:WORKERS[,...]`` as pairs; the default: 10^5 on 1 worker and
    10^6 on ``workers`` (``--quick``: 10^4 on 1 worker); ``none``: no runner rows."""
    if text is None:
        return [(10_000, 1)] if quick else [(100_000, 1), (1_000_000, workers)]
    if text.strip().lower() == "none":
        return []
    pairs = []
    for item in text.split(","):
        combinations, _, count = item.strip().partition(":")
        pairs.append((int(combinations.replace("_", "")), int(count or "1")))
    return pairs


def runner_table(sizes: list[tuple[int, int]], with_suite: bool = False) -> list[str]:
    """The runner's rows (bench.scale.measure): the default command end to end beside the
    kernel's rate, by phase; each run's report opened and its table explored
    (bench.targets.looked_at); the test suite on a fresh clone (``with_suite``); issue 26's
    targets beside them all (bench.targets.targets_table)."""
    from functools import partial

    from bench.scale import RUNNER_HEAD, measure, runner_row
    from bench.targets import looked_at, looked_at_rows, suite, targets_table

    runs = [measure(n, workers, then=partial(looked_at, symbol=SYMBOL)) for n, workers in sizes]
    lines = []
    if runs:
        lines += [
            "",
            "Through the runner: the default command (report included, charts off), "
            f"{SYMBOL} sample M1 {STANDARD[0]}..{STANDARD[1]}, groups of 10,000 combinations "
            "(bench/scale.py); the kernel's rate: run + compiled scoring of the same groups "
            "(up to 10 spread over the workload, 10,000 combinations each, no excursions) in "
            "one warm process, measured right after each run:",
            "",
            *RUNNER_HEAD,
            *(runner_row(m) for m in runs),
            "",
            "Each run's report opened in headless Chromium (bench/report_size.py) and its "
            "results table explored as `invoke explore` serves it (bench/explore.py, 1,000 "
            "rows a page; an answer is every API reply, the counts and builds in the "
            "background are not):",
            "",
            *looked_at_rows(runs),
        ]
    tested = suite() if with_suite else None
    return [*lines, "", "Issue 26's targets, this run:", "", *targets_table(runs, tested)]


def report(
    quick: bool,
    workers: int,
    spread_model: str | None = None,
    spread_source: str | None = None,
    runner: list[tuple[int, int]] | None = None,
    with_suite: bool = False,
) -> str:
    """Run every measurement; the markdown tables."""
    n_combos = 128 if quick else 1000
    execution = _execution_args(spread_model, spread_source)
    from backtest.core.config import DEFAULTS
    from backtest.core.version import code_version, git_commit
    from backtest.data.loaders import resolve_data_file

    data, sample = resolve_data_file(SYMBOL, "in_sample", None, DEFAULTS, None)
    lines = [
        f"Machine: {machine()}",
        f"Code: {code_version()}, commit {git_commit() or 'unknown (not a git checkout)'}; "
        f"data: {data} ({'the built-in sample' if sample else 'the configured data file'})",
        "",
    ]

    lines += [
        "Kernel compile (first call of every kernel, after imports):",
        "",
        "| numba cache | import s | first call s |",
        "|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold (empty)", "cached") if not quick else ("cached",):
            if label == "cached" and quick:
                got = _child(["--step", "compile"])
            else:
                got = _child(["--step", "compile"], {"NUMBA_CACHE_DIR": cache})
            lines.append(f"| {label} | {_fmt(got['import'])} | {_fmt(got['first_call'])} |")

    lines += [
        "",
        f"Standard workload: {SYMBOL} sample M1 {STANDARD[0]}..{STANDARD[1]}, "
        f"{n_combos} combinations:",
        "",
        "| workers | metrics | bars | days | combinations | seconds | comb/s | "
        "comb/s/core (wall) | comb/s per CPU-second | trades | peak RSS parent MB | "
        "peak RSS worker MB | total MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = []
    for n_workers, with_metrics in ((1, False), (1, True), (workers, False), (workers, True)):
        r = _child(
            ["--step", "sweep", "--workers", str(n_workers), "--combos", str(n_combos)]
            + (["--metrics"] if with_metrics else [])
            + execution
        )
        rate = r["combos"] / r["seconds"]
        lines.append(
            f"| {r['workers']} | {'yes' if r['metrics'] else 'no'} | {r['bars']:,} | {r['days']} | "
            f"{r['combos']:,} | {_fmt(r['seconds'])} | {_fmt(rate, 0)} | "
            f"{_fmt(rate / r['workers'], 0)} | {_fmt(r['combos'] / r['cpu_seconds'], 0)} | "
            f"{r['trades']:,} | {_fmt(r['maxrss_mb'], 0)} | "
            f"{_fmt(r['maxrss_children_mb'] if r['workers'] > 1 else None, 0)} | "
            f"{_fmt(r['total_mb'], 0)} |"
        )
        runs.append(r)
    lines += [
        "",
        f"Execution: {runs[0]['spread_model']}, spread {runs[0]['spread_source']}. "
        f"Fastest of {REPEATS} runs each. Peak RSS of loading the data file alone: "
        f"{_fmt(runs[0]['load_peak_mb'], 0)} MB; the sweep's shared tables: "
        f"{_fmt(runs[0]['tables_mb'], 0)} MB. Worker RSS counts the pages shared with "
        "the parent; total = the parent's PSS + each worker's private pages.",
    ]
    lines += execution_table(n_combos)

    span = QUICK_REFERENCE if quick else REFERENCE
    rows = _child(
        [
            "--step",
            "reference",
            "--start",
            span[0],
            "--end",
            span[1],
            "--combos",
            "4" if quick else "16",
        ]
    )
    fast = rows[0]["seconds"]
    lines += [
        "",
        f"Reference: {span[0]}..{span[1]}, {rows[0]['combos']} combinations, 1 process:",
        "",
        "| engine | bars | seconds | s per combination | × fast sweep | trades | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        secs = row["seconds"]
        lines.append(
            f"| {row['engine']} | {row['bars']:,} | {_fmt(secs, 3)} | "
            f"{_fmt(None if secs is None else secs / row['combos'], 4)} | "
            f"{_fmt(None if secs is None else secs / fast, 0)} | "
            f"{'-' if row['trades'] is None else row['trades']} | {row.get('note', '')} |"
        )
    lines += runner_table(runner or [], with_suite)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smaller grids)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="workers of the all-cores row (default: every core)",
    )
    parser.add_argument(
        "--spread-model",
        choices=("bid_ask", "cost"),
        help="execution model of the standard rows (default: the configured one)",
    )
    parser.add_argument(
        "--spread-source",
        choices=("fixed", "data"),
        help="spread of the standard rows (default: the configured one; data needs bid_ask)",
    )
    parser.add_argument(
        "--runner",
        help="the runner's rows, COMBINATIONS:WORKERS[,...] (default 100000:1,1000000:N with "
        "N the --workers; --quick: 10000:1; 10000000:2 adds the 10^7 run; none: no rows)",
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="also the test suite: bash .ci/run on a fresh clone of HEAD, timed (~9 min)",
    )
    parser.add_argument("--repeats", type=int, default=REPEATS, help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=("compile", "sweep", "reference"), help=argparse.SUPPRESS)
    parser.add_argument("--combos", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--metrics", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--end", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.spread_model == "cost" and args.spread_source == "data":
        parser.error("--spread-source data needs --spread-model bid_ask (ib-strategy.md 8)")
    if args.step == "compile":
        print(json.dumps(compile_seconds()))
    elif args.step == "sweep":
        print(
            json.dumps(
                timed_sweep(
                    args.workers,
                    args.combos,
                    args.metrics,
                    args.spread_model,
                    args.spread_source,
                    args.repeats,
                )
            )
        )
    elif args.step == "reference":
        print(json.dumps(reference(args.start, args.end, args.combos)))
    else:
        try:
            sizes = runner_sizes(args.runner, args.quick, args.workers)
        except ValueError:
            parser.error(f"--runner {args.runner!r}: COMBINATIONS:WORKERS[,...] or none")
        print(
            report(
                args.quick,
                args.workers,
                args.spread_model,
                args.spread_source,
                sizes,
                args.suite,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
