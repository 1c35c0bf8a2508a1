"""The deals CSV a Python bot logs from ``MetaTrader5.history_deals_get`` (module doc of
:mod:`backtest.data.deals`): its rows as :class:`Deal`, its times (``time`` / ``time_msc``,
server clock or explicit offsets), and deals grouped by position id into positions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from backtest.data.deal_records import (
    CSV_REQUIRED,
    DEAL_ENTRIES,
    DEAL_REASONS,
    DEAL_TYPES,
    HOUR_NS,
    SECOND_NS,
    Deal,
    DealsError,
    DealsRead,
    Exit,
    Position,
    by_volume,
    check_tickets,
    deal_times_utc,
    enum_code,
    exit_reason,
    mt5_number,
    mt5_price,
    naive_ns,
    none_taken,
    stop_comment,
    text_time,
)


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
                    stamp, offset = text_time(text)
                except ValueError:
                    raise DealsError(f"{where}: time {text[:30]!r} is not a time") from None
                if offset:
                    aware.append(naive_ns(stamp.astimezone(dt.UTC)))
                    offset_rows.append(n)
                    continue
                stamp_ns = naive_ns(stamp)
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
    utc = deal_times_utc(path, local, [f"row {n}" for n in plain_rows], server_tz)
    return utc, [_wall_text(ns) for ns in local]


def read_deals_csv(
    path: Path,
    text: str,
    server_tz: str | None,
    wanted: tuple[str, ...],
    magics: tuple[int, ...],
) -> DealsRead:
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
    check_tickets(path, [(r.get("ticket", "").strip(), f"row {n}") for r, n in zip(rows, numbers)])
    has_magic = "magic" in header
    names = {s.upper() for s in wanted}
    trading, present = [], []
    for i, (row, n) in enumerate(zip(rows, numbers)):
        if enum_code(row["type"], DEAL_TYPES, f"{path}: row {n}: type", "type") not in (
            "buy",
            "sell",
        ):
            continue
        present.append(row["symbol"].strip())
        if row["symbol"].strip().upper() not in names:
            continue
        if magics and has_magic and _magic(row, f"{path}: row {n}") not in magics:
            continue
        trading.append(i)
    if not trading:
        raise none_taken(path, wanted, magics if has_magic else (), present)
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
    return DealsRead(deals, positions, notes, {})


def _magic(row: dict[str, str], where: str) -> int | None:
    value = (row.get("magic") or "").strip()
    if not value:
        return None
    number = mt5_number(value, f"{where}: magic")
    return None if number is None else int(number)


def _csv_deal(path: Path, row: dict[str, str], number: int, time_ns: int, server_text: str) -> Deal:
    where = f"{path}: row {number}"
    reason = (row.get("reason") or "").strip()
    stop, level = stop_comment(row.get("comment", ""))
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
        type=enum_code(row["type"], DEAL_TYPES, f"{where}: type", "type"),
        entry=enum_code(row["entry"], DEAL_ENTRIES, f"{where}: entry", "entry"),
        volume=mt5_number(row["volume"], f"{where}: volume", 0.0) or 0.0,
        price=mt5_number(row["price"], f"{where}: price", 0.0) or 0.0,
        position_id=position,
        sl=mt5_price(row.get("sl"), f"{where}: sl"),
        tp=mt5_price(row.get("tp"), f"{where}: tp"),
        commission=mt5_number(row.get("commission"), f"{where}: commission", 0.0) or 0.0,
        swap=mt5_number(row.get("swap"), f"{where}: swap", 0.0) or 0.0,
        fee=mt5_number(row.get("fee"), f"{where}: fee", 0.0) or 0.0,
        profit=mt5_number(row.get("profit"), f"{where}: profit", 0.0) or 0.0,
        magic=_magic(row, where),
        reason=enum_code(reason, DEAL_REASONS, f"{where}: reason", "reason") if reason else stop,
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
        price = by_volume([(d.price, d.volume) for d in entries])
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
                        exit_reason(d.reason),
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
