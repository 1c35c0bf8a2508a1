"""Unsorted input is an error naming the first row that goes back in time."""

import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars


def test_unsorted_input_is_an_error(write_csv, ger40):
    path = write_csv(
        [
            "2024-01-02 09:00,100,101,99,100",
            "2024-01-02 09:05,100,101,99,100",
            "2024-01-02 09:06,100,101,99,100",
            "2024-01-02 09:03,100,101,99,100",
        ]
    )

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    assert str(err.value) == (
        f"{path}: row 4 (2024-01-02 09:03): time is before row 3's "
        "(2024-01-02 09:06): input not sorted"
    )
