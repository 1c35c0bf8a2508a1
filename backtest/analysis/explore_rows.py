"""The rows of an explore query computed with numpy (and numba) over the columns in
memory: which rows a number filter keeps, which a float column's text part does where it
can tell, and a page of a sort order with or without its whole order built. Each answers
exactly as the SQL or the full sort it stands for (the differential tests in
tests/analysis/test_explore_rows.py check it), at a fraction of their time over 10^7 rows
(bench/explore.py).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

WALK = 1 << 16  # rows of a built order looked at first for a filtered page (doubling after)


def compare(values: np.ndarray, valid: np.ndarray | None, op: str, operands: tuple) -> np.ndarray:
    """Where ``values`` (float64; ``valid`` False where the value is missing, None when
    none is) meets ``op operands`` as DuckDB's SQL over DOUBLE decides it: NaN is equal to
    itself and greater than every other value (infinity too); a missing value meets only
    ``!=``. ``op``: ``between`` (two operands, both ends in) or ``> >= < <= = !=``."""
    with np.errstate(invalid="ignore"):
        if op == "between":
            low, high = operands
            found = (values >= low) & (values <= high)  # NaN > high: out, as in DuckDB
        elif op in (">", ">="):
            found = (values > operands[0]) if op == ">" else (values >= operands[0])
            found |= np.isnan(values)
        elif op == "<":
            found = values < operands[0]
        elif op == "<=":
            found = values <= operands[0]
        elif op == "=":
            found = values == operands[0]
        elif op == "!=":
            found = values != operands[0]  # NaN != a number: True, as in DuckDB
            return found if valid is None else found | ~valid
        else:
            raise ValueError(f"unknown comparison {op!r}")
    return found if valid is None else found & valid


def page_of(key: np.ndarray, offset: int, limit: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Positions ``offset .. offset + limit`` of ``np.argsort(key, kind="stable")`` (NaN
    last, ties in position order) without sorting ``key``; with ``keep``, of the rows it
    holds only (``np.flatnonzero(keep)`` in their stable order by ``key``), without
    gathering them. A sample of ``key`` bounds the page's values, one pass keeps the rows
    between the bounds (in position order), and only those are ranked (:func:`_window`);
    when the sample's bounds miss the page, the whole of ``key`` is."""
    end = offset + limit
    missing = np.isnan(key)
    if keep is not None:
        missing &= keep
    kept = len(key) if keep is None else int(np.count_nonzero(keep))
    present = kept - int(np.count_nonzero(missing))
    end = min(end, kept)
    if offset >= end:
        return np.zeros(0, np.int64)
    parts = []
    if offset < present:
        parts.append(_sampled(key, offset, min(end, present), kept, keep))
    if end > present:
        parts.append(np.flatnonzero(missing)[max(offset - present, 0) : end - present])
    return np.concatenate(parts).astype(np.int64, copy=False)


SAMPLE = 1 << 15  # values of the key looked at to bound a page's


def _sample_at(n: int) -> np.ndarray:
    """:data:`SAMPLE` positions of ``n`` drawn at random (seeded: the same answer each
    time), in order. Random, not every k-th: a run's rows follow its grid, and a step
    that beats with the grid's period samples some parameter values only (on the 10^7
    runner table every 305th row put a middle page's bounds 240,000 rows off)."""
    return np.sort(np.random.default_rng(n).integers(0, n, SAMPLE))


