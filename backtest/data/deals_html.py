"""The MetaTrader 5 account history report (HTML; module doc of :mod:`backtest.data.deals`):
its Positions, Orders and Deals tables, cells mapped by the header's names after hidden cells
are dropped, the positions filled from the deals (SL/TP as placed, closing deals, reasons)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

from backtest.data.deal_records import (
    MT5_TIME,
    Deal,
    DealsError,
    DealsRead,
    Exit,
    Position,
    check_tickets,
    deal_times_utc,
    exit_reason,
    mt5_number,
    mt5_price,
    naive_ns,
    none_taken,
    stop_comment,
)


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
    match = MT5_TIME.match(text.strip())
    if not match:
        raise DealsError(f"{where}: time {text[:30]!r} is not YYYY.MM.DD HH:MM:SS")
    y, mo, d, h, mi, s = (int(g or 0) for g in match.groups())
    return naive_ns(dt.datetime(y, mo, d, h, mi, s))


def read_report_html(
    path: Path,
    text: str,
    server_tz: str | None,
    wanted: tuple[str, ...],
    magics: tuple[int, ...],
) -> DealsRead:
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
    check_tickets(path, [(d.ticket, f"Deals row {d.row}") for d in every_deal])
    every_position = _html_positions(path, *sections["Positions"])
    orders = _html_orders(path, *sections["Orders"]) if "Orders" in sections else {}
    names = {s.upper() for s in wanted}
    deals = [d for d in every_deal if d.symbol.upper() in names]
    positions = [p for p in every_position if p.symbol.upper() in names]
    if not deals and not positions:
        present = [d.symbol for d in every_deal] + [p.symbol for p in every_position]
        raise none_taken(path, wanted, (), present)
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
    utc = dict(zip(local, deal_times_utc(path, local, [stamps[t] for t in local], server_tz)))
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
    positions = sorted(positions, key=lambda p: (p.entry_time_ns, p.position_id))
    return DealsRead(deals, positions, notes, _header_facts(parser.rows))


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
        stop, level = stop_comment(comment)
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
                volume=mt5_number(
                    _cell(texts, columns["Volume"]).split("/")[0], f"{where}: volume", 0.0
                )
                or 0.0,
                price=mt5_number(_cell(texts, columns["Price"]), f"{where}: price", 0.0) or 0.0,
                position_id=None,
                commission=mt5_number(
                    _cell(texts, extra["Commission"]), f"{where}: commission", 0.0
                )
                or 0.0,
                fee=mt5_number(_cell(texts, extra["Fee"]), f"{where}: fee", 0.0) or 0.0,
                swap=mt5_number(_cell(texts, extra["Swap"]), f"{where}: swap", 0.0) or 0.0,
                profit=mt5_number(_cell(texts, extra["Profit"]), f"{where}: profit", 0.0) or 0.0,
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
        volume = mt5_number(value["Volume"].split("/")[0], f"{where}: volume", 0.0) or 0.0
        close_time = value["Close Time"]
        exits = []
        if close_time:
            exits.append(
                Exit(
                    _html_time(close_time, where),
                    mt5_number(value["Close Price"], f"{where}: close price", 0.0) or 0.0,
                    volume,
                    "close",
                    None,
                )
            )
        sl = mt5_price(value["S / L"], f"{where}: S / L")
        tp = mt5_price(value["T / P"], f"{where}: T / P")
        positions.append(
            Position(
                position_id=pid,
                symbol=value["Symbol"],
                direction=1 if kind == "buy" else -1,
                entry_time_ns=_html_time(value["Time"], where),
                entry_server_time=value["Time"],
                entry_price=mt5_number(value["Price"], f"{where}: price", 0.0) or 0.0,
                volume=volume,
                exits=exits,
                sl_initial=sl,
                sl_final=sl,
                tp_initial=tp,
                tp_final=tp,
                commission=mt5_number(value["Commission"], f"{where}: commission", 0.0) or 0.0,
                swap=mt5_number(value["Swap"], f"{where}: swap", 0.0) or 0.0,
                profit=mt5_number(value["Profit"], f"{where}: profit", 0.0) or 0.0,
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
            mt5_price(_cell(texts, sl), f"{where}: S / L"),
            mt5_price(_cell(texts, tp), f"{where}: T / P"),
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
            Exit(d.time_ns, d.price, d.volume, exit_reason(d.reason), d.stop_level, d.ticket)
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
    told = {(exit_reason(d.reason), d.stop_level) for d in twins}
    if len(told) == 1:
        reason, level = told.pop()
        position.exits = [replace(leg, reason=reason, level=level)]
