"""CSV times: naive means UTC, an offset is honoured; local day/minute follow the symbol."""

import pandas as pd

from backtest.data.loaders import load_bars


def test_offsets_are_converted_to_utc(write_csv, ger40):
    path = write_csv(
        [
            "2024-01-02 08:00:00,100,101,99,100",  # naive: UTC
            "2024-01-02T10:01:00+01:00,100,101,99,100",  # 09:01 UTC
            "2024-07-01T11:00:00+02:00,100,101,99,100",  # 09:00 UTC, summer
            "2024-07-01T09:01:00Z,100,101,99,100",
        ]
    )

    bars = load_bars(path, ger40)

    assert list(bars.times_utc()) == [
        pd.Timestamp(t, tz="UTC")
        for t in ("2024-01-02 08:00", "2024-01-02 09:01", "2024-07-01 09:00", "2024-07-01 09:01")
    ]
    # Berlin local minutes: winter UTC+1, summer UTC+2
    assert list(bars.minute) == [9 * 60, 10 * 60 + 1, 11 * 60, 11 * 60 + 1]


def test_mixed_case_columns_and_extra_columns_are_read(write_csv, ger40):
    path = write_csv(
        ["2024-01-02 08:00,100,101,99,100.25,17,3"],
        header="Time,Open,High,Low,Close,tick_volume,spread",
    )

    bars = load_bars(path, ger40)

    assert list(bars.close) == [10025]
