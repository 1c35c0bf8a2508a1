"""What the live bot and the terminal write: deals and positions, for reconciliation.

Two formats are read (docs/ANALYSIS.md, "Reconcile", names the public examples they
follow):

- the **MetaTrader 5 account history report** (History tab, right click, Report, HTML):
  UTF-16 LE with a byte-order mark, one ``<table>`` whose sections start with a title
  row (``Positions``, ``Orders``, ``Deals``) followed by a header row. Positions rows
  carry an empty (or ``class="hidden"``) cell after ``Type`` that the header row does
  not; the Deals table's ``Cost`` column may be hidden. Cells are mapped by the
  header's names after hidden cells are dropped.
- a **deals CSV** as a Python bot logs ``MetaTrader5.history_deals_get``: one row per
  ``TradeDeal`` (``ticket, order, time, time_msc, type, entry, magic, position_id,
  reason, volume, price, commission, swap, profit, fee, symbol, comment,
  external_id``, and ``sl``/``tp`` where the bot adds them), as
  ``pd.DataFrame(deals, columns=deals[0]._asdict().keys()).to_csv`` writes it.

Times are the broker server's wall clock (``time`` in seconds and ``time_msc`` in
milliseconds since 1970 *on that clock*, or text), turned into UTC with the
``server_tz`` of the data (:func:`backtest.data.loaders.server_to_utc`). A CSV whose
times carry an explicit offset is read as such (every row must then carry one).

Deals are grouped into :class:`Position` objects (entry and exits, prices averaged
by volume, the SL as set first and as it was at the end, the exit reason). Bad
input raises :class:`DealsError` with one line naming the file and the row: a file
that is neither format, no deals of the wanted symbols, a time zone that changes
inside the file, a deal ticket twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from backtest.data.files import file_checksum
from backtest.data.server_tz import check_server_tz, server_to_utc

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
_MT5_TIME = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


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
        return _by_volume([(e.price, e.volume) for e in self.exits]) if self.exits else None

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


def _by_volume(fills: list[tuple[float, float]]) -> float:
    """The price of ``(price, volume)`` fills averaged by volume (one fill: its price)."""
    total = sum(volume for _, volume in fills)
    if len(fills) == 1 or total <= 0:
        return fills[0][0]
    return sum(price * volume for price, volume in fills) / total


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


def _number(text: Any, where: str, blank: float | None = None) -> float | None:
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


def _price(text: Any, where: str) -> float | None:
    """A price, where 0 or blank means "none" (an unset SL/TP)."""
    value = _number(text, where)
    return None if value is None or value == 0 else value


def _code(text: Any, names: dict[int, str], where: str, what: str) -> str:
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


def _text_time(text: str) -> tuple[dt.datetime, bool]:
    """A text time: ``YYYY.MM.DD HH:MM[:SS]`` (MT5) or ISO 8601; (datetime, has offset)."""
    value = text.strip()
    match = _MT5_TIME.match(value)
    if match:
        y, mo, d, h, mi, s = (int(g or 0) for g in match.groups())
        return dt.datetime(y, mo, d, h, mi, s), False
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp, stamp.tzinfo is not None


def _naive_ns(stamp: dt.datetime) -> int:
    """A wall-clock time as ns since 1970 on that clock."""
    delta = stamp.replace(tzinfo=None) - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * SECOND_NS + delta.microseconds * 1000


def _stop_comment(comment: str) -> tuple[str | None, float | None]:
    """``("sl", 16000.0)`` for a comment ``[sl 16000.00]``, else ``(None, None)``."""
    match = _STOP_COMMENT.match(comment or "")
    if not match:
        return None, None
    try:
        level = float(match.group(2).replace(" ", "").replace(",", ""))
    except ValueError:
        return match.group(1).lower(), None
    return match.group(1).lower(), level


def _exit_reason(reason: str | None) -> str:
    """A closing deal's reason in the backtest's words: sl, tp, close (the bot's own
    order, at close time or otherwise), manual (a person), other (stop out, ...)."""
    if reason in ("sl", "tp"):
        return reason
    if reason in (None, "expert"):
        return "close"
    if reason in ("client", "mobile", "web"):
        return "manual"
    return "other"


# --- reading a file ---------------------------------------------------------------------


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise DealsError(f"{path}: empty file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif len(raw) > 1 and raw[1:2] == b"\x00" and raw[0:1] != b"\x00":
        encoding = "utf-16-le"  # a report saved without its byte-order mark
    else:
        encoding = "utf-8"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise DealsError(
            f"{path}: neither an MT5 account history report (HTML) nor a deals CSV: "
            f"not {encoding} text"
        ) from None


def read_deals(
    path: str | Path,
    server_tz: str | None,
    symbols: Iterable[str],
    magics: Iterable[int] = (),
) -> LiveHistory:
    """The positions of ``symbols`` (and, where the file has them, ``magics``) in a deals
    file of either format, times in UTC; DealsError on bad input (module doc)."""
    path = Path(path)
    if not path.is_file():
        raise DealsError(f"{path}: deals file not found")
    if server_tz is not None:
        check_server_tz(server_tz, f"{path}: server_tz")
    wanted = tuple(dict.fromkeys(str(s) for s in symbols))
    magic = tuple(dict.fromkeys(int(m) for m in magics))
    if not wanted:
        raise DealsError(f"{path}: no symbol to take")
    text = _decode(path)
    head = text.lstrip("\ufeff").lstrip()[:2000].lower()
    if head.startswith(("<!doctype html", "<html")) or "<table" in head:
        history = _read_html(path, text, server_tz, wanted, magic)
    else:
        history = _read_csv(path, text, server_tz, wanted, magic)
    return history


def _none_taken(
    path: Path, wanted: tuple[str, ...], magics: tuple[int, ...], present: Iterable[str]
) -> DealsError:
    """The error for a file without a deal of the wanted symbols (and magic numbers)."""
    seen = sorted({s for s in present if s})
    which = " or ".join(wanted) + (f" with magic {', '.join(map(str, magics))}" if magics else "")
    found = f"symbols in the file: {', '.join(seen)}" if seen else "the file has no trades"
    return DealsError(f"{path}: no deals of {which} ({found})")


def _check_tickets(path: Path, tickets: list[tuple[str | None, str]]) -> None:
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


def _to_utc(path: Path, local_ns: list[int], labels: list[str], server_tz: str | None) -> list[int]:
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


# --- the deals CSV ----------------------------------------------------------------------


def _wall_text(ns: int) -> str:
    """Wall-clock ns (on the server's clock) as ``YYYY-MM-DD HH:MM:SS[.fff]``."""
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=ns // 1000)
    text = stamp.isoformat(sep=" ", timespec="milliseconds")
    return text.removesuffix(".000")


def _csv_times(
    path: Path, rows: list[dict[str, str]], numbers: list[int], server_tz: str | None
) -> tuple[list[int], list[str]]:
    """UTC ns of each row from ``time`` / ``time_msc`` (module doc): ``time_msc`` when
    given (milliseconds), checked against ``time``; text with an offset as such. Also
    each time as the server's clock shows it (text)."""
    local: list[int] = []
    aware: list[int] = []
    offset_rows: list[int] = []
    plain_rows: list[int] = []
    for row, n in zip(rows, numbers):
        where = f"{path}: row {n}"
        text = (row.get("time") or "").strip()
        msc = (row.get("time_msc") or "").strip()
        stamp_ns: int | None = None
        if text:
            if re.fullmatch(r"\d+(\.0+)?", text):
                stamp_ns = int(float(text)) * SECOND_NS
            else:
                try:
                    stamp, offset = _text_time(text)
                except ValueError:
                    raise DealsError(f"{where}: time {text[:30]!r} is not a time") from None
                if offset:
                    aware.append(_naive_ns(stamp.astimezone(dt.UTC)))
                    offset_rows.append(n)
                    continue
                stamp_ns = _naive_ns(stamp)
        msc_ns: int | None = None
        if msc:
            if not re.fullmatch(r"\d+(\.0+)?", msc):
                raise DealsError(f"{where}: time_msc {msc[:30]!r} is not a whole number")
            msc_ns = int(float(msc)) * 1_000_000
        if stamp_ns is None and msc_ns is None:
            raise DealsError(f"{where}: no time (time, time_msc)")
        if stamp_ns is not None and msc_ns is not None:
            gap = msc_ns // SECOND_NS * SECOND_NS - stamp_ns
            if gap % HOUR_NS == 0 and gap != 0:
                raise DealsError(
                    f"{where}: time {text!r} and time_msc {msc!r} are {gap // HOUR_NS:+d} h "
                    "apart: one of them is in another time zone (a mixed time zone)"
                )
            if gap != 0:
                raise DealsError(f"{where}: time {text!r} and time_msc {msc!r} disagree")
        local.append(msc_ns if msc_ns is not None else int(stamp_ns or 0))
        plain_rows.append(n)
    if offset_rows and plain_rows:
        raise DealsError(
            f"{path}: row {plain_rows[0]}: a time without a UTC offset among times with one "
            f"(row {offset_rows[0]}): a mixed time zone"
        )
    if offset_rows:
        return aware, [(r.get("time") or "").strip() for r in rows]
    utc = _to_utc(path, local, [f"row {n}" for n in plain_rows], server_tz)
    return utc, [_wall_text(ns) for ns in local]


def _read_csv(
    path: Path,
    text: str,
    server_tz: str | None,
    wanted: tuple[str, ...],
    magics: tuple[int, ...],
) -> LiveHistory:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
        body = list(reader)
    except (StopIteration, csv.Error) as exc:
        raise DealsError(f"{path}: not a readable CSV: {exc}") from None
    missing = [c for c in CSV_REQUIRED if c not in header]
    if "time" not in header and "time_msc" not in header:
        missing.insert(0, "time")
    if missing:
        raise DealsError(
            f"{path}: neither an MT5 account history report (HTML) nor a deals CSV "
            f"(history_deals_get columns): no column {', '.join(missing)}"
        )
    twice = [h for h in header if header.count(h) > 1]
    if twice:
        raise DealsError(f"{path}: column {twice[0]!r} appears twice")
    rows, numbers = [], []
    for number, values in enumerate(body, start=1):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DealsError(
                f"{path}: row {number}: {len(values)} fields, the header has {len(header)}"
            )
        rows.append(dict(zip(header, values)))
        numbers.append(number)
    _check_tickets(path, [(r.get("ticket", "").strip(), f"row {n}") for r, n in zip(rows, numbers)])
    has_magic = "magic" in header
    names = {s.upper() for s in wanted}
    trading, present = [], []
    for i, (row, n) in enumerate(zip(rows, numbers)):
        if _code(row["type"], DEAL_TYPES, f"{path}: row {n}: type", "type") not in ("buy", "sell"):
            continue
        present.append(row["symbol"].strip())
        if row["symbol"].strip().upper() not in names:
            continue
        if magics and has_magic and _magic(row, f"{path}: row {n}") not in magics:
            continue
        trading.append(i)
    if not trading:
        raise _none_taken(path, wanted, magics if has_magic else (), present)
    taken_rows = [rows[i] for i in trading]
    taken_numbers = [numbers[i] for i in trading]
    times, shown = _csv_times(path, taken_rows, taken_numbers, server_tz)
    deals = [
        _csv_deal(path, r, n, t, text)
        for r, n, t, text in zip(taken_rows, taken_numbers, times, shown)
    ]
    notes = []
    if magics and not has_magic:
        notes.append("the deals file has no magic column: every deal of the symbol is taken")
    positions = _positions_from_deals(path, deals)
    orphans = len({d.position_id for d in deals}) - len(positions)
    if orphans:
        notes.append(
            f"{orphans} position(s) without their opening deal in the file (opened before "
            "it starts) are left out"
        )
    return LiveHistory(
        path=path,
        format=DEALS_CSV,
        checksum=file_checksum(path),
        server_tz=server_tz,
        symbols=wanted,
        magics=magics,
        deals=deals,
        positions=positions,
        notes=notes,
    )


def _magic(row: dict[str, str], where: str) -> int | None:
    value = (row.get("magic") or "").strip()
    if not value:
        return None
    number = _number(value, f"{where}: magic")
    return None if number is None else int(number)


def _csv_deal(path: Path, row: dict[str, str], number: int, time_ns: int, server_text: str) -> Deal:
    where = f"{path}: row {number}"
    reason = (row.get("reason") or "").strip()
    stop, level = _stop_comment(row.get("comment", ""))
    position = row["position_id"].strip()
    if not position or position == "0":
        raise DealsError(f"{where}: no position_id")
    return Deal(
        row=number,
        ticket=(row.get("ticket") or "").strip() or None,
        order=(row.get("order") or "").strip() or None,
        time_ns=time_ns,
        server_time=server_text,
        symbol=row["symbol"].strip(),
        type=_code(row["type"], DEAL_TYPES, f"{where}: type", "type"),
        entry=_code(row["entry"], DEAL_ENTRIES, f"{where}: entry", "entry"),
        volume=_number(row["volume"], f"{where}: volume", 0.0) or 0.0,
        price=_number(row["price"], f"{where}: price", 0.0) or 0.0,
        position_id=position,
        sl=_price(row.get("sl"), f"{where}: sl"),
        tp=_price(row.get("tp"), f"{where}: tp"),
        commission=_number(row.get("commission"), f"{where}: commission", 0.0) or 0.0,
        swap=_number(row.get("swap"), f"{where}: swap", 0.0) or 0.0,
        fee=_number(row.get("fee"), f"{where}: fee", 0.0) or 0.0,
        profit=_number(row.get("profit"), f"{where}: profit", 0.0) or 0.0,
        magic=_magic(row, where),
        reason=_code(reason, DEAL_REASONS, f"{where}: reason", "reason") if reason else stop,
        comment=row.get("comment", ""),
        stop_level=level,
    )


def _closing_level(deal: Deal) -> float | None:
    """The level of the stop that closed a deal: its comment's, else its sl/tp field."""
    if deal.stop_level is not None:
        return deal.stop_level
    return deal.sl if deal.reason == "sl" else deal.tp if deal.reason == "tp" else None


def _final_level(initial: float | None, last: Deal | None, kind: str) -> float | None:
    """A position's SL (``kind`` "sl") or TP at its end: the closing deal's field, else the
    level its comment names when that stop closed it, else as set with the entry."""
    if last is None:
        return initial
    field_value = last.sl if kind == "sl" else last.tp
    if field_value is not None:
        return field_value
    if last.reason == kind and last.stop_level is not None:
        return last.stop_level
    return initial


def _positions_from_deals(path: Path, deals: list[Deal]) -> list[Position]:
    """Deals grouped by position id into positions; a position whose opening deal is not
    in the file cannot be reconciled and is left out (the caller says so)."""
    by_id: dict[str, list[Deal]] = {}
    for deal in sorted(deals, key=lambda d: (d.time_ns, d.row)):
        by_id.setdefault(str(deal.position_id), []).append(deal)
    positions = []
    for pid, group in by_id.items():
        reversal = next((d for d in group if d.entry == "inout"), None)
        if reversal is not None:
            raise DealsError(
                f"{path}: row {reversal.row}: position {pid} was reversed (an 'inout' deal "
                "of a netting account): not a trade of this strategy"
            )
        entries = [d for d in group if d.entry == "in"]
        if not entries:
            continue
        closing = [d for d in group if d.entry in ("out", "out_by")]
        first, last = entries[0], (closing[-1] if closing else None)
        volume = sum(d.volume for d in entries)
        price = _by_volume([(d.price, d.volume) for d in entries])
        positions.append(
            Position(
                position_id=pid,
                symbol=first.symbol,
                direction=1 if first.type == "buy" else -1,
                entry_time_ns=first.time_ns,
                entry_server_time=first.server_time,
                entry_price=price,
                volume=round(volume, 8),
                exits=[
                    Exit(
                        d.time_ns,
                        d.price,
                        d.volume,
                        _exit_reason(d.reason),
                        _closing_level(d),
                        d.ticket,
                    )
                    for d in closing
                ],
                sl_initial=first.sl,
                sl_final=_final_level(first.sl, last, "sl"),
                tp_initial=first.tp,
                tp_final=_final_level(first.tp, last, "tp"),
                commission=sum(d.commission for d in group),
                swap=sum(d.swap for d in group),
                fee=sum(d.fee for d in group),
                profit=sum(d.profit for d in group),
                magic=first.magic,
                comment=first.comment,
                tickets=[d.ticket for d in group if d.ticket],
            )
        )
    return sorted(positions, key=lambda p: (p.entry_time_ns, p.position_id))


# --- the MT5 HTML report ----------------------------------------------------------------


@dataclass
class _Cell:
    text: str
    hidden: bool
    header: bool


class _Rows(HTMLParser):
    """Every ``<tr>`` of the page as a list of cells (text, hidden, th)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[_Cell]] = []
        self._row: list[_Cell] | None = None
        self._cell: list[str] | None = None
        self._hidden = False
        self._header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._close_cell()
            self._row = []
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:
                self._row = []
            classes = " ".join(v or "" for k, v in attrs if k == "class").split()
            self._hidden = "hidden" in classes
            self._header = tag == "th"
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_cell()
            if self._row is not None:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).replace("\xa0", " ").split())
            self._row.append(_Cell(text, self._hidden, self._header))
        self._cell = None


SECTIONS = ("Positions", "Orders", "Deals", "Open Positions", "Working Orders", "Results")
_DATE = re.compile(r"^\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}(:\d{2})?$")


def _sections(rows: list[list[_Cell]]) -> dict[str, tuple[list[str], list[tuple[int, list[str]]]]]:
    """``{title: (header names, [(row number in the section, cell texts)])}`` of the
    report's tables; hidden cells dropped."""
    found: dict[str, tuple[list[str], list[tuple[int, list[str]]]]] = {}
    current: str | None = None
    i = 0
    while i < len(rows):
        cells = [c for c in rows[i] if not c.hidden]
        texts = [c.text for c in cells]
        if len([t for t in texts if t]) == 1 and texts and texts[0] in SECTIONS:
            current = texts[0]
            header_cells = (
                [c.text for c in rows[i + 1] if not c.hidden] if i + 1 < len(rows) else []
            )
            found[current] = (header_cells, [])
            i += 2
            continue
        if current is not None and texts and _DATE.match(texts[0]):
            found[current][1].append((len(found[current][1]) + 1, texts))
        i += 1
    return found


def _column(header: list[str], name: str, nth: int = 0) -> int | None:
    hits = [i for i, h in enumerate(header) if h.lower() == name.lower()]
    return hits[nth] if len(hits) > nth else None


def _html_time(text: str, where: str) -> int:
    match = _MT5_TIME.match(text.strip())
    if not match:
        raise DealsError(f"{where}: time {text[:30]!r} is not YYYY.MM.DD HH:MM:SS")
    y, mo, d, h, mi, s = (int(g or 0) for g in match.groups())
    return _naive_ns(dt.datetime(y, mo, d, h, mi, s))


def _read_html(
    path: Path,
    text: str,
    server_tz: str | None,
    wanted: tuple[str, ...],
    magics: tuple[int, ...],
) -> LiveHistory:
    parser = _Rows()
    parser.feed(text)
    parser.close()
    sections = _sections(parser.rows)
    lacking = [s for s in ("Positions", "Deals") if s not in sections]
    if lacking:
        raise DealsError(
            f"{path}: neither an MT5 account history report (HTML) nor a deals CSV: "
            f"no {' or '.join(lacking)} table"
        )
    every_deal = _html_deals(path, *sections["Deals"])
    _check_tickets(path, [(d.ticket, f"Deals row {d.row}") for d in every_deal])
    every_position = _html_positions(path, *sections["Positions"])
    orders = _html_orders(path, *sections["Orders"]) if "Orders" in sections else {}
    names = {s.upper() for s in wanted}
    deals = [d for d in every_deal if d.symbol.upper() in names]
    positions = [p for p in every_position if p.symbol.upper() in names]
    if not deals and not positions:
        present = [d.symbol for d in every_deal] + [p.symbol for p in every_position]
        raise _none_taken(path, wanted, (), present)
    # every server time of the file once, in time order (daylight saving: server_to_utc)
    stamps: dict[int, str] = {}
    for position in positions:
        where = f"Positions row of position {position.position_id}"
        stamps.setdefault(position.entry_time_ns, where)
        for leg in position.exits:
            stamps.setdefault(leg.time_ns, where)
    for deal in deals:
        stamps.setdefault(deal.time_ns, f"Deals row {deal.row}")
    local = sorted(stamps)
    utc = dict(zip(local, _to_utc(path, local, [stamps[t] for t in local], server_tz)))
    deals = [replace(d, time_ns=utc[d.time_ns]) for d in deals]
    for position in positions:
        position.entry_time_ns = utc[position.entry_time_ns]
        position.exits = [replace(e, time_ns=utc[e.time_ns]) for e in position.exits]
    notes = []
    if magics:
        notes.append(
            "the HTML report has no magic numbers: every deal of the symbol is taken "
            "(--magic applies to a deals CSV)"
        )
    unlinked = _link_html(positions, deals, orders)
    if unlinked:
        notes.append(
            f"{unlinked} closing deal(s) could not be tied to one position (positions open "
            "at the same time): those positions keep the Positions table's exit"
        )
    return LiveHistory(
        path=path,
        format=HTML_REPORT,
        checksum=file_checksum(path),
        server_tz=server_tz,
        symbols=wanted,
        magics=magics,
        deals=deals,
        positions=sorted(positions, key=lambda p: (p.entry_time_ns, p.position_id)),
        notes=notes,
        account=_header_facts(parser.rows),
    )


def _header_facts(rows: list[list[_Cell]]) -> dict[str, str]:
    """Name, Account, Company, Date of the report's header (the ``Label:`` rows)."""
    facts = {}
    for row in rows[:12]:
        texts = [c.text for c in row if not c.hidden and c.text]
        if (
            len(texts) >= 2
            and texts[0].endswith(":")
            and texts[0][:-1]
            in (
                "Account",
                "Company",
                "Date",
            )
        ):
            facts[texts[0][:-1].lower()] = texts[1]
    return facts


def _cell(texts: list[str], index: int | None) -> str:
    return texts[index] if index is not None and index < len(texts) else ""


def _html_deals(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> list[Deal]:
    columns = {
        name: _column(header, name)
        for name in ("Time", "Deal", "Symbol", "Type", "Direction", "Volume", "Price", "Order")
    }
    extra = {
        name: _column(header, name) for name in ("Commission", "Fee", "Swap", "Profit", "Comment")
    }
    missing = [n for n, i in columns.items() if i is None]
    if missing:
        raise DealsError(f"{path}: Deals table: no column {', '.join(missing)}")
    deals = []
    for number, texts in rows:
        where = f"{path}: Deals row {number}"
        kind = _cell(texts, columns["Type"]).lower()
        if kind not in ("buy", "sell"):
            continue  # balance, credit, commission rows
        if len(texts) < len(header):
            raise DealsError(f"{where}: {len(texts)} cells, the header has {len(header)}")
        comment = _cell(texts, extra["Comment"])
        stop, level = _stop_comment(comment)
        deals.append(
            Deal(
                row=number,
                ticket=_cell(texts, columns["Deal"]) or None,
                order=_cell(texts, columns["Order"]) or None,
                time_ns=_html_time(_cell(texts, columns["Time"]), where),
                server_time=_cell(texts, columns["Time"]),
                symbol=_cell(texts, columns["Symbol"]),
                type=kind,
                entry=_cell(texts, columns["Direction"]).lower().replace(" ", "_"),
                volume=_number(
                    _cell(texts, columns["Volume"]).split("/")[0], f"{where}: volume", 0.0
                )
                or 0.0,
                price=_number(_cell(texts, columns["Price"]), f"{where}: price", 0.0) or 0.0,
                position_id=None,
                commission=_number(_cell(texts, extra["Commission"]), f"{where}: commission", 0.0)
                or 0.0,
                fee=_number(_cell(texts, extra["Fee"]), f"{where}: fee", 0.0) or 0.0,
                swap=_number(_cell(texts, extra["Swap"]), f"{where}: swap", 0.0) or 0.0,
                profit=_number(_cell(texts, extra["Profit"]), f"{where}: profit", 0.0) or 0.0,
                reason=stop,
                comment=comment,
                stop_level=level,
            )
        )
    return deals


# The Positions table's columns, in order (its rows carry one more, empty, cell after Type).
POSITION_COLUMNS = (
    "Time",
    "Position",
    "Symbol",
    "Type",
    "Volume",
    "Price",
    "S / L",
    "T / P",
    "Close Time",
    "Close Price",
    "Commission",
    "Swap",
    "Profit",
)


def _html_positions(
    path: Path, header: list[str], rows: list[tuple[int, list[str]]]
) -> list[Position]:
    known = [h for h in header if h]
    if [h.lower() for h in known[:4]] != ["time", "position", "symbol", "type"]:
        raise DealsError(f"{path}: Positions table: unexpected columns {', '.join(known[:6])}")
    positions = []
    seen: dict[str, int] = {}
    for number, texts in rows:
        where = f"{path}: Positions row {number}"
        cells = list(texts)
        if len(cells) == len(POSITION_COLUMNS) + 1 and cells[4] == "":
            del cells[4]  # the blank cell the report puts after Type
        if len(cells) < len(POSITION_COLUMNS):
            raise DealsError(f"{where}: {len(cells)} cells, expected {len(POSITION_COLUMNS)}")
        value = dict(zip(POSITION_COLUMNS, cells))
        kind = value["Type"].lower()
        if kind not in ("buy", "sell"):
            continue
        pid = value["Position"]
        if pid in seen:
            raise DealsError(f"{where}: position {pid} appears twice (also row {seen[pid]})")
        seen[pid] = number
        volume = _number(value["Volume"].split("/")[0], f"{where}: volume", 0.0) or 0.0
        close_time = value["Close Time"]
        exits = []
        if close_time:
            exits.append(
                Exit(
                    _html_time(close_time, where),
                    _number(value["Close Price"], f"{where}: close price", 0.0) or 0.0,
                    volume,
                    "close",
                    None,
                )
            )
        sl = _price(value["S / L"], f"{where}: S / L")
        tp = _price(value["T / P"], f"{where}: T / P")
        positions.append(
            Position(
                position_id=pid,
                symbol=value["Symbol"],
                direction=1 if kind == "buy" else -1,
                entry_time_ns=_html_time(value["Time"], where),
                entry_server_time=value["Time"],
                entry_price=_number(value["Price"], f"{where}: price", 0.0) or 0.0,
                volume=volume,
                exits=exits,
                sl_initial=sl,
                sl_final=sl,
                tp_initial=tp,
                tp_final=tp,
                commission=_number(value["Commission"], f"{where}: commission", 0.0) or 0.0,
                swap=_number(value["Swap"], f"{where}: swap", 0.0) or 0.0,
                profit=_number(value["Profit"], f"{where}: profit", 0.0) or 0.0,
            )
        )
    return positions


def _html_orders(
    path: Path, header: list[str], rows: list[tuple[int, list[str]]]
) -> dict[str, tuple[float | None, float | None]]:
    """``{order ticket: (S / L, T / P)}`` as the orders were placed (the opening order of a
    position has the position's ticket)."""
    order, sl, tp = (_column(header, n) for n in ("Order", "S / L", "T / P"))
    if order is None or sl is None or tp is None:
        return {}
    found = {}
    for number, texts in rows:
        where = f"{path}: Orders row {number}"
        found[_cell(texts, order)] = (
            _price(_cell(texts, sl), f"{where}: S / L"),
            _price(_cell(texts, tp), f"{where}: T / P"),
        )
    return found


def _link_html(
    positions: list[Position],
    deals: list[Deal],
    orders: dict[str, tuple[float | None, float | None]],
) -> int:
    """Fill each position from the report's other tables, in place: the SL/TP its opening
    order set (the Positions table shows the last ones), the opening deal's comment and
    fee, and its closing deals (those of its symbol and the opposite side inside its open
    time; the Positions row's single close stays when that is not unique, or when the
    deals do not add up to its volume). Returns how many closing deals could not be tied
    to one position."""
    for position in positions:
        opening = orders.get(position.position_id)
        if opening is not None:
            position.sl_initial, position.tp_initial = opening
        entry = next(
            (d for d in deals if d.entry == "in" and d.order == position.position_id), None
        )
        if entry is not None:
            position.comment = entry.comment
            position.fee += entry.fee
            position.tickets = [entry.ticket] if entry.ticket else []
    unlinked = 0
    closing: dict[str, list[Deal]] = {}
    for deal in deals:
        if deal.entry not in ("out", "out_by"):
            continue
        side = -1 if deal.type == "buy" else 1  # a sell deal closes a long
        owners = [
            p
            for p in positions
            if p.symbol.upper() == deal.symbol.upper()
            and p.direction == side
            and p.entry_time_ns <= deal.time_ns <= (p.exit_time_ns or deal.time_ns)
        ]
        if len(owners) != 1:
            unlinked += 1
            continue
        closing.setdefault(owners[0].position_id, []).append(deal)
    for position in positions:
        own = closing.get(position.position_id, [])
        if not own or abs(sum(d.volume for d in own) - position.volume) > 1e-9:
            _reason_from_twins(position, deals)
            continue
        position.exits = [
            Exit(d.time_ns, d.price, d.volume, _exit_reason(d.reason), d.stop_level, d.ticket)
            for d in own
        ]
        position.tickets += [d.ticket for d in own if d.ticket]
        position.fee += sum(d.fee for d in own)
        last = own[-1]
        if last.reason == "sl" and last.stop_level is not None:
            position.sl_final = last.stop_level
        if last.reason == "tp" and last.stop_level is not None:
            position.tp_final = last.stop_level
    return unlinked


def _reason_from_twins(position: Position, deals: list[Deal]) -> None:
    """A position that keeps the Positions row's single exit takes the reason (and
    level) of the closing deals at that exact time and price on its side, when they
    all tell the same (two positions closed by their own TP at one price)."""
    if len(position.exits) != 1:
        return
    leg = position.exits[0]
    side = "sell" if position.direction > 0 else "buy"
    twins = [
        d
        for d in deals
        if d.entry in ("out", "out_by")
        and d.type == side
        and d.symbol.upper() == position.symbol.upper()
        and d.time_ns == leg.time_ns
        and abs(d.price - leg.price) < 1e-9
    ]
    told = {(_exit_reason(d.reason), d.stop_level) for d in twins}
    if len(told) == 1:
        reason, level = told.pop()
        position.exits = [replace(leg, reason=reason, level=level)]
