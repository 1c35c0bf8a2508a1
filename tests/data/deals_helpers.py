"""The deals fixtures (tests/data/fixtures/deals/, described in its README.md) and the
server clock they were written on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "deals"
SERVER_TZ = "broker:NY+7"  # January: UTC+2


def fixture(name: str) -> Path:
    return FIXTURES / name


def utc_ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value
