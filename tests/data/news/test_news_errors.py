"""A bad news file names the file and the first bad row."""

from __future__ import annotations

import pytest

from backtest.data.news import NewsError, load_news

GOOD = "2025-03-07 13:30:00,USD,high\n"


def _write(tmp_path, body: str, header: str = "time,currency,impact\n"):
    path = tmp_path / "news.csv"
    path.write_text(header + body)
    return path


def test_bad_impact_names_row(tmp_path):
    path = _write(tmp_path, GOOD + GOOD + "2025-03-07 15:00:00,USD,huge\n")
    with pytest.raises(NewsError, match=rf"^{path}: row 3 \(line 4\): field 'impact': 'huge'"):
        load_news(path)


def test_bad_time_names_row(tmp_path):
    path = _write(tmp_path, GOOD + "07/03/2025 13:30,USD,high\n" + "nonsense,USD,high\n")
    with pytest.raises(
        NewsError, match=rf"^{path}: row 2 \(line 3\): field 'time': '07/03/2025 13:30'"
    ):
        load_news(path)


def test_time_of_day_alone_is_not_a_time(tmp_path):
    path = _write(tmp_path, "13:30,USD,high\n")
    with pytest.raises(NewsError, match=r"row 1 \(line 2\): field 'time'"):
        load_news(path)


def test_bad_currency(tmp_path):
    path = _write(tmp_path, "2025-03-07 13:30:00,US DOLLAR,high\n")
    with pytest.raises(
        NewsError, match=r"row 1 \(line 2\): field 'currency': 'US DOLLAR' is not a 3-letter code"
    ):
        load_news(path)


def test_missing_column(tmp_path):
    path = _write(tmp_path, "2025-03-07 13:30:00,high\n", header="time,impact\n")
    with pytest.raises(NewsError, match=rf"^{path}: column 'currency' missing"):
        load_news(path)


def test_missing_file(tmp_path):
    with pytest.raises(NewsError, match="news file not found"):
        load_news(tmp_path / "none.csv")


def test_short_row_names_its_line_past_blank_lines(tmp_path):
    path = _write(tmp_path, GOOD + "\n" + "2025-03-07 15:00:00,USD\n")
    with pytest.raises(NewsError, match=r"row 2 \(line 4\): 2 fields, the header has 3"):
        load_news(path)
