"""The live bot's deals and positions as both deal formats read them (:class:`Deal`,
:class:`Exit`, :class:`Position`, :class:`LiveHistory`), the small parsers they share (MT5
numbers, enum codes, times, the stop comments) and the checks common to both (ticket twice,
no deal of the symbols, server times to UTC). The formats: :mod:`backtest.data.deals`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from backtest.data.server_tz import server_to_utc

HTML_REPORT, DEALS_CSV = "mt5_html_report", "deals_csv"
SECOND_NS = 1_000_000_000
HOUR_NS = 3600 * SECOND_NS
# ENUM_DEAL_TYPE, ENUM_DEAL_ENTRY and ENUM_DEAL_REASON of the MetaTrader5 package.
DEAL_TYPES = {0: "buy", 1: "sell"}
DEAL_ENTRIES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}
DEAL_REASONS = {
    0: "client",
    1: "mobile",
    2: "web",
    3: "expert",
    4: "sl",
    5: "tp",
    6: "stop_out",
    7: "rollover",
    8: "vmargin",
    9: "split",
    10: "corporate_action",
}
# The columns a deals CSV must have (``time`` or ``time_msc`` besides).
CSV_REQUIRED = ("symbol", "type", "entry", "volume", "price", "position_id")
# "[sl 16000.00]", "sl 16000.00", "[tp 1.2345]": the terminal's comment on a stop's deal.
_STOP_COMMENT = re.compile(r"^\s*\[?\s*(sl|tp)\s+([0-9][0-9 .,]*)\]?", re.IGNORECASE)
MT5_TIME = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


class DealsError(ValueError):
    """A deals file that cannot be reconciled (one line: file, row, what)."""


@dataclass(frozen=True)
class Deal:
    """One deal (a fill) of the bot, its time in UTC."""

    row: int  # 1-based row of the file's table (CSV: the data row; HTML: the Deals row)
    ticket: str | None
    order: str | None
    time_ns: int
    server_time: str  # the time as the file shows it
    symbol: str
    type: str  # buy | sell
    entry: str  # in | out | inout | out_by
    volume: float
    price: float
    position_id: str | None
    sl: float | None = None
    tp: float | None = None
    commission: float = 0.0
    swap: float = 0.0
    fee: float = 0.0
    profit: float = 0.0
    magic: int | None = None
    reason: str | None = None  # DEAL_REASONS value, or from the comment ("sl"/"tp")
    comment: str = ""
    stop_level: float | None = None  # the level named by an "[sl X]" / "[tp X]" comment


@dataclass(frozen=True)
class Exit:
    """One closing deal of a position."""

    time_ns: int
    price: float
    volume: float
    reason: str  # sl | tp | close | manual | other
    level: float | None  # the stop's level when known (the deal's sl/tp, or its comment)
    ticket: str | None = None


@dataclass
class Position:
    """A live trade: the deals of one position id, in time order."""

    position_id: str
    symbol: str
    direction: int  # +1 long, -1 short
    entry_time_ns: int
    entry_server_time: str
    entry_price: float  # by volume over the entry deals
    volume: float  # the entry deals' volume
    exits: list[Exit] = field(default_factory=list)
    sl_initial: float | None = None
    sl_final: float | None = None
    tp_initial: float | None = None
    tp_final: float | None = None
    commission: float = 0.0
    swap: float = 0.0
    fee: float = 0.0
    profit: float = 0.0
    magic: int | None = None
    comment: str = ""
    tickets: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return bool(self.exits) and sum(e.volume for e in self.exits) >= self.volume - 1e-9

    @property
    def exit_time_ns(self) -> int | None:
        return self.exits[-1].time_ns if self.exits else None

    @property
    def exit_price(self) -> float | None:
        """The exits' price by volume (a partial close averages its deals)."""
        return by_volume([(e.price, e.volume) for e in self.exits]) if self.exits else None

    @property
    def exit_reason(self) -> str | None:
        return self.exits[-1].reason if self.exits else None

    @property
    def partial(self) -> bool:
        """Closed by more than one deal."""
        return len(self.exits) > 1

    @property
    def sl_moved(self) -> bool | None:
        """The SL at the end differs from the SL set with the entry (None: not known)."""
        if self.sl_initial is None or self.sl_final is None:
            return None
        return abs(self.sl_final - self.sl_initial) > 1e-9

    @property
    def net_money(self) -> float:
        return self.profit + self.commission + self.swap + self.fee


def by_volume(fills: list[tuple[float, float]]) -> float:
    """The price of ``(price, volume)`` fills averaged by volume (one fill: its price)."""
    total = sum(volume for _, volume in fills)
    if len(fills) == 1 or total <= 0:
        return fills[0][0]
    return sum(price * volume for price, volume in fills) / total


class DealsRead(NamedTuple):
    """What a format's reader finds in a file (:func:`backtest.data.deals.read_deals` adds
    the file's identity and the filters to make a :class:`LiveHistory`)."""

    deals: list[Deal]
    positions: list[Position]
    notes: list[str]
    account: dict[str, str]  # the HTML header (Account, ...); a CSV has none


