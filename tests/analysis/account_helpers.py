"""Hand-made accounts for the account and challenge tests, and small real runs of both
symbols for the command and page tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.account_picks import Account, PickData, PickSpec, build_account
from backtest.analysis.challenge import Days, Rules
from backtest.core.programs import Program, parse_program
from backtest.data.bars import day_number
from tests.runner.helpers import END, START, run_cli

ACCOUNT = 100_000.0
NEWS_OK = {"news_filter": True, "news_before": 15, "news_after": 15}


def program(**overrides: Any) -> Program:
    """A High-Stakes-like program (one phase of 8 % unless overridden)."""
    raw: dict[str, Any] = {
        "name": "Test program",
        "rules_read": "2026-12-05",
        "account_size": ACCOUNT,
        "phases": [{"name": "Phase 1", "profit_target_pct": 8}],
        "daily_loss": {"limit_pct": 5, "base": "day_start_balance"},
        "overall_loss": {"limit_pct": 10, "base": "initial_balance"},
        "profitable_days": {"min_days": 3, "min_profit_pct": 0.5},
        "news_window_min": 2,
        "max_risk_per_position_pct": 1,
        "time_limit_days": None,
    }
    raw.update(overrides)
    return parse_program("test_program", raw, "test")


def rules(**overrides: Any) -> Rules:
    return Rules.of(program(**overrides))


def days(net: list[float], low: list[float] | None = None) -> Days:
    """Days with the given closed P&L; the low is min(0, net) unless given."""
    n = np.asarray(net, dtype=np.float64)
    return Days(n, np.minimum(n, 0.0) if low is None else np.asarray(low, dtype=np.float64))


def pick_data(
    symbol: str,
    trading_days: list[str],
    trades: list[tuple[str, float]],
    risk: float = 1000.0,
    adverse: list[float] | None = None,
    params: dict[str, Any] | None = None,
) -> PickData:
    """A pick with hand-made trades ``(date, money)`` in exit order, at the run's ``risk``."""
    spec = PickSpec(Path(f"/runs/{symbol}"), f"g_{symbol}", 0, symbol, f"/runs/{symbol}:g:0")
    data = PickData(
        spec,
        symbol,
        {
            "account_size": ACCOUNT,
            "risk": risk,
            "start_date": "2024-03-01",
            "end_date": "2024-03-31",
        },
        dict(params or NEWS_OK),
        {},
        risk,
        1,
    )
    data.trade_day = np.array([day_number(d) for d, _ in trades], dtype=np.int64)
    data.trade_pnl = np.array([m for _, m in trades], dtype=np.float64)
    data.trade_r = data.trade_pnl / risk
    data.trading_days = np.array([day_number(d) for d in trading_days], dtype=np.int64)
    data.trade_adverse = None if adverse is None else np.asarray(adverse, dtype=np.float64)
    return data


def account(picks: list[PickData], prog: Program | None = None, risks=None) -> Account:
    return build_account(picks, prog or program(), risks)


def _groups(path: Path, symbol: str, ib_end: str) -> Path:
    groups = [
        {
            "group_id": f"group_{symbol}_001",
            "params": {"ib_end": ib_end},
            "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [1.0, 2.0]},
        }
    ]
    path.write_text(json.dumps({"symbol": symbol, "groups": groups}))
    return path


def symbol_run(folder: Path, symbol: str, *extra: Any, start: str = START, end: str = END) -> Path:
    """A real run (the runner as a process) of one group × 4 combinations of ``symbol`` on
    two weeks of generated bars from a file; the output dir."""
    from backtest.data.sample import generate_bars, write_parquet

    folder.mkdir(parents=True, exist_ok=True)
    bars = folder / f"{symbol}.parquet"
    if not bars.exists():
        write_parquet(generate_bars(symbol, "2024-01-01", "2024-01-31", 7), bars)
    groups = _groups(
        folder / f"groups_{symbol}.json", symbol, "10:00" if symbol == "GER40" else "09:00"
    )
    out = folder / "out"
    result = run_cli(
        "--groups-file", groups, "--data-file", bars, "--start-date", start, "--end-date", end,
        "--workers", 1, "--output-dir", out, "--symbol", symbol, "--no-report",
        "--charts", "none", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out
