"""Synthetic result directories for the analysis tests (written by the one writer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backtest.runner.outputs import write_results
from backtest.strategy.params import resolve_params

META = {
    "symbol": "GER40",
    "period": "in_sample",
    "start_date": "2024-01-01",
    "end_date": "2024-03-31",
    "data_file": "data/x.parquet",
    "data_checksum": "abc123",
    "code_version": "v1",
    "host": "h1",
    "workers": 2,
    "risk": 1000.0,
    "account_size": 100000.0,
    "daily_loss_limit_pct": 5.0,
    "max_loss_limit_pct": 10.0,
    "start_time": "2026-01-01T10:00:00+00:00",
    "end_time": "2026-01-01T11:00:00+00:00",
}


def metrics(total_r: float, trades: int = 10) -> dict[str, Any]:
    return {
        "trades": trades,
        "winrate": 0.5,
        "total_r": total_r,
        "avg_r": total_r / trades,
        "profit_factor": 1.5,
        "max_dd_r": 2.0,
        "sharpe": 1.0,
        "total_pnl": total_r * 1000,
        "worst_day_r": -1.0,
        "max_losing_streak": 2,
        "skipped": 0,
        "max_daily_loss_pct": 1.0,
        "max_drawdown_pct": 2.0,
        "prop_ok": True,
    }


def raw_group(number: int) -> dict[str, Any]:
    return {
        "group_id": f"group_GER40_{number:03d}",
        "params": {"sl_mult": 0.5 * number},
        "grid": {"tp_mult": [1.0, 2.0]},
    }


def ok_record(number: int, totals: tuple[float, float] | None = None) -> dict[str, Any]:
    """Group ``number``: two combinations (tp_mult 1.0, 2.0) with given total R."""
    totals = totals or (float(number), float(10 - number))
    combos = [
        {
            "params": resolve_params("GER40", {"sl_mult": 0.5 * number, "tp_mult": tp}),
            "metrics": metrics(total),
        }
        for tp, total in zip((1.0, 2.0), totals)
    ]
    best = 0 if totals[0] >= totals[1] else 1
    return {
        "group_id": f"group_GER40_{number:03d}",
        "status": "ok",
        "elapsed_s": 1.0,
        "combos": combos,
        "best": best,
    }


def failed_record(number: int) -> dict[str, Any]:
    return {
        "group_id": f"group_GER40_{number:03d}",
        "status": "failed",
        "error": "RuntimeError: boom",
        "elapsed_s": 0.5,
        "combos": [],
    }


def write_run(directory: Path, records: list[dict[str, Any]], **meta: Any) -> Path:
    failed = [
        dict(raw_group(int(r["group_id"][-3:])), error=r["error"])
        for r in records
        if r["status"] == "failed"
    ]
    directory.mkdir(parents=True, exist_ok=True)
    write_results(directory, "GER40", {**META, **meta}, records, failed)
    return directory
