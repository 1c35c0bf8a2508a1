"""MetaTrader 5 ``.set`` files (Expert Advisor inputs): how values are written, the
encoding terminals save and read (UTF-16 LE with a byte-order mark), and reading one back.

Shared by ``invoke promote`` (the live bot's inputs, :mod:`backtest.promotion.setfile`)
and ``invoke export-set`` (a tester optimisation, :mod:`backtest.analysis.export_set`);
the format and its sources: docs/PRODUCTION.md, "The .set format".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def set_value(value: Any) -> str:
    """One input value as MT5 reads it: true/false, whole numbers, floats at full
    precision, lists comma-separated, text (times ``HH:MM``) as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(set_value(v) for v in value)
    return str(value)


def set_text(inputs: dict[str, Any], names: dict[str, str], comments: list[str]) -> str:
    """The ``.set`` lines: ``; comment`` lines, then ``InputName=value`` per input (the
    EA's names from ``promote.set_inputs``), CRLF line ends."""
    lines = [f"; {c}" for c in comments]
    lines += [f"{names[key]}={set_value(value)}" for key, value in inputs.items()]
    return "\r\n".join(lines) + "\r\n"


def encode_set(text: str) -> bytes:
    """UTF-16 little endian with a byte-order mark: how MT5 terminals save .set files."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def read_set_file(path: Path) -> dict[str, str]:
    """``name -> value`` of a ``.set`` file (UTF-16 with BOM, or UTF-8); comments skipped."""
    data = Path(path).read_bytes()
    text = data[2:].decode("utf-16-le") if data[:2] == b"\xff\xfe" else data.decode("utf-8-sig")
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith(";") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.split("||")[0].strip()
    return values
