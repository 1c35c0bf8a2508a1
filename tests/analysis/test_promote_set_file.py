"""The .set file: UTF-16 LE with a byte-order mark, CRLF lines, `Name=value` as MT5 reads
them (booleans true/false, floats at full precision, lists comma-separated, times HH:MM)."""

from backtest.data.mt5_set import encode_set, read_set_file, set_text, set_value


def test_values_are_written_as_mt5_reads_them():
    assert [set_value(v) for v in (True, False, 1, 0.25, 1.0, [0, 2, 4], "09:30", "both")] == [
        "true", "false", "1", "0.25", "1.0", "0,2,4", "09:30", "both",
    ]  # fmt: skip


def test_bytes_are_utf16_le_with_bom_and_crlf(tmp_path):
    # Arrange
    text = set_text(
        {"sl_mult": 0.5, "news_filter": True},
        {"sl_mult": "InpSl", "news_filter": "InpNews"},
        ["made by a test"],
    )
    # Act
    data = encode_set(text)
    # Assert
    assert data == b"\xff\xfe" + "; made by a test\r\nInpSl=0.5\r\nInpNews=true\r\n".encode(
        "utf-16-le"
    )
    path = tmp_path / "x.set"
    path.write_bytes(data)
    assert read_set_file(path) == {"InpSl": "0.5", "InpNews": "true"}


def test_reading_ignores_optimisation_fields_of_a_tester_file(tmp_path):
    # An MT5 tester .set line: value||start||step||stop||Y/N
    path = tmp_path / "tester.set"
    path.write_bytes(encode_set("; saved by MT5\r\nInpSl=0.5||0.5||0.1||1.5||N\r\n"))
    assert read_set_file(path) == {"InpSl": "0.5"}
