"""epoch_ns: UTC nanoseconds of a DatetimeIndex, whatever its time zone and unit."""

import numpy as np
import pandas as pd

from backtest.data.bars import epoch_ns


def test_tz_aware_times_are_utc_nanoseconds() -> None:
    # 2024-01-01 10:00 in Berlin (CET, UTC+1) is 09:00 UTC = 1704099600 s after the epoch.
    index = pd.DatetimeIndex(["2024-01-01 10:00"]).tz_localize("Europe/Berlin")

    assert epoch_ns(index).tolist() == [1_704_099_600_000_000_000]


def test_second_unit_and_nat() -> None:
    index = pd.DatetimeIndex(["1970-01-01 00:00:01", None]).as_unit("s")

    result = epoch_ns(index)

    assert result.dtype == np.int64
    assert result.tolist() == [1_000_000_000, np.iinfo(np.int64).min]
