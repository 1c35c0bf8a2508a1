"""The same groups file through --engine emulator and the default (fast) engine
gives identical result files: summary, combos, and every trade in the full JSON."""

from __future__ import annotations

import json

from tests.runner.helpers import (
    SYMBOL,
    combos_bytes,
    run_args,
    run_cli,
    summary_bytes,
    without_run_time,
    write_bars,
    write_groups,
)


def _full_without_engine(out):
    full = without_run_time(json.loads((out / f"results_full_{SYMBOL}.json").read_text()))
    full["metadata"].pop("engine")
    return full


def test_emulator_and_fast_engine_write_identical_results(tmp_path):
    bars = write_bars(tmp_path / "bars.parquet", "2024-01-01", "2024-01-19", seed=11)
    groups = write_groups(tmp_path / "groups.json")
    fast, emulator = tmp_path / "fast", tmp_path / "emulator"

    run_fast = run_cli(*run_args(bars, groups, fast, "--save-trades", "--skip-charts"))
    run_emu = run_cli(
        *run_args(bars, groups, emulator, "--save-trades", "--skip-charts", "--engine", "emulator")
    )

    assert run_fast.returncode == 0, run_fast.stderr
    assert run_emu.returncode == 0, run_emu.stderr
    assert summary_bytes(fast) == summary_bytes(emulator)
    assert combos_bytes(fast) == combos_bytes(emulator)
    fast_full, emu_full = _full_without_engine(fast), _full_without_engine(emulator)
    assert fast_full == emu_full
    trades = [t for g in fast_full["groups"] for c in g["combos"] for t in c["trades"]]
    assert len(trades) > 20  # the comparison covers real trades, not two empty runs
