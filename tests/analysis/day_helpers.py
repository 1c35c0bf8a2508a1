"""What a drawn day must show, computed here from the raw data file with pandas alone
(not with the code under test): the day's bars on the Berlin clock and its IB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

ZONE = "Europe/Berlin"  # GER40's session time zone


def raw_day(bars_file: Path, date: str) -> pd.DataFrame:
    """The file's bars whose Berlin date is ``date``, with a ``local`` HH:MM column."""
    frame = pd.read_parquet(bars_file)
    local = pd.DatetimeIndex(frame["time"]).tz_convert(ZONE)
    mine = frame[local.strftime("%Y-%m-%d") == date].copy()
    mine["local"] = local[local.strftime("%Y-%m-%d") == date].strftime("%Y-%m-%d %H:%M")
    return mine.reset_index(drop=True)


def raw_ib(day: pd.DataFrame, ib_start: str, ib_end: str) -> tuple[float, float]:
    """(IBL, IBH): the lowest low and highest high of the bars in [ib_start, ib_end)."""
    clock = day["local"].str[11:]
    inside = day[(clock >= ib_start) & (clock < ib_end)]
    return round(float(inside["low"].min()), 2), round(float(inside["high"].max()), 2)


def trades_on(trades: list[dict[str, Any]], date: str) -> list[dict[str, Any]]:
    """The recorded (--save-trades) trades entered on Berlin date ``date``, each with its
    entry and exit on the Berlin clock."""
    out = []
    for trade in trades:
        entry = pd.Timestamp(trade["entry_time"]).tz_convert(ZONE)
        if entry.strftime("%Y-%m-%d") == date:
            exit_ = pd.Timestamp(trade["exit_time"]).tz_convert(ZONE)
            out.append(
                {
                    **trade,
                    "entry_local": entry.strftime("%Y-%m-%d %H:%M"),
                    "exit_local": exit_.strftime("%Y-%m-%d %H:%M"),
                }
            )
    return out


def day_run(folder: Path, groups: list[dict[str, Any]], *extra: Any) -> tuple[Path, Path]:
    """A real runner process over two weeks of GER40 bars (a file, not sample data) with
    ``groups``, trades saved; (the output dir, the bars file)."""
    import json

    from tests.runner.helpers import SYMBOL, run_args, run_cli, write_bars

    folder.mkdir(parents=True, exist_ok=True)
    bars = write_bars(folder / "bars.parquet", "2024-01-01", "2024-01-19")
    groups_file = folder / "groups.json"
    groups_file.write_text(json.dumps({"symbol": SYMBOL, "groups": groups}))
    out = folder / "out"
    args = run_args(bars, groups_file, out, "--save-trades", "--charts", "none", "--no-report")
    result = run_cli(*args, *extra)
    assert result.returncode == 0, result.stderr
    return out, bars
