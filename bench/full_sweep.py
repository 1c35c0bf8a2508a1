"""The users' full sweep, end to end: 106 groups × 256 combinations, both symbols.

GER40 60 groups and XAUUSD 46 groups (the split of their four VMs), each group a
fixed IB window / direction / trade_end and a 256-combination grid (sl_mult ×
tp_mult × entry_buffer × max_trades_per_day, 4 values each), over the in-sample
period on the built-in sample data. Runs the real runner
(``python -m backtest.run_parallel_backtest``) per symbol with charts skipped
and the HTML report skipped (the sweep itself is timed), and prints wall time, groups and
combinations per second.

    python -m bench.full_sweep [--workers 2] [--engine fast]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GROUPS = {"GER40": 60, "XAUUSD": 46}
GRID = {
    "sl_mult": [0.5, 0.75, 1.0, 1.5],
    "tp_mult": [0.0, 1.0, 1.5, 2.0],
    "entry_buffer": [0.0, 0.05, 0.1, 0.2],
    "max_trades_per_day": [1, 2, 3, 4],
}
WINDOWS = {
    "GER40": [
        ("09:00", "10:00"),
        ("09:00", "09:30"),
        ("08:00", "09:00"),
        ("09:00", "11:00"),
        ("08:30", "09:30"),
    ],
    "XAUUSD": [
        ("08:00", "09:00"),
        ("07:00", "08:00"),
        ("08:00", "08:30"),
        ("08:30", "09:30"),
        ("08:00", "10:00"),
    ],
}
DIRECTIONS = ("both", "long", "short")
TRADE_ENDS = {
    "GER40": ("17:30", "15:00", "12:00", "20:00"),
    "XAUUSD": ("16:30", "12:00", "19:00", "20:00"),
}


def groups_file(symbol: str, path: Path) -> Path:
    """``GROUPS[symbol]`` groups of 256 combinations each."""
    fixed = itertools.product(WINDOWS[symbol], DIRECTIONS, TRADE_ENDS[symbol])
    groups = []
    for number, ((ib_start, ib_end), direction, trade_end) in enumerate(
        itertools.islice(fixed, GROUPS[symbol]), start=1
    ):
        groups.append(
            {
                "group_id": f"group_{symbol}_{number:03d}",
                "params": {
                    "ib_start": ib_start,
                    "ib_end": ib_end,
                    "trade_end": trade_end,
                    "direction": direction,
                },
                "grid": GRID,
            }
        )
    path.write_text(json.dumps({"symbol": symbol, "groups": groups}, indent=1))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2")
    parser.add_argument("--engine", default="fast", choices=("fast", "emulator"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ibsweep-full-") as tmp:
        for symbol in GROUPS:
            groups = groups_file(symbol, Path(tmp) / f"groups_{symbol}.json")
            # first call generates the sample data if needed: not timed
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from backtest.data.loaders import resolve_data_file;"
                    f"resolve_data_file('{symbol}', 'in_sample', None)",
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "backtest.run_parallel_backtest",
                    "--groups-file",
                    str(groups),
                    "--workers",
                    args.workers,
                    "--engine",
                    args.engine,
                    "--skip-charts",
                    "--no-report",
                    "--output-dir",
                    str(Path(tmp) / f"out_{symbol}"),
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
                return done.returncode
            combos = GROUPS[symbol] * 256
            rows.append((symbol, GROUPS[symbol], combos, seconds))
    total_groups = sum(r[1] for r in rows)
    total_combos = sum(r[2] for r in rows)
    total_s = sum(r[3] for r in rows)
    print("| symbol | groups | combinations | seconds (wall, end to end) | comb/s |")
    print("|---|---|---|---|---|")
    for symbol, groups, combos, seconds in rows + [("both", total_groups, total_combos, total_s)]:
        print(f"| {symbol} | {groups} | {combos:,} | {seconds:.1f} | {combos / seconds:,.0f} |")
    print(f"\nworkers {args.workers}, engine {args.engine}, charts skipped, sample data in_sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
