"""An invalid bar is an error naming the file, the first bad row, its time and the fault."""

import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars

GOOD = [
    "2024-01-02 09:00,100.00,101.00,99.00,100.50",
    "2024-01-02 09:01,100.50,100.80,100.10,100.20",
]


@pytest.mark.parametrize(
    "bad_row, fault",
    [
        (
            "2024-01-02 09:02,100.20,100.10,99.90,100.15",
            "high 100.1 is below max(open, close) 100.2",
        ),
        (
            "2024-01-02 09:02,100.20,100.30,100.16,100.15",
            "low 100.16 is above min(open, close) 100.15",
        ),
        ("2024-01-02 09:02,100.20,100.30,,100.15", "low nan is not a finite positive price"),
        ("2024-01-02 09:02,-1.0,100.30,-2.0,100.15", "open -1.0 is not a finite positive price"),
        ("2024-01-02 09:02,100.20,inf,100.00,100.15", "high inf is not a finite positive price"),
    ],
)
def test_invalid_bar_names_file_row_time_and_fault(write_csv, ger40, bad_row, fault):
    path = write_csv(GOOD + [bad_row, "2024-01-02 09:03,100,101,99,100.5"])

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    message = str(err.value)
    assert message.startswith(f"{path}: row 3 (2024-01-02 09:02): ")
    assert fault in message
    assert "\n" not in message


def test_first_bad_row_is_reported_when_several(write_csv, ger40):
    path = write_csv(GOOD + ["2024-01-02 09:02,100,99,98,100", "2024-01-02 09:03,100,99,98,100"])

    with pytest.raises(DataError, match=r"row 3 \(2024-01-02 09:02\)"):
        load_bars(path, ger40)


def test_bar_touching_its_edges_is_valid(write_csv, ger40):
    path = write_csv(["2024-01-02 09:00,100.00,100.00,100.00,100.00"])

    bars = load_bars(path, ger40)

    assert (bars.open[0], bars.high[0], bars.low[0], bars.close[0]) == (10000,) * 4
