"""Duplicate timestamps are an error naming the second occurrence and the first."""

import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars


def test_duplicate_time_is_an_error(write_csv, ger40):
    path = write_csv(
        [
            "2024-01-02 09:00,100,101,99,100",
            "2024-01-02 09:01,100,101,99,100",
            "2024-01-02T09:01:00+00:00,100,101,99,100.5",
        ]
    )

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    assert str(err.value) == (
        f"{path}: row 3 (2024-01-02T09:01:00+00:00): duplicate time (same as row 2)"
    )
