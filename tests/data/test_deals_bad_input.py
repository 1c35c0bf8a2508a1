"""Bad deals files: one line naming the file (and the row), never a partial reading."""

import pandas as pd
import pytest

from backtest.data.deal_records import DealsError
from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture


def _fails(path, symbols=("GER40",), server_tz=SERVER_TZ, magics=()) -> str:
    with pytest.raises(DealsError) as caught:
        read_deals(path, server_tz, symbols, magics)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def _csv(tmp_path, text: str):
    path = tmp_path / "deals.csv"
    path.write_text(text)
    return path


def test_a_bars_file_is_neither_format(tmp_path):
    path = _csv(tmp_path, "time,open,high,low,close\n2024-01-08 09:00,1,2,0.5,1.5\n")
    message = _fails(path)
    assert "neither an MT5 account history report (HTML) nor a deals CSV" in message
    assert "no column symbol, type, entry, volume, price, position_id" in message


def test_an_html_page_without_the_tables_is_neither_format(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(
        b"\xff\xfe"
        + "<html><body><table><tr><td>x</td></tr></table></body></html>".encode("utf-16-le")
    )
    assert "no Positions or Deals table" in _fails(path)


def test_binary_junk_is_neither_format(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\xfd")
    assert "neither an MT5 account history report" in _fails(path)


def test_no_deals_of_the_symbol_csv():
    message = _fails(fixture("partial_close.csv"), symbols=("US30",))
    assert "no deals of US30 (symbols in the file: GER40, XAUUSD)" in message


def test_no_deals_of_the_magic_number_csv():
    message = _fails(fixture("partial_close.csv"), magics=(12345,))
    assert "no deals of GER40 with magic 12345" in message


def test_no_deals_of_the_symbol_html():
    message = _fails(fixture("partial_close.html"), symbols=("US30",))
    assert "no deals of US30 (symbols in the file: GER40, XAUUSD)" in message


def test_a_time_with_an_offset_among_times_without_is_a_mixed_time_zone(tmp_path):
    lines = fixture("sl_moved.csv").read_text().splitlines()
    first = lines[1].split(",")
    first[2], first[3] = "2024-01-09T09:00:10+00:00", ""  # converted to UTC by hand
    path = _csv(tmp_path, "\n".join([lines[0], ",".join(first), lines[2]]) + "\n")
    message = _fails(path)
    assert (
        "row 2: a time without a UTC offset among times with one (row 1): a mixed time zone"
        in message
    )


def test_time_and_time_msc_hours_apart_is_a_mixed_time_zone(tmp_path):
    lines = fixture("sl_moved.csv").read_text().splitlines()
    row = lines[2].split(",")
    row[2] = str(int(row[2]) - 7200)  # `time` converted to UTC, `time_msc` left on the server clock
    path = _csv(tmp_path, "\n".join([lines[0], lines[1], ",".join(row)]) + "\n")
    message = _fails(path)
    assert "row 2:" in message
    assert "+2 h apart" in message and "mixed time zone" in message


def test_a_deal_ticket_twice_csv(tmp_path):
    lines = fixture("opened_twice.csv").read_text().splitlines()
    path = _csv(tmp_path, "\n".join(lines + [lines[3]]) + "\n")  # the log appended a row again
    message = _fails(path)
    assert "row 5: deal ticket 9023 appears twice (also row 3)" in message


def test_a_deal_ticket_twice_html(tmp_path):
    text = fixture("sl_moved.html").read_bytes().decode("utf-16")
    doubled = text.replace("<td nowrap>9012</td>", "<td nowrap>9011</td>")
    path = tmp_path / "ReportHistory.html"
    path.write_bytes(b"\xff\xfe" + doubled.encode("utf-16-le"))
    message = _fails(path)
    assert "Deals row 2: deal ticket 9011 appears twice (also Deals row 1)" in message


def test_a_time_the_server_clock_never_showed(tmp_path):
    # 2024-03-10: New York springs forward at 02:00, so broker:NY+7 skips 09:00..10:00
    lines = fixture("sl_moved.csv").read_text().splitlines()
    cells = lines[1].split(",")
    seconds = (pd.Timestamp("2024-03-10 09:30:10") - pd.Timestamp("1970-01-01")).total_seconds()
    cells[2], cells[3] = str(int(seconds)), str(int(seconds) * 1000)
    path = _csv(tmp_path, "\n".join([lines[0], ",".join(cells)]) + "\n")
    message = _fails(path)
    assert "row 1: the time does not exist in broker:NY+7" in message


def test_a_reversal_is_not_a_trade_of_this_strategy(tmp_path):
    lines = fixture("sl_moved.csv").read_text().splitlines()
    row = lines[2].split(",")
    row[5] = "2"  # DEAL_ENTRY_INOUT
    path = _csv(tmp_path, "\n".join([lines[0], lines[1], ",".join(row)]) + "\n")
    assert "row 2: position 5011 was reversed" in _fails(path)


def test_naive_times_need_the_server_time_zone():
    assert "give its time zone" in _fails(fixture("sl_moved.csv"), server_tz=None)