@dataclass
class LiveHistory:
    """The bot's positions read from one file, and what was noticed on the way."""

    path: Path
    format: str
    checksum: str
    server_tz: str | None
    symbols: tuple[str, ...]
    magics: tuple[int, ...]
    deals: list[Deal]
    positions: list[Position]
    notes: list[str] = field(default_factory=list)
    account: dict[str, str] = field(default_factory=dict)  # the HTML header (Account, ...)

    def provenance(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.checksum,
            "format": self.format,
            "server_tz": self.server_tz,
            "symbols": list(self.symbols),
            "magics": list(self.magics),
            "deals": len(self.deals),
            "positions": len(self.positions),
            "account": dict(self.account),
        }


# --- small parsers ----------------------------------------------------------------------


def mt5_number(text: Any, where: str, blank: float | None = None) -> float | None:
    """A number as MT5 writes it (``1 234.56``, no-break spaces allowed); blank: ``blank``."""
    value = str(text if text is not None else "").replace("\xa0", "").replace(" ", "").strip()
    if value == "":
        return blank
    try:
        number = float(value)
    except ValueError:
        raise DealsError(f"{where}: {str(text)[:30]!r} is not a number") from None
    if not np.isfinite(number):
        raise DealsError(f"{where}: {str(text)[:30]!r} is not a finite number")
    return number


def mt5_price(text: Any, where: str) -> float | None:
    """A price, where 0 or blank means "none" (an unset SL/TP)."""
    value = mt5_number(text, where)
    return None if value is None or value == 0 else value


def enum_code(text: Any, names: dict[int, str], where: str, what: str) -> str:
    """An enum value given as its number, its name (``buy``) or ``DEAL_TYPE_BUY``."""
    value = str(text).strip()
    if re.fullmatch(r"-?\d+", value):
        code = int(value)
        return names.get(code, f"{what}_{code}")
    lowered = value.lower()
    for prefix in ("deal_type_", "deal_entry_", "deal_reason_"):
        lowered = lowered.removeprefix(prefix)
    if not lowered:
        raise DealsError(f"{where}: no {what}")
    return lowered


def text_time(text: str) -> tuple[dt.datetime, bool]:
    """A text time: ``YYYY.MM.DD HH:MM[:SS]`` (MT5) or ISO 8601; (datetime, has offset)."""
    value = text.strip()
    match = MT5_TIME.match(value)
    if match:
        y, mo, d, h, mi, s = (int(g or 0) for g in match.groups())
        return dt.datetime(y, mo, d, h, mi, s), False
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp, stamp.tzinfo is not None


def naive_ns(stamp: dt.datetime) -> int:
    """A wall-clock time as ns since 1970 on that clock."""
    delta = stamp.replace(tzinfo=None) - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * SECOND_NS + delta.microseconds * 1000


def stop_comment(comment: str) -> tuple[str | None, float | None]:
    """``("sl", 16000.0)`` for a comment ``[sl 16000.00]``, else ``(None, None)``."""
    match = _STOP_COMMENT.match(comment or "")
    if not match:
        return None, None
    try:
        level = float(match.group(2).replace(" ", "").replace(",", ""))
    except ValueError:
        return match.group(1).lower(), None
    return match.group(1).lower(), level


def exit_reason(reason: str | None) -> str:
    """A closing deal's reason in the backtest's words: sl, tp, close (the bot's own
    order, at close time or otherwise), manual (a person), other (stop out, ...)."""
    if reason in ("sl", "tp"):
        return reason
    if reason in (None, "expert"):
        return "close"
    if reason in ("client", "mobile", "web"):
        return "manual"
    return "other"


def none_taken(
    path: Path, wanted: tuple[str, ...], magics: tuple[int, ...], present: Iterable[str]
) -> DealsError:
    """The error for a file without a deal of the wanted symbols (and magic numbers)."""
    seen = sorted({s for s in present if s})
    which = " or ".join(wanted) + (f" with magic {', '.join(map(str, magics))}" if magics else "")
    found = f"symbols in the file: {', '.join(seen)}" if seen else "the file has no trades"
    return DealsError(f"{path}: no deals of {which} ({found})")


def check_tickets(path: Path, tickets: list[tuple[str | None, str]]) -> None:
    """``(ticket, where)`` pairs: a ticket given twice is a DealsError naming both rows."""
    first: dict[str, str] = {}
    for ticket, where in tickets:
        if not ticket:
            continue
        if ticket in first:
            raise DealsError(
                f"{path}: {where}: deal ticket {ticket} appears twice (also {first[ticket]})"
            )
        first[ticket] = where


def deal_times_utc(
    path: Path, local_ns: list[int], labels: list[str], server_tz: str | None
) -> list[int]:
    """Server wall-clock ns to UTC ns; a time the server clock cannot show: DealsError."""
    if not local_ns:
        return []
    if server_tz is None:
        raise DealsError(
            f"{path}: deal times are the broker server's clock: give its time zone "
            "(--server-tz, e.g. broker:NY+7 or Europe/Athens)"
        )
    utc, nonexistent = server_to_utc(np.asarray(local_ns, dtype=np.int64), server_tz)
    bad = np.flatnonzero(nonexistent)
    if len(bad):
        raise DealsError(
            f"{path}: {labels[int(bad[0])]}: the time does not exist in {server_tz} "
            "(clocks went forward): wrong --server-tz?"
        )
    return [int(t) for t in utc]
