"""M1 bars as plain integer-point arrays, with their session-local calendar.

Every engine (the emulator and the sweep kernel) reads the same :class:`Bars`:
prices are whole points (spec section 1), each bar carries its intrabar path
direction (spec section 4) and its trading day / minute / weekday in the
symbol's session time zone. Loaders (``backtest.data.loaders``) produce it; nothing
downstream touches pandas time zones again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from backtest.core.config import SymbolSpec

EPOCH_DAY = dt.date(1970, 1, 1)
# Times (bars, news events) outside this span are refused: no M1 data exists before
# 1970, and nanoseconds since the epoch stay far inside int64 before 2200.
FIRST_TIME = pd.Timestamp("1970-01-01", tz="UTC")
LAST_TIME = pd.Timestamp("2200-01-01", tz="UTC")


def day_number(day: dt.date | str) -> int:
    """A calendar date as days since 1970-01-01 (the unit of ``Bars.day``)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return (day - EPOCH_DAY).days


def day_date(number: int) -> dt.date:
    return EPOCH_DAY + dt.timedelta(days=int(number))


def falling_path(open_: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Whether each bar's path is open→high→low→close (spec section 4).

    Rising bars (close > open) go open→low→high→close; a doji takes the
    opposite direction of the bar before it; a first-row doji is falling.
    Vectorised: the ``k``-th doji after the last bar that is not one (or before the
    first row, taken as rising) has that bar's direction flipped ``k`` times.
    """
    open_, close = np.asarray(open_), np.asarray(close)
    at = np.arange(len(open_))
    last = np.maximum.accumulate(np.where(close != open_, at, -1)) if len(at) else at
    before = np.where(last >= 0, close[last] < open_[last], False)
    return before ^ ((at - last) % 2 == 1)


@dataclass(frozen=True)
class Bars:
    """Validated M1 bars of one symbol, prices in integer points.

    ``time_ns`` is the bar open time (UTC, ns since the epoch); ``day`` the
    trading day (local date, days since 1970-01-01); ``minute`` the local
    minute of the day (0..1439); ``weekday`` 0 = Monday; ``falling`` the path
    direction, computed on the whole loaded file so that "the bar before"
    crosses period starts; ``spread_data`` the file's spread column as it was
    read (see :meth:`bar_spread`).
    """

    symbol: SymbolSpec
    time_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    falling: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    weekday: np.ndarray
    # The file's own ``spread`` column in its units (MT5: broker points), NaN where the
    # file has none; :meth:`bar_spread` turns it into points (spec section 8.1).
    spread_data: np.ndarray
    source: str = ""
    checksum: str = ""
    sample: bool = False  # built-in sample data (a random walk), not market data

    def __len__(self) -> int:
        return len(self.time_ns)

    def between(self, start_date: dt.date | str, end_date: dt.date | str) -> Bars:
        """The bars whose trading day lies in ``start_date..end_date`` (inclusive)."""
        lo = np.searchsorted(self.day, day_number(start_date), side="left")
        hi = np.searchsorted(self.day, day_number(end_date), side="right")
        return self.take(slice(lo, hi))

    def take(self, index: slice | np.ndarray) -> Bars:
        arrays = {
            name: getattr(self, name)[index]
            for name in (
                "time_ns",
                "open",
                "high",
                "low",
                "close",
                "falling",
                "day",
                "minute",
                "weekday",
                "spread_data",
            )
        }
        return replace(self, **arrays)

    def bar_spread(self) -> np.ndarray:
        """Each bar's spread ``s`` in whole points, int64 (spec section 8.1): with
        ``spread_source: data`` the file's column × ``spread_unit`` / ``point`` as
        ``floor(x + 0.5)``, else the symbol's fixed spread on every bar. Read from the
        symbol at each call, so a copy of the bars with other costs (a cost stress)
        gets its own spreads."""
        sym = self.symbol
        if sym.spread_source != "data":
            return np.full(len(self), sym.spread_points, dtype=np.int64)
        if not np.isfinite(self.spread_data).all():
            raise ValueError(
                f"{self.source or 'bars'}: spread_source 'data' needs a spread on every bar"
            )
        return np.floor(self.spread_data * sym.unit_of_spread / sym.point + 0.5).astype(np.int64)

    def trading_days(self) -> np.ndarray:
        """The distinct trading days present (sorted day numbers)."""
        return np.unique(self.day)

    def price(self, points: np.ndarray) -> np.ndarray:
        """Points back to prices, rounded to the symbol's digits."""
        return np.round(np.asarray(points) * self.symbol.point, self.symbol.digits)

    def times_utc(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.time_ns.astype("datetime64[ns]"), tz="UTC")


def epoch_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Nanoseconds since the epoch (UTC for tz-aware times; NaT is the int64 minimum).

    The public spelling of ``index.as_unit("ns").asi8``, which is not public pandas API
    (pandas-stubs does not have it).
    """
    return index.to_numpy(dtype="datetime64[ns]").view(np.int64)


def bars_from_frame(
    frame: pd.DataFrame, symbol: SymbolSpec, source: str = "", checksum: str = ""
) -> Bars:
    """Build :class:`Bars` from a validated frame.

    ``frame`` has a tz-aware UTC ``time`` column (bar open), sorted and unique,
    and float ``open/high/low/close`` in price units; an optional ``spread`` column
    (:func:`bars_from_arrays`).
    """
    times = pd.DatetimeIndex(frame["time"])
    if times.tz is None:
        raise ValueError("bars_from_frame needs tz-aware UTC times")
    names = [c for c in ("open", "high", "low", "close", "spread") if c in frame.columns]
    columns = {c: frame[c].to_numpy(dtype=np.float64) for c in names}
    return bars_from_arrays(epoch_ns(times.tz_convert("UTC")), columns, symbol, source, checksum)


_DAY_NS = 86_400 * 10**9
_MINUTE_NS = 60 * 10**9


def bars_from_arrays(
    time_ns: np.ndarray,
    columns: dict[str, np.ndarray],
    symbol: SymbolSpec,
    source: str = "",
    checksum: str = "",
) -> Bars:
    """Build :class:`Bars` from validated bar open times (UTC ns since the epoch, sorted
    and unique) and float ``open/high/low/close`` arrays in price units. Prices become
    ``rint(price / point)`` (nearest, ties to even). An optional ``spread`` array (the
    file's units) is kept as it is, NaN where absent (spec section 8.1). The local
    calendar is the local wall clock's: its day (floor of nanoseconds by a day), minute
    of that day and weekday (1970-01-01 was a Thursday)."""
    time_ns = np.asarray(time_ns, dtype=np.int64)
    points = {
        col: np.rint(np.asarray(columns[col], dtype=np.float64) / symbol.point).astype(np.int64)
        for col in ("open", "high", "low", "close")
    }
    utc = pd.DatetimeIndex(time_ns.view("datetime64[ns]"), tz="UTC")
    wall = epoch_ns(utc.tz_convert(symbol.timezone).tz_localize(None))
    day = wall // _DAY_NS
    spread = columns.get("spread")
    return Bars(
        symbol=symbol,
        time_ns=time_ns,
        open=points["open"],
        high=points["high"],
        low=points["low"],
        close=points["close"],
        falling=falling_path(points["open"], points["close"]),
        day=day.astype(np.int32),
        minute=((wall - day * _DAY_NS) // _MINUTE_NS).astype(np.int16),
        weekday=((day + 3) % 7).astype(np.int8),
        spread_data=(
            np.asarray(spread, dtype=np.float64)
            if spread is not None
            else np.full(len(time_ns), np.nan)
        ),
        source=source,
        checksum=checksum,
    )
