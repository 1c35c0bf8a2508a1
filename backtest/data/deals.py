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
``server_tz`` of the data (:func:`backtest.data.server_tz.server_to_utc`). A CSV whose
times carry an explicit offset is read as such (every row must then carry one).

Deals are grouped into :class:`Position` objects (entry and exits, prices averaged
by volume, the SL as set first and as it was at the end, the exit reason). Bad
input raises :class:`DealsError` with one line naming the file and the row: a file
that is neither format, no deals of the wanted symbols, a time zone that changes
inside the file, a deal ticket twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from backtest.core.checksum import file_checksum
from backtest.data.deal_records import DEALS_CSV, HTML_REPORT, DealsError, LiveHistory
from backtest.data.deals_csv import read_deals_csv
from backtest.data.deals_html import read_report_html
from backtest.data.server_tz import check_server_tz


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
        kind, read = HTML_REPORT, read_report_html(path, text, server_tz, wanted, magic)
    else:
        kind, read = DEALS_CSV, read_deals_csv(path, text, server_tz, wanted, magic)
    return LiveHistory(
        path=path,
        format=kind,
        checksum=file_checksum(path),
        server_tz=server_tz,
        symbols=wanted,
        magics=magic,
        deals=read.deals,
        positions=read.positions,
        notes=read.notes,
        account=read.account,
    )
