"""Broker server clocks: which ``server_tz`` texts are accepted (an IANA zone or
``broker:NY+H``), the advice for an offset typed instead, and server wall-clock times to UTC
(daylight saving's repeated and skipped hours)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from backtest.core.config import ConfigError, check_timezone
from backtest.data.bars import epoch_ns
from backtest.data.files import DataError

# The usual MetaTrader 5 broker clock: New York time + H hours (H = 7: GMT+2 in winter,
# GMT+3 in summer, switching on the US daylight-saving dates, "New York close").
NEW_YORK = "America/New_York"
_BROKER_CLOCK = re.compile(r"^broker:NY(?:([+-])(\d{1,2}))?$")
# An offset typed instead of a zone name: UTC+2, GMT-3, UTC+02:00, +2 (not Etc/GMT+2,
# which is a zone, with the POSIX sign).
_TYPED_OFFSET = re.compile(r"^\s*(?:UTC|GMT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d\d))?\s*$", re.I)
# A fixed-offset IANA zone: Etc/GMT+2 is UTC-2 (POSIX sign).


def broker_offset_hours(server_tz: str) -> int | None:
    """H of a ``broker:NY+H`` / ``broker:NY-H`` clock (``broker:NY`` is 0), else None."""
    match = _BROKER_CLOCK.match(server_tz)
    if not match:
        return None
    hours = int(match.group(2) or 0)
    return -hours if match.group(1) == "-" else hours


def typed_utc_hours(value: str) -> int | None:
    """The whole hours east of UTC that a text such as ``UTC+2``, ``GMT+02:00`` or ``+2``
    means (not an IANA name), or None."""
    match = _TYPED_OFFSET.match(value)
    if not match or (match.group(3) or "00") != "00":
        return None
    hours = int(match.group(2))
    return -hours if match.group(1) == "-" else hours


def _broker_clocks_for(hours: int) -> str:
    """The broker presets whose winter or summer offset is UTC+``hours``, the usual first."""
    winter = [(h, hours, hours + 1) for h in (hours + 5,) if abs(h) <= 23]
    summer = [(h, hours - 1, hours) for h in (hours + 4,) if abs(h) <= 23]
    # The usual MT5 clock (broker:NY+7) first, whichever of its offsets was typed.
    presets = sorted(winter + summer, key=lambda p: p[0] != 7)
    return " or ".join(
        f"broker:NY{f'{h:+d}' if h else ''} (UTC{w:+d} in winter, UTC{s:+d} in summer)"
        for h, w, s in presets
    )


def check_server_tz(value: Any, where: str = "--server-tz") -> str:
    """``value`` when it is an IANA time zone or a broker clock ``broker:NY+H`` (H whole
    hours, -23..23); else a DataError of one line naming ``where``. An offset such as
    ``UTC+2`` is answered with the broker presets of that offset and the fixed zone of
    exactly that offset (``Etc/GMT-2``: POSIX inverts the sign), never another offset."""
    if isinstance(value, str) and value.startswith("broker:"):
        hours = broker_offset_hours(value)
        if hours is None or abs(hours) > 23:
            raise DataError(
                f"{where}: {value!r} is not a broker clock; write broker:NY+H "
                "(New York time + H hours, H from -23 to 23, e.g. broker:NY+7)"
            )
        return value
    try:
        return check_timezone(value, where)
    except ConfigError as exc:
        hours = typed_utc_hours(value) if isinstance(value, str) else None
        if hours is not None and -12 <= hours <= 14:
            fixed = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
            raise DataError(
                f"{where}: {value!r} is not a time zone name; an MT5 server on daylight "
                f"saving (the US dates, as most are) is {_broker_clocks_for(hours)}; one "
                f"on UTC{hours:+d} all year is {fixed}"
                + (f" (POSIX sign: {fixed} is UTC{hours:+d})" if hours else "")
            ) from None
        raise DataError(
            f"{exc}; or a broker clock such as broker:NY+7 (New York time + 7 h: "
            "GMT+2/GMT+3 on the US daylight-saving dates)"
        ) from None


def server_to_utc(local_ns: np.ndarray, server_tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Broker server wall-clock times (ns, naive) to UTC ns; returns (utc_ns, nonexistent).

    ``server_tz`` is an IANA zone or ``broker:NY+H``: the server clock is New York
    wall-clock time shifted by H hours, so it is read as New York time after
    taking the H hours off (its DST steps fall on the US dates, at 02:00 New York
    time, i.e. at 02:00 + H on the server clock).

    Daylight saving, in file order:

    - **Ambiguous** times (the repeated hour when clocks go back) are read as
      the first pass (summer time) until the clock visibly restarts: within a
      run of consecutive ambiguous rows, a row whose local time is not later
      than an earlier row of that run is the second pass (standard time). So a
      sorted file that holds both passes maps each to its own UTC minute, and
      one that holds only one pass is read as summer time.
    - **Nonexistent** times (the skipped hour when clocks go forward) cannot
      come from a correct server clock: they are flagged (``nonexistent``) and
      treated as invalid rows (an error, or dropped with ``drop_invalid``),
      since any guess could collide with a real bar. Such rows usually mean the
      wrong ``server_tz``.
    """
    hours = broker_offset_hours(server_tz)
    if hours is not None:
        return server_to_utc(local_ns - np.int64(hours * 3_600_000_000_000), NEW_YORK)
    local = pd.DatetimeIndex(local_ns.astype("datetime64[ns]"))
    n = len(local)
    as_summer = local.tz_localize(server_tz, ambiguous=np.ones(n, bool), nonexistent="NaT")
    as_winter = local.tz_localize(server_tz, ambiguous=np.zeros(n, bool), nonexistent="NaT")
    utc = epoch_ns(as_summer).copy()  # changed in place below
    nonexistent = np.asarray(as_summer.isna())
    winter = epoch_ns(as_winter)
    ambiguous = np.flatnonzero((utc != winter) & ~nonexistent)
    run_max = None
    previous = -2
    for i in ambiguous:
        if i != previous + 1:
            run_max = None
        if run_max is not None and local_ns[i] <= run_max:
            utc[i] = winter[i]
        run_max = local_ns[i] if run_max is None else max(run_max, local_ns[i])
        previous = i
    return utc, nonexistent
