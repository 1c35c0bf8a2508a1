"""Missing columns, unparseable times, empty and missing files are one-line errors."""

import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars


def test_missing_column(write_csv, ger40):
    path = write_csv(["2024-01-02 08:00,100,101,100"], header="time,open,high,close")

    with pytest.raises(
        DataError, match=r"missing column\(s\) low \(found: time, open, high, close\)"
    ):
        load_bars(path, ger40)


def test_unparseable_time_names_the_row(write_csv, ger40):
    path = write_csv(["2024-01-02 08:00,100,101,99,100", "yesterday,100,101,99,100"])

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    assert str(err.value) == (
        f"{path}: row 2: time 'yesterday' is not a date-time between 1970-01-01 and 2200-01-01"
    )


@pytest.mark.parametrize("content", ["", "time,open,high,low,close\n"])
def test_empty_file(tmp_path, ger40, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)

    with pytest.raises(DataError, match=f"{path}: (empty file|no data rows)"):
        load_bars(path, ger40)


def test_missing_file(tmp_path, ger40):
    with pytest.raises(DataError, match="data file not found"):
        load_bars(tmp_path / "nope.parquet", ger40)


def test_missing_time_lists_every_column_of_the_file(write_csv, ger40):
    path = write_csv(["2024.01.02,100,101,99,100,5"], header="Date,Open,High,Low,Close,Volume")

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    assert str(err.value) == (
        f"{path}: missing column(s) time (found: Date, Open, High, Low, Close, Volume)"
    )


def test_truncated_parquet(tmp_path, ger40):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")

    with pytest.raises(DataError, match=f"{path}: not a readable Parquet file"):
        load_bars(path, ger40)
