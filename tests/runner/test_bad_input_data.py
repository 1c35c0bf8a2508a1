"""Data and news that would crash or mislead are bad input (issue 9): one line naming
the file and the field, exit code 2, no traceback, the output folder untouched."""

from __future__ import annotations

import pandas as pd

from tests.runner.bad_input import assert_refused, groups_with
from tests.runner.helpers import run_args, run_cli


def test_parquet_with_close_and_Close(dataset, tmp_path):
    # Arrange
    frame = pd.read_parquet(dataset.bars)
    frame["Close"] = frame["close"]
    bars = tmp_path / "both.parquet"
    frame.to_parquet(bars)
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(bars, dataset.groups, out))
    # Assert
    assert_refused(result, out, "both.parquet", "'close' and 'Close'")


def test_price_of_1e300(dataset, tmp_path):
    # Arrange
    frame = pd.read_parquet(dataset.bars)
    frame.loc[10, "high"] = 1e300
    bars = tmp_path / "huge.parquet"
    frame.to_parquet(bars)
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(bars, dataset.groups, out))
    # Assert
    assert_refused(result, out, "huge.parquet", "row 11", "high 1e+300")


def test_news_time_in_year_9999(dataset, tmp_path):
    # Arrange
    news = tmp_path / "news.csv"
    news.write_text(
        "time,currency,impact\n2024-01-09T13:30:00,EUR,high\n9999-01-01T08:00,EUR,high\n"
    )
    groups = groups_with(tmp_path / "g.json", {"params": {"news_filter": True}})
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, groups, out, "--news-file", news))
    # Assert
    assert_refused(result, out, "news.csv", "row 2", "field 'time'", "9999")


def test_server_tz_typo_on_a_parquet_file(dataset, tmp_path):
    # Arrange
    out = tmp_path / "out"
    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--server-tz", "Europe/Athen"))
    # Assert
    line = assert_refused(result, out, "--server-tz", "'Europe/Athen'")
    assert "did you mean 'Europe/Athens'?" in line
