"""drop_invalid drops invalid rows, then duplicates (first kept), then sorts, and says how many."""

import logging

import numpy as np
import pandas as pd

from backtest.data.loaders import load_bars


def _utc_ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_drop_invalid_counts_and_keeps_the_rest(write_csv, ger40):
    path = write_csv(
        [
            "2024-01-02 09:00,100.00,101.00,99.00,100.50",
            "2024-01-02 09:02,100.00,99.00,98.00,100.00",  # invalid: high < open
            "2024-01-02 09:03,100.10,100.20,100.00,100.10",
            "2024-01-02 09:03,200.00,201.00,199.00,200.00",  # duplicate of 09:03
            "2024-01-02 09:01,100.50,100.60,100.40,100.40",
        ]
    )  # out of order
    messages = []

    bars = load_bars(path, ger40, drop_invalid=True, log=messages.append)

    assert messages == [
        f"{path}: dropped 1 invalid bar(s) and 1 duplicate timestamp(s); "
        "sorted 1 out-of-order bar(s)"
    ]
    assert list(bars.time_ns) == [
        _utc_ns("2024-01-02 09:00"),
        _utc_ns("2024-01-02 09:01"),
        _utc_ns("2024-01-02 09:03"),
    ]
    assert list(bars.open) == [10000, 10050, 10010]


def test_drop_invalid_reports_through_a_logger(write_csv, ger40, caplog):
    path = write_csv(["2024-01-02 09:00,100,101,99,100", "2024-01-02 09:01,100,99,98,100"])
    logger = logging.getLogger("test.drop_invalid")

    with caplog.at_level(logging.WARNING, logger="test.drop_invalid"):
        bars = load_bars(path, ger40, drop_invalid=True, log=logger)

    assert len(bars) == 1
    assert "dropped 1 invalid bar(s) and 0 duplicate timestamp(s)" in caplog.text


def test_clean_file_logs_nothing(write_csv, ger40):
    path = write_csv(["2024-01-02 09:00,100,101,99,100"])
    messages = []

    bars = load_bars(path, ger40, drop_invalid=True, log=messages.append)

    assert messages == [] and np.array_equal(bars.close, [10000])
