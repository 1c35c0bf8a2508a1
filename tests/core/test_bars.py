"""Bars: integer points, local trading day across DST, period slicing."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.core.config import symbol_spec
from backtest.data.bars import bars_from_frame, day_number, falling_path


def _frame(times, prices):
    return pd.DataFrame(
        {
            "time": pd.to_datetime(times, utc=True),
            "open": prices,
            "high": prices,
            "low": prices,
            "close": prices,
        }
    )


def test_prices_become_points_rounded_to_nearest_even():
    bars = bars_from_frame(_frame(["2024-01-02 08:00"] * 1, [100.125]), symbol_spec("GER40"))

    assert bars.open.tolist() == [10012]  # 10012.5 -> 10012 (ties to even)


def test_local_day_and_minute_follow_daylight_saving():
    # 2024-03-31: Berlin goes from UTC+1 to UTC+2. 08:00 UTC is 10:00 local that day,
    # 09:00 local the day before.
    bars = bars_from_frame(
        _frame(["2024-03-30 08:00", "2024-03-31 08:00", "2024-03-31 22:30"], [1.0, 1.0, 1.0]),
        symbol_spec("GER40"),
    )

    assert bars.minute.tolist() == [540, 600, 30]
    assert bars.day.tolist() == [
        day_number("2024-03-30"),
        day_number("2024-03-31"),
        day_number("2024-04-01"),
    ]
    assert bars.weekday.tolist() == [5, 6, 0]


def test_between_is_inclusive_in_trading_days():
    times = pd.date_range("2024-01-01 12:00", periods=5, freq="D", tz="UTC")
    bars = bars_from_frame(_frame(times, np.ones(5)), symbol_spec("XAUUSD"))

    sliced = bars.between("2024-01-02", "2024-01-04")

    assert len(sliced) == 3 and sliced.day[0] == day_number("2024-01-02")


def _falling_one_by_one(open_, close):
    """Spec section 4's path direction bar by bar: a doji flips the bar before it."""
    out, before = [], False  # a first-row doji is the opposite of rising: falling
    for o, c in zip(open_, close):
        before = (not before) if c == o else c < o
        out.append(before)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=40))
def test_the_path_direction_is_the_bar_by_bar_rule(bars):
    # Arrange: few prices, so that dojis come in runs, first and last too
    open_ = np.array([o for o, _ in bars], dtype=np.int64)
    close = np.array([c for _, c in bars], dtype=np.int64)

    # Act
    falling = falling_path(open_, close)

    # Assert
    assert falling.dtype == bool
    assert falling.tolist() == _falling_one_by_one(open_.tolist(), close.tolist())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-(10**9), 4 * 10**9), min_size=1, max_size=30, unique=True),
    st.sampled_from(["GER40", "XAUUSD"]),
)
def test_the_local_calendar_is_pandas_own_local_fields(seconds, name):
    # Arrange: times around the epoch and across decades of daylight saving changes
    spec = symbol_spec(name)
    times = pd.to_datetime(sorted(seconds), unit="s", utc=True)
    local = times.tz_convert(spec.timezone)

    # Act
    bars = bars_from_frame(_frame(times, np.ones(len(times))), spec)

    # Assert
    assert bars.day.tolist() == [day_number(d) for d in local.date]
    assert bars.minute.tolist() == (local.hour * 60 + local.minute).tolist()
    assert bars.weekday.tolist() == local.dayofweek.tolist()