def _sampled(
    key: np.ndarray, start: int, stop: int, kept: int, keep: np.ndarray | None
) -> np.ndarray:
    """Ranks ``start .. stop`` (of values that are not NaN) of ``key`` among the ``kept``
    rows ``keep`` holds (all when None)."""
    n = len(key)
    if n > SAMPLE:
        at = _sample_at(n)
        sample = key[at] if keep is None else key[at[keep[at]]]
        sample = np.sort(sample)  # NaN last
        # the bounds' ranks in the sample, widened by a few standard errors of a rank
        scale = len(sample) / kept
        spread = 4 * np.sqrt(max(stop, 1) * scale) + 2
        low_at = int(start * scale - spread)
        high_at = int(stop * scale + spread)
        valid = int(np.count_nonzero(~np.isnan(sample)))
        if low_at < valid:  # else the sample has too few values below the page's
            low = sample[low_at] if low_at >= 0 else -np.inf
            high = sample[high_at] if high_at < valid else np.inf
            if low == -np.inf:  # a first page: nothing below it (one pass, not three)
                inside, below = key <= high, 0
            else:
                inside = (key >= low) & (key <= high)
                under = key < low
                if keep is not None:
                    under &= keep
                below = int(np.count_nonzero(under))
            if keep is not None:
                inside &= keep
            rows = np.flatnonzero(inside)
            if below <= start and below + len(rows) >= stop:
                return rows[_window(key[rows], start - below, stop - below)]
    if keep is None:
        return _window(key, start, stop)
    rows = np.flatnonzero(keep)
    return rows[_window(key[rows], start, stop)]


