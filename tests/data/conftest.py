"""Helpers for the data tests: small hand-written data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.core.config import symbol_spec

HEADER = "time,open,high,low,close"


@pytest.fixture
def ger40():
    return symbol_spec("GER40")


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write ``rows`` (CSV lines without header) to a file; returns its path."""

    def write(rows: list[str], name: str = "bars.csv", header: str = HEADER) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n")
        return path

    return write


MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"


@pytest.fixture
def write_mt5(tmp_path: Path):
    """Write MT5 export rows ``(date, time, open, high, low, close[, spread])`` (spread
    100 when not given); returns its path."""

    def write(rows: list[tuple], name: str = "export.csv") -> Path:
        lines = [MT5_HEADER] + [
            "\t".join(map(str, row[:6])) + f"\t10\t0\t{row[6] if len(row) > 6 else 100}"
            for row in rows
        ]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
