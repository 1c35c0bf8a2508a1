"""Checks of one configuration value, each a ConfigError of one line naming where.

Shared by the configuration (``backtest.core.config``), the symbols' execution settings
(``backtest.core.symbols``) and the readers of other settings files.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ConfigError(ValueError):
    """A configuration file or value that cannot be used."""


def did_you_mean(name: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)``, shortened when long (a 400-digit integer is not echoed whole)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, int):
        return f"{text[:12]}... (an integer of {len(text.lstrip('-'))} digits)"
    return f"{text[: limit - 3]}..."


def check_timezone(name: Any, where: str) -> str:
    """``name`` when it is an IANA time zone (``Europe/Berlin``), else ConfigError.

    The suggestion never changes the offset the user typed: ``UTC+2`` is answered with
    ``Etc/GMT-2`` (POSIX inverts the sign), not with ``UTC``; a name carrying an offset
    that no zone has, or a sign that is unclear, gets no zone but the rule; and a close
    name is suggested only among zones without an offset in their name."""
    if isinstance(name, str) and name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    rule = "POSIX inverts the sign: Etc/GMT-2 is UTC+2, Etc/GMT+2 is UTC-2"
    hint = ""
    if isinstance(name, str):
        typed = re.match(
            r"^\s*(Etc/)?(?:UTC|GMT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d\d))?\s*$", name, re.I
        )
        if typed:
            posix, sign, hours, minutes = typed.groups()
            east = (sign == "+") != bool(posix)  # Etc/GMT+2 means UTC-2
            offset = f"UTC{'+' if east else '-'}{int(hours)}" + (
                f":{minutes}" if minutes and minutes != "00" else ""
            )
            whole = (minutes or "00") == "00"
            if whole and -12 <= (int(hours) if east else -int(hours)) <= 14:
                fixed = "UTC" if int(hours) == 0 else f"Etc/GMT{'-' if east else '+'}{int(hours)}"
                hint = f" (a fixed {offset} is '{fixed}'; {rule})"
            else:
                place = "" if whole else "; name the place instead, e.g. Asia/Kolkata"
                hint = (
                    f" (no IANA zone is a fixed {offset}: fixed zones are whole hours, "
                    f"Etc/GMT-14 .. Etc/GMT+12, and {rule}{place})"
                )
        elif re.search(r"(UTC|GMT)\s*[+-]?\s*\d", name, re.I):
            hint = f" (fixed offsets are written Etc/GMT-2 for UTC+2: {rule})"
        else:
            plain = [z for z in available_timezones() if not re.search(r"\d", z)]
            hint = did_you_mean(name, sorted(plain))
    raise ConfigError(f"{where}: {shown(name)} is not an IANA time zone{hint} (e.g. Europe/Berlin)")


def check_number(
    value: Any,
    where: str,
    low: float = 0.0,
    *,
    low_open: bool = True,
    high: float | None = None,
    high_open: bool = False,
    whole: bool = False,
) -> float:
    """A finite number (not a boolean, not a string) in the given range, as float.

    The range is checked before any float conversion, so an integer of 400 digits is
    "out of range", not an overflow.
    """
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise ConfigError(f"{where}: {shown(value)} is not {kind}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {shown(value)} is not a finite number")
    if value < low or (low_open and value == low):
        raise ConfigError(f"{where}: {shown(value)} must be {'>' if low_open else '>='} {low:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(f"{where}: {shown(value)} must be {'<' if high_open else '<='} {high:g}")
    return float(value)


def mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    """``value`` when it is a mapping, else ConfigError naming ``what`` it should map."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a mapping of {what} (got {shown(value)})")
    return value


def known_keys(section: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    """ConfigError for the first key of ``section`` not in ``known`` (with "did you mean")."""
    for key in section:
        if key not in known:
            raise ConfigError(
                f"{where}.{key}: unknown key{did_you_mean(str(key), known)}; "
                f"known: {', '.join(known)}"
            )


def check_hhmm(value: Any, where: str) -> None:
    """ConfigError unless ``value`` is a time ``HH:MM`` (a string: YAML reads 09:30 as 570)."""
    if not (isinstance(value, str) and _HHMM.match(value)):
        raise ConfigError(f"{where}: {value!r} is not a time HH:MM (quote it in YAML)")