def _window(key: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Ranks ``start .. stop`` of ``key`` (no NaN among them): a partition finds their first
    and last values, the rows between them are sorted, the ties at either end taken in
    position order."""
    last = stop - 1
    low, high = np.partition(key, [start, last] if last > start else [start])[[start, last]]
    below = int(np.count_nonzero(key < low))
    ties = np.flatnonzero(key == low)[start - below :]
    if low == high:
        return ties[: stop - start]
    between = np.flatnonzero((key > low) & (key < high))
    between = between[np.argsort(key[between], kind="stable")]
    return np.concatenate([ties, between, np.flatnonzero(key == high)])[: stop - start]


def walk(order: np.ndarray, keep: np.ndarray, offset: int, limit: int) -> np.ndarray:
    """``order[keep[order]][offset : offset + limit]`` (the rows ``keep`` holds, in
    ``order``), looking at no more of ``order`` than it takes: a first page of a filter
    that keeps many rows reads a few thousand."""
    need, found, taken, start, size = offset + limit, [], 0, 0, WALK
    while start < len(order) and taken < need:
        chunk = order[start : start + size]
        hit = chunk[keep[chunk]]
        found.append(hit)
        taken += len(hit)
        start += size
        size *= 2
    rows = np.concatenate(found) if found else order[:0]
    return rows[offset:need]


@njit(cache=True, nogil=True)
def gather_nb(values: np.ndarray, codes: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[i] = values[codes[i]]``: a coded column's value per row. ``np.take`` first
    turns the small codes into an 8-byte index a row (80 MB at 10^7, 55-330 ms with its
    page faults); this loop reads them as they are (10 ms)."""
    for i in range(len(codes)):
        out[i] = values[codes[i]]
    return out


BLOCK = 1 << 16  # rows counted at a time by :func:`nth_kept`


def nth_kept(keep: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(keep)[ranks]`` without listing every kept row (8 bytes a row): the
    kept rows are counted a block at a time, and only the blocks ``ranks`` fall in are
    listed."""
    starts = np.arange(0, len(keep), BLOCK)
    counts = np.array([np.count_nonzero(keep[s : s + BLOCK]) for s in starts], dtype=np.int64)
    before = np.cumsum(counts) - counts  # kept rows before each block
    blocks = np.searchsorted(before, ranks, side="right") - 1
    out = np.empty(len(ranks), dtype=np.int64)
    for block in np.unique(blocks):
        at = blocks == block
        start = int(starts[block])
        out[at] = start + np.flatnonzero(keep[start : start + BLOCK])[ranks[at] - before[block]]
    return out


def dictionary_codes(indices: pa.Array, size: int) -> np.ndarray:
    """Dictionary ``indices`` as numpy, a missing value ``size``, in the smallest integers
    that hold them."""
    codes = np.asarray(pc.fill_null(indices, size))
    return codes.astype(np.min_scalar_type(size), copy=False)


SPANNED = 8  # distinct values a page may span in :func:`coded_page`


def coded_page(
    codes: np.ndarray, keys: np.ndarray, offset: int, limit: int, keep: np.ndarray | None = None
) -> np.ndarray | None:
    """:func:`page_of` of ``keys[codes]`` (of the rows ``keep`` holds, numbered among
    them, when given) for a column of few distinct values (``keys``: each one's sort key,
    NaN last), by counting each value's rows instead of comparing keys: the page's rows
    of each value it spans, in position order. None when it spans more than
    :data:`SPANNED` values (few ties: :func:`page_of` is the faster)."""
    counts = np.zeros(len(keys), dtype=np.int64)
    for start in range(0, len(codes), BLOCK * 16):  # a block at a time: no 8-byte copy of all
        part = codes[start : start + BLOCK * 16]
        part = part if keep is None else part[keep[start : start + BLOCK * 16]]
        counts += np.bincount(part, minlength=len(keys))
    by_key = np.argsort(keys, kind="stable")
    ordered = keys[by_key]
    same = (ordered[1:] == ordered[:-1]) | (np.isnan(ordered[1:]) & np.isnan(ordered[:-1]))
    starts = np.flatnonzero(np.concatenate([[True], ~same]))  # groups of equal keys
    sizes = np.add.reduceat(counts[by_key], starts) if len(starts) else starts
    ends = np.cumsum(sizes)
    firsts = ends - sizes
    end = min(offset + limit, int(ends[-1]) if len(ends) else 0)
    spanned = np.flatnonzero((firsts < end) & (ends > offset))
    if len(spanned) > SPANNED:
        return None
    parts = [np.zeros(0, np.int64)]
    bounds = np.append(starts, len(keys))
    for group in spanned:
        members = by_key[bounds[group] : bounds[group + 1]]
        rows = codes == members[0] if len(members) == 1 else np.isin(codes, members)
        if keep is not None:
            rows &= keep
        first = int(firsts[group])
        ranks = np.arange(max(offset, first), min(end, int(ends[group]))) - first
        parts.append(nth_kept(rows, ranks))
    return np.concatenate(parts)


_DOTTED = re.compile(r"^(-?)(\d*)\.(\d*)$")
SCIENTIFIC = (1.0001e-4, 0.9999e16)  # |x| outside: maybe written 1e-05, 1.5e+16
NO, YES, MAYBE = 0, 1, 2
_TEXT = "0123456789.-+enaif"  # the characters of a double's text (nan, inf, 1e-05)


def text_matches(values: np.ndarray, valid: np.ndarray | None, part: str) -> np.ndarray | None:
    """For a float column, whether each value's text contains ``part`` (lowered): ``YES``,
    ``NO`` or ``MAYBE`` (to be decided by SQL, the text itself); None when ``part`` does
    not pin the text's decimal point (then every row is a maybe).

    A double's text (DuckDB's ``CAST(x AS VARCHAR)``, as Python's ``repr``) is
    fixed-point, ``[-]I.F``, for ``|x|`` between about 1e-4 and 1e16: the shortest decimal
    ``D`` that reads back as ``x`` (within half an ulp of it), its integer digits ``I``
    (no leading zero) and fraction digits ``F`` (no trailing zero, ``0`` when none). A
    part ``K.R`` (``K``, ``R`` digits, either empty) is in it when ``D mod 10^len(K)`` is
    in ``[K.R, K.R + 10^-len(R))`` (and ``I`` is long enough for ``K``'s leading zeros;
    ``F`` long enough for ``R``'s trailing ones, which the band's open ends give), and
    ``-K.R`` when ``x`` is negative and ``D`` in ``[K.R, ...)`` (``I`` is ``K``). ``x``
    stands for ``D`` within a few ulps: a value that near a band's end, or near a
    multiple of ``10^len(K)``, or written in scientific notation (outside
    :data:`SCIENTIFIC`), is a maybe. ``nan``, ``inf`` and a missing value (``''``) have no
    ``.``: no. Other parts: those of characters no double's text has are in none; in
    fixed-point text, only digits follow its one ``-``: a part with a letter or ``+``
    (``e``, ``nan``, ``inf``), or a ``-`` not first, is only maybe in the others', and
    ``-`` or ``-K`` only maybe in a negative value's (``-`` in each). None for a part of
    digits alone (no test short of the text)."""
    if set(part) - set(_TEXT):
        return np.zeros(len(values), dtype=np.int8)
    found = _DOTTED.match(part)
    if found is None:
        return None if part.isdigit() else _unpointed(values, valid, part)
    if len(found.group(2)) > 22:
        return None
    sign, whole, fraction = found.groups()
    out = np.zeros(len(values), dtype=np.int8)
    if sign and not whole:  # "-." is in no double's text: a digit is always between
        return out
    low = Decimal(f"{whole or 0}.{fraction}")
    high = low + Decimal(1).scaleb(-len(fraction))
    modulus = 0.0 if sign else 10.0 ** len(whole)
    if sign:  # I is K: never with a leading zero (but "0")
        least = np.inf if whole[0] == "0" and whole != "0" else 0.0
    else:  # I ends with K: I >= 10^len(K) when K's first digit is 0
        least = modulus if whole[:1] == "0" and whole != "0" else 0.0
    present = np.ones(0, dtype=bool) if valid is None else valid
    _matches(values, present, float(low), float(high), modulus, least, out)
    return out


def _unpointed(values: np.ndarray, valid: np.ndarray | None, part: str) -> np.ndarray:
    """:func:`text_matches` of a part without ``.`` that is not digits alone."""
    negative = NO
    if part == "-":
        negative = YES
    elif part[0] == "-" and part[1:].isdigit():
        negative = MAYBE
    out = np.empty(len(values), dtype=np.int8)
    _unpointed_nb(values, np.ones(0, dtype=bool) if valid is None else valid, negative, out)
    return out


@njit(cache=True, nogil=True)
def _unpointed_nb(values: np.ndarray, valid: np.ndarray, negative: int, out: np.ndarray) -> None:
    """:func:`_unpointed` of each value: a missing one no, one in scientific notation (or
    nan, inf) maybe, a negative one in fixed-point ``negative``, others no."""
    for i in range(len(values)):
        x = values[i]
        a = abs(x)
        if len(valid) and not valid[i]:
            out[i] = NO
        elif not SCIENTIFIC[0] <= a < SCIENTIFIC[1]:  # NaN too
            out[i] = MAYBE
        else:
            out[i] = negative if x < 0.0 else NO


@njit(cache=True, nogil=True)
def _matches(
    values: np.ndarray,
    valid: np.ndarray,
    low: float,
    high: float,
    modulus: float,
    least: float,
    out: np.ndarray,
) -> None:
    """:func:`text_matches`' test of each value (``valid``: empty when all are), into
    ``out``: ``modulus`` 0 for ``-K.R`` (``|x|`` itself in the band, ``x`` negative), else
    ``10^len(K)``; ``least``: the integer ``I`` must reach."""
    near = 2.0**-48  # a few ulps of |x| and of the band's ends (r's rounding), relative
    for i in range(len(values)):
        x = values[i]
        a = abs(x)
        if (len(valid) and not valid[i]) or not math.isfinite(x):
            continue  # NO
        if a < SCIENTIFIC[0] or a >= SCIENTIFIC[1]:
            out[i] = MAYBE
            continue
        if modulus == 0.0:
            if x > 0.0:
                continue
            r, tol = a, (a + 1.0) * near
        else:
            tol = (a + modulus) * near
            r = a - math.floor(a / modulus) * modulus  # within an ulp or two of a's
            if r < 0.0:  # the quotient rounded up
                r += modulus
            elif r >= modulus:
                r -= modulus
            if r < tol or r >= modulus - tol:  # near a multiple: D's may be the other side
                out[i] = MAYBE
                continue
        if a + tol < least:
            continue  # NO: I has too few digits
        if low - tol <= r < high + tol:
            sure = low + tol < r < high - tol and a - tol >= least
            out[i] = YES if sure else MAYBE
