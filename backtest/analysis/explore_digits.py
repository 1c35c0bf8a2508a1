"""A float column's digit index: which digits, and which pairs of digits side by side, each
row's text has, so that a text part of digits alone (``total_pnl:12``) is decided without
writing 10^7 doubles' text at every query.

The text is DuckDB's ``CAST(x AS VARCHAR)`` (the filter's own meaning: ``1.0``,
``0.8312``, ``1e-05``, ``-1.5e+16``, ``nan``, ``inf``; a missing value has none), written
once, a chunk of :data:`CHUNK` rows at a time, in a background thread (:class:`DigitIndexes`),
and not kept. Per row: a ``uint16`` mask of the digits in the text and a 128-bit mask
(two ``uint64``) of the pairs ``00``..``99`` found inside one run of digits (``1.2`` has
no ``12``; an exponent's digits are a run too): 18 bytes a row, 180 MB a column at 10^7.
A part of digits alone lies inside one run, so one digit is in the text iff its bit is
set and two iff their pair's is (exact); a longer part only where every pair of it is
(a maybe: SQL decides it over those rows' text), in no other row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numba import njit

from backtest.analysis.explore_rows import MAYBE, NO, YES
from backtest.analysis.explore_work import Work

CHUNK = 1 << 20  # rows written as text at a time (about 25 MB of it)
KEPT = 4  # columns' indexes kept (the last used), 18 bytes a row each


@dataclass(frozen=True)
class DigitIndex:
    """Per row: ``digits`` (bit ``d``: digit ``d`` is in its text), ``low`` and ``high``
    (bit ``10 a + b`` of the 128, ``low`` the first 64: ``ab`` is in a run of digits)."""

    digits: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def matches(self, part: str) -> np.ndarray:
        """Whether each row's text contains ``part`` (digits alone): ``YES``, ``NO`` or
        ``MAYBE`` (parts of 3 digits or more, where every pair of them is in the text)."""
        if not part.isdigit() or not part.isascii():
            raise ValueError(f"{part!r} is not digits alone")
        need = np.zeros(2, dtype=np.uint64)
        for first, second in zip(part, part[1:]):
            pair = 10 * int(first) + int(second)
            need[pair // 64] |= np.uint64(1) << np.uint64(pair % 64)
        out = np.empty(len(self.digits), dtype=np.int8)
        one = int(part) if len(part) == 1 else -1
        _matches(self.digits, self.low, self.high, one, need[0], need[1], len(part) == 2, out)
        return out


@njit(cache=True, nogil=True)
def _matches(
    digits: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    one: int,
    need_low: np.uint64,
    need_high: np.uint64,
    sure: bool,
    out: np.ndarray,
) -> None:
    """:meth:`DigitIndex.matches` of each row: digit ``one`` (when >= 0), else every pair
    of ``need_low``/``need_high`` (``sure``: the part is that one pair)."""
    for i in range(len(digits)):
        if one >= 0:
            out[i] = YES if (digits[i] >> one) & 1 else NO
        elif (low[i] & need_low) == need_low and (high[i] & need_high) == need_high:
            out[i] = YES if sure else MAYBE
        else:
            out[i] = NO


@njit(cache=True, nogil=True)
def _index_text(
    offsets: np.ndarray,
    data: np.ndarray,
    start: int,
    digits: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """The masks of the strings ``data[offsets[i]:offsets[i + 1]]`` (Arrow's buffers) into
    rows ``start + i``."""
    for i in range(len(offsets) - 1):
        seen = 0
        pairs_low = np.uint64(0)
        pairs_high = np.uint64(0)
        previous = -1
        for at in range(offsets[i], offsets[i + 1]):
            digit = int(data[at]) - 48
            if 0 <= digit <= 9:
                seen |= 1 << digit
                if previous >= 0:
                    pair = previous * 10 + digit
                    if pair < 64:
                        pairs_low |= np.uint64(1) << np.uint64(pair)
                    else:
                        pairs_high |= np.uint64(1) << np.uint64(pair - 64)
                previous = digit
            else:
                previous = -1
        digits[start + i] = seen
        low[start + i] = pairs_low
        high[start + i] = pairs_high


def build_index(values: pa.Array, work: Work | None = None) -> DigitIndex | None:
    """The digit index of ``values`` (float), their text written by DuckDB a chunk at a
    time (its query interrupted when ``work`` closes); None when it is closed between
    chunks."""
    from backtest.analysis.sql import memory_connection

    n = len(values)
    index = DigitIndex(np.zeros(n, np.uint16), np.zeros(n, np.uint64), np.zeros(n, np.uint64))
    con = memory_connection(pa.table({"x": values.slice(0, 0)}))
    try:
        for start in range(0, n, CHUNK):
            if work is not None and work.closed:
                return None
            con.register("part", pa.table({"x": values.slice(start, CHUNK)}))
            try:  # in the rows' order (DuckDB keeps it); a missing value's text: none
                with work.using(con) if work is not None else nullcontext():
                    text = con.sql("SELECT coalesce(CAST(x AS VARCHAR), '') AS t FROM part")
                    texts = text.to_arrow_table().column(0)
            finally:
                con.unregister("part")
            at = start
            for chunk in texts.chunks:
                chunk = chunk.cast(pa.large_string())  # int64 offsets, whatever DuckDB gave
                offsets = np.frombuffer(chunk.buffers()[1], np.int64)
                offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
                data = chunk.buffers()[2]
                data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
                _index_text(offsets, data, at, index.digits, index.low, index.high)
                at += len(chunk)
            if at != min(start + CHUNK, n):
                raise RuntimeError(f"DuckDB wrote {at - start} texts of a chunk's {CHUNK}")
    finally:
        con.close()
    return index


class DigitIndexes:
    """The digit indexes of a table's float columns: each built in a thread of its own on
    its first :meth:`build` (one of ``work``'s, stopped when it closes), kept (the last
    :data:`KEPT` used); :meth:`get` answers without waiting for one."""

    def __init__(self, work: Work) -> None:
        self._indexes: OrderedDict[str, DigitIndex] = OrderedDict()
        self._builds: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._work = work
        self._closed = False

    def get(self, column: str) -> DigitIndex | None:
        """``column``'s index if it is built, else None."""
        with self._lock:
            if column in self._indexes:
                self._indexes.move_to_end(column)
            return self._indexes.get(column)

    def build(self, column: str, values: pa.Array) -> None:
        """Start building ``column``'s index (of ``values``) unless it is built or being."""
        with self._lock:
            if column in self._indexes or column in self._builds or self._closed:
                return
            thread = self._work.start(self._build, f"explore-digits-{column}", column, values)
            if thread is not None:  # else the server is stopping
                self._builds[column] = thread

    def wait(self, column: str) -> DigitIndex | None:
        """``column``'s index once its build (if one runs) is done."""
        with self._lock:
            thread = self._builds.get(column)
        if thread is not None:
            thread.join()
        return self.get(column)

    def close(self) -> None:
        """No more builds (those running go on; ``work``'s close stops them)."""
        self._closed = True

    def _build(self, column: str, values: pa.Array) -> None:
        try:
            index = build_index(values, self._work)
            if index is not None:
                first = DigitIndex(index.digits[:1], index.low[:1], index.high[:1])
                first.matches("12")  # numba's code loaded before a query needs it
                with self._lock:
                    self._indexes[column] = index
                    while len(self._indexes) > KEPT:
                        self._indexes.popitem(last=False)
        except Exception:
            if not self._work.closed:  # else the server stopped during the build
                raise
        finally:
            with self._lock:
                self._builds.pop(column, None)
