"""Numba kernels of the fast sweep (plain arrays in, preallocated arrays out).

The day tables (:func:`ib_window_nb`, :func:`day_schedule_nb`,
:func:`entry_gate_nb`, :func:`block_table`) are built once per data set and
per distinct window, and shared by every combination; :func:`sweep_batch_nb`
then walks a batch of combinations day by day with "first bar that touches a level"
queries (:func:`first_touch_nb`), resolving the intrabar path (spec section 4) only on
the bar a query finds. Combinations with the same entry rule share its entry searches
and, from its first entry of a day, the queries of equal stop and target levels.

Execution models (spec section 8): the kernel takes the bid bars and the ask highs and
lows (``high + s``, ``low + s``, ``s`` the bar's spread) with their block tables, built
once per data set; in ``cost`` they are the bid's own arrays (the ask path's offset is 0).
A bar's offset is read as ``ask_high - high`` (lines a query has just brought to cache,
and no read at all in ``cost``). The buy stop and a short's SL and TP query the ask
tables, the sell stop and a long's exits the bid tables; on the bar a query finds, an
ask level ``X`` is the bid path reaching ``X - s`` of that bar, so the path is resolved
on the bid prices as before. ``slippage`` worsens the entry and the SL exit (spec 8.5);
the records hold the prices after it.
Readings of the spec: docs/READINGS.md; the cost: docs/BENCHMARK.md.
"""

from __future__ import annotations

import numpy as np
from numba import njit

REASON_SL, REASON_TP, REASON_CLOSE = 0, 1, 2


@njit(cache=True, nogil=True)
def ib_window_nb(
    minute, high, low, day_start, day_end, ib_start, ib_end, walk_start, ib_high, ib_low, has_ib
):
    """Per day: ``walk_start`` (first bar with ``minute >= ib_end``, else the
    day's end) and the IB high/low of the bars before it with ``minute >= ib_start``."""
    for d in range(len(day_start)):
        end = day_end[d]
        ws = end
        for i in range(day_start[d], end):
            if minute[i] >= ib_end:
                ws = i
                break
        walk_start[d] = ws
        found = False
        hi = 0
        lo = 0
        for i in range(day_start[d], ws):
            if minute[i] >= ib_start:
                if not found:
                    hi = high[i]
                    lo = low[i]
                    found = True
                else:
                    if high[i] > hi:
                        hi = high[i]
                    if low[i] < lo:
                        lo = low[i]
        ib_high[d] = hi
        ib_low[d] = lo
        has_ib[d] = found


@njit(cache=True, nogil=True)
def day_schedule_nb(
    minute, day_end, walk_start, ib_end, trade_end, close_time, close_bar, entry_hi
):
    """Per day: ``close_bar`` (first bar from ``walk_start`` on with
    ``minute >= close_time``, -1 when none) and ``entry_hi`` (one past the last
    walked bar with ``ib_end <= minute < trade_end``; ``walk_start`` when none)."""
    for d in range(len(walk_start)):
        ws = walk_start[d]
        end = day_end[d]
        cb = -1
        for i in range(ws, end):
            if minute[i] >= close_time:
                cb = i
                break
        close_bar[d] = cb
        walk_end = cb if cb >= 0 else end
        hi = ws
        for i in range(walk_end - 1, ws - 1, -1):
            if ib_end <= minute[i] < trade_end:
                hi = i + 1
                break
        entry_hi[d] = hi


@njit(cache=True, nogil=True)
def entry_gate_nb(minute, blocked, ib_end, trade_end, ok, next_ok):
    """``ok``: a bar may open an entry (in ``[ib_end, trade_end)``, not news
    blocked); ``next_ok[i]``: the first ok bar after ``i`` (``n`` when none)."""
    n = len(minute)
    nxt = n
    for i in range(n - 1, -1, -1):
        next_ok[i] = nxt
        good = (not blocked[i]) and ib_end <= minute[i] < trade_end
        ok[i] = good
        if good:
            nxt = i


@njit(cache=True, nogil=True)
def sparse_table_nb(values, table, use_max):
    """``table[k, i]`` = max (or min) of ``values[i : i + 2**k]`` (clipped at the end)."""
    n = len(values)
    for i in range(n):
        table[0, i] = values[i]
    for k in range(1, table.shape[0]):
        half = 1 << (k - 1)
        for i in range(n):
            a = table[k - 1, i]
            j = i + half
            if j < n:
                b = table[k - 1, j]
                if use_max:
                    if b > a:
                        a = b
                else:
                    if b < a:
                        a = b
            table[k, i] = a


@njit(cache=True, nogil=True, inline="always")
def _top_level(span):
    k = 0
    while (2 << k) <= span:
        k += 1
    return k


INNER = dict(cache=True, nogil=True, no_cpython_wrapper=True)  # kernels' helpers only


@njit(**INNER)
def _first_sparse(table, lo, hi, level, above):
    """The first index in ``[lo, hi)`` whose value is ``>= level`` (``above``: ``table`` a
    sparse table of maxima) or ``<= level`` (of minima); ``hi`` if none."""
    if lo >= hi:
        return hi
    if (table[0, lo] >= level) if above else (table[0, lo] <= level):
        return lo
    p = lo
    for k in range(min(_top_level(hi - lo), table.shape[0] - 1), -1, -1):
        step = 1 << k
        if p + step <= hi and ((table[k, p] < level) if above else (table[k, p] > level)):
            p += step
    return p


@njit(cache=True, nogil=True)
def first_at_or_above_nb(table, lo, hi, level):
    """The first bar in ``[lo, hi)`` whose value (high) is ``>= level``; ``hi`` if none."""
    return _first_sparse(table, lo, hi, level, True)


@njit(cache=True, nogil=True)
def first_at_or_below_nb(table, lo, hi, level):
    """The first bar in ``[lo, hi)`` whose value (low) is ``<= level``; ``hi`` if none."""
    return _first_sparse(table, lo, hi, level, False)


BLOCK = 16  # bars per block of the block tables (16 int32 values: a cache line)


def block_table(values: np.ndarray, levels: int, use_max: bool, dtype: type) -> np.ndarray:
    """:func:`sparse_table_nb` (``levels`` rows) of the max (or min) of each BLOCK values
    (the last block clipped at the end): ``table[k, b]`` covers blocks ``b .. b + 2**k - 1``."""
    n = len(values)
    blocks = -(-n // BLOCK)
    padded = np.empty(blocks * BLOCK, dtype=dtype)
    padded[:n] = values
    padded[n:] = values[-1] if n else 0
    rows = padded.reshape(blocks, BLOCK)
    firsts = rows.max(axis=1) if use_max else rows.min(axis=1)
    table = np.empty((levels, blocks), dtype=dtype)
    sparse_table_nb(firsts, table, use_max)
    return table


@njit(cache=True, nogil=True)
def first_touch_nb(values, blocks, lo, hi, level, above):
    """The first bar in ``[lo, hi)`` whose value is ``>= level`` (``above``; ``values``
    highs, ``blocks`` their :func:`block_table` of maxima) or ``<= level`` (lows,
    minima); ``hi`` if none.

    The bars up to ``lo``'s block end and after the last whole block are scanned; the
    whole blocks between are searched in the block table, then the block found is
    scanned. The tables are 1/BLOCK of a sparse table over the bars, so that a day's
    lines of them stay in cache from one query to the next."""
    head = min(hi, (lo // BLOCK + 1) * BLOCK)
    for i in range(lo, head):
        if (values[i] >= level) if above else (values[i] <= level):
            return i
    p, last = head // BLOCK, hi // BLOCK
    tail = head
    if last > p:
        # the first whole block that touches (_first_sparse over the blocks, written out:
        # a call deeper costs compile time at every caller)
        if not ((blocks[0, p] >= level) if above else (blocks[0, p] <= level)):
            for k in range(min(_top_level(last - p), blocks.shape[0] - 1), -1, -1):
                step = 1 << k
                if p + step <= last and (
                    (blocks[k, p] < level) if above else (blocks[k, p] > level)
                ):
                    p += step
        tail = p * BLOCK  # the block that touches, or the partial one after the last
    for i in range(tail, hi):
        if (values[i] >= level) if above else (values[i] <= level):
            return i
    return hi


@njit(**INNER)
def _walk_rest(p1, p2, p3, seg, cur, direction, sl, tp, has_tp):
    """Walk a bar's (bid) path from price ``cur`` on segment ``seg`` (0: open→p1,
    1: p1→p2, 2: p2→close) to its close; the first of SL/TP reached (their levels on
    the bid path: a short's, on the ask path, less the bar's spread).

    Returns ``(reason, segment)``: the reason, -1 when neither is reached, and the
    segment where it is (2 when none). ``cur`` lies strictly between SL and TP, so each
    straight segment can reach one of them.
    """
    for s in range(seg, 3):
        nxt = p1 if s == 0 else (p2 if s == 1 else p3)
        if direction > 0:
            if nxt > cur and has_tp and nxt >= tp:
                return REASON_TP, s
            if nxt < cur and nxt <= sl:
                return REASON_SL, s
        else:
            if nxt < cur and has_tp and nxt <= tp:
                return REASON_TP, s
            if nxt > cur and nxt >= sl:
                return REASON_SL, s
        cur = nxt
    return -1, 2


@njit(**INNER, inline="always")
def _corners(lo, hi, p1, p2, p3, first, last):
    """``lo``/``hi`` widened by a bar's path corners ``first .. last`` (1: ``p1``, 2:
    ``p2``, 3: the close ``p3``): those a walk from segment ``first - 1`` to segment
    ``last`` passes."""
    if first <= 1 <= last:
        lo, hi = min(lo, p1), max(hi, p1)
    if first <= 2 <= last:
        lo, hi = min(lo, p2), max(hi, p2)
    if last >= 3:
        lo, hi = min(lo, p3), max(hi, p3)
    return lo, hi


@njit(**INNER)
def _scan_nb(lows, highs, a, b, lo, hi):
    """``lo``/``hi`` widened by the lows and highs of the bars ``[a, b)``."""
    for i in range(a, b):
        lo = min(lo, lows[i])
    for i in range(a, b):
        hi = max(hi, highs[i])
    return lo, hi


# Columns of the per-combination table of sweep_batch_nb (int64, one row per combination):
# rows of the shared tables (window, schedule, gate: [row, day] / [row, bar]; stop, tp and
# buffer: rows of the distance table; lots: a row of the lots table), the weekday mask as
# bits (bit 0 = Monday), min_ib / max_ib in points, flags as 0/1, max_trades_per_day, and
# the combination's entry rule (combinations with equal rules share their entry searches).
(
    C_WINDOW,
    C_SCHEDULE,
    C_GATE,
    C_STOP,
    C_TP,
    C_BUFFER,
    C_LOTS,
    C_WEEKDAYS,
    C_MIN_IB,
    C_MAX_IB,
    C_LONG,
    C_SHORT,
    C_HAS_TP,
    C_MAX_TRADES,
    C_RULE,
) = range(15)
N_COLUMNS = 15
MEMO = 16  # entry searches remembered per entry rule and day
# Counters of sweep_batch_nb's work (docs/BENCHMARK.md, cost per combination-day): rule-days
# walked, entry searches run, exit queries run, exit queries answered by a shared one.
S_RULE_DAYS, S_ENTRY, S_EXIT, S_SHARED = range(4)


@njit(**INNER)
def _next_entry(
    open_,
    falling,
    high,
    ask_high,
    ask_high_blocks,
    low,
    low_blocks,
    gate_ok,
    gate_next,
    gate,
    lo,
    hi,
    long_level,
    short_level,
    allow_long,
    allow_short,
):
    """The first entry from bar ``lo`` on (spec section 3, reading 1): ``(bar, go_long)``,
    ``bar == hi`` when none. The buy stop triggers on the ask (``ask_high``), the sell
    stop on the bid (``low``). Both levels touched in one bar: the open decides (the ask
    open through ``long_level`` first: both at the open is a buy, spec 8.4), else the
    bar's path (up first on a falling bar)."""
    jl = js = hi
    for side in range(2):  # the first ok bar that touches the level (short: up to jl)
        above = side == 0
        if not (allow_long if above else allow_short):
            continue
        values, blocks = (ask_high, ask_high_blocks) if above else (low, low_blocks)
        level = long_level if above else short_level
        start, end = lo, (hi if above else min(hi, jl + 1))
        j = end
        while start < end:
            j = first_touch_nb(values, blocks, start, end, level, above)
            if j >= end or gate_ok[gate, j]:
                break
            start = gate_next[gate, j]
            j = end
        if above:
            jl = j
        else:
            js = j
    j = min(jl, js)
    if j >= hi:
        return hi, False
    if jl == js:
        o = open_[j]
        return j, o + ask_high[j] - high[j] >= long_level or (o > short_level and falling[j])
    return j, jl < js


# The scratch of _excursions_nb (int64): ``exits`` (EXITS × 5) remembers the extremes of the
# path to an exit, direct-mapped by the end of the span walked whole and the exit price (the
# span's end, the exit price, the trade group (its first trade; -1: empty), the lowest
# point, the highest point);
# ``prefix`` (2 × (a day's whole blocks + 2)) the lowest and highest point of the group's
# path to each block boundary after its entry bar.
EXITS = 64


@njit(**INNER, inline="always")
def _exit_point(q1, q2, p3, seg, cur, direction, sl, tp, has_tp):
    """The first of SL/TP on a bar's (bid) path from ``cur`` on segment ``seg``, as the
    walk finds it: ``(reason, segment)`` of :func:`_walk_rest`, or ``(reason, seg - 1)``
    when a level is already passed at ``cur`` (the exit is that one point)."""
    if direction * (cur - sl) <= 0:
        return REASON_SL, seg - 1
    if has_tp and direction * (cur - tp) >= 0:
        return REASON_TP, seg - 1
    return _walk_rest(q1, q2, p3, seg, cur, direction, sl, tp, has_tp)


@njit(**INNER)
def _excursions_nb(
    open_,
    high,
    low,
    close,
    falling,
    high_blocks,
    low_blocks,
    ask_high,
    ask_low,
    ask_high_blocks,
    ask_low_blocks,
    slippage,
    out,
    first,
    last,
    close_bar,
    day_end,
    exits,
    prefix,
):
    """Each trade's ``mae``/``mfe`` (docs/READINGS.md, reading 32) in ``out[first:last]``:
    the trades of one rule-day, just written by :func:`sweep_batch_nb` (``close_bar``: the
    day's bar at ``close_time``, -1 when none; ``day_end``: one past its last bar; the other
    arrays as there), while they and the day's bars are in cache.

    The lowest and highest point of the exit side's path (a long's bid, a short's ask) from
    the point of entry to the point of exit, both found again from the record: the point
    of entry from the fill (the record's entry less slippage) and bar ``j``'s open (filled
    at the open, else at the level, on the segment that reaches it), the point of exit by
    walking the exit bar as :func:`_trade_nb` does. On bar ``j`` the point of entry and the
    corners after it (up to the point of exit when it exits there), the bars between
    whole, on the exit bar its open and the corners up to the point of exit (a close at
    ``close_time``: that bar's open; with no such bar the day's last bar whole);
    ``mae``/``mfe`` from the fill after slippage.

    A rule's combinations that trade its first entry of the day come one after another: a
    group of trades with one entry (bar, direction, fill) shares the path to each block
    boundary (``prefix``, filled as far as an exit needs) and the extremes up to each exit
    (``exits``, by the span's end and the exit price, which fix the exit's bar, point and
    reason): an exit through one level is the same bar and point whatever the other is."""
    group = -1
    j0 = dir0 = entry0 = -1
    cur = seg = off = p1 = p2 = filled = 0
    for n in range(first, last):
        row = out[n]
        j, e, entry, reason = row.entry_bar, row.exit_bar, row.entry, row.reason
        direction = 1 if row.direction > 0 else -1
        if j != j0 or direction != dir0 or entry != entry0:  # a new group
            group = n  # the group's first trade: unique in the batch
            j0, dir0, entry0 = j, direction, entry
            o = open_[j]
            s = ask_high[j] - high[j]
            p1 = high[j] if falling[j] else low[j]
            p2 = low[j] if falling[j] else high[j]
            fill = entry - direction * slippage
            if direction > 0:  # filled at the ask open (o + s), else at its level above it
                at_open = fill <= o + s
                cur = fill - s  # the point of entry on the bid path
                seg = 0 if (at_open or falling[j]) else 1
                off = 0  # a long exits on the bid path
            else:
                at_open = fill >= o
                cur = fill
                seg = 0 if (at_open or not falling[j]) else 1
                off = s  # a short exits on the ask path
            filled = 0
        if reason != REASON_CLOSE and e == j:  # on bar j, from the point of entry to the exit
            sl, tp = row.sl - off, row.tp - off
            r, seg_x = _exit_point(p1, p2, close[j], seg, cur, direction, sl, tp, row.has_tp)
            ex = cur if seg_x < seg else (sl if r == REASON_SL else tp)
            low_x, high_x = _corners(min(cur, ex), max(cur, ex), p1, p2, close[j], seg + 1, seg_x)
            low_x, high_x = low_x + off, high_x + off
        else:
            if reason == REASON_CLOSE:  # no bar at close_time: the day's last bar, whole
                span_end = close_bar if close_bar >= 0 else day_end
            else:
                span_end = e
            price = row.exit
            h = (span_end * 7 + price) & (EXITS - 1)
            if exits[h, 0] == span_end and exits[h, 1] == price and exits[h, 2] == group:
                low_x, high_x = exits[h, 3], exits[h, 4]
            else:
                if direction > 0:  # the exit side's bars
                    lows, lows_b, highs, highs_b = low, low_blocks, high, high_blocks
                else:
                    lows, lows_b = ask_low, ask_low_blocks
                    highs, highs_b = ask_high, ask_high_blocks
                low_x = high_x = price  # a close: that one point
                if reason != REASON_CLOSE:  # the exit bar from its open to the point of exit
                    o = open_[e]
                    off_e = 0 if direction > 0 else ask_high[e] - high[e]
                    q1 = high[e] if falling[e] else low[e]
                    q2 = low[e] if falling[e] else high[e]
                    sl, tp = row.sl - off_e, row.tp - off_e
                    r, seg_x = _exit_point(q1, q2, close[e], 0, o, direction, sl, tp, row.has_tp)
                    ex = o if seg_x < 0 else (sl if r == REASON_SL else tp)
                    low_x, high_x = _corners(min(o, ex), max(o, ex), q1, q2, close[e], 1, seg_x)
                    low_x, high_x = low_x + off_e, high_x + off_e
                head = (j // BLOCK + 1) * BLOCK  # the first block boundary after bar j
                if span_end > head:  # the prefix to the span's last block, then its bars
                    whole = span_end // BLOCK - head // BLOCK
                    if filled == 0:
                        lo, hi = _corners(cur, cur, p1, p2, close[j], seg + 1, 3)
                        lo, hi = _scan_nb(lows, highs, j + 1, head, lo + off, hi + off)
                        prefix[0], prefix[1] = lo, hi
                        filled = 1
                    while filled <= whole:
                        b = head // BLOCK + filled - 1
                        prefix[2 * filled] = min(prefix[2 * filled - 2], lows_b[0, b])
                        prefix[2 * filled + 1] = max(prefix[2 * filled - 1], highs_b[0, b])
                        filled += 1
                    lo, hi = _scan_nb(
                        lows, highs, span_end - span_end % BLOCK, span_end,
                        prefix[2 * whole], prefix[2 * whole + 1],
                    )  # fmt: skip
                else:  # bar j from the point of entry, then the bars up to the span's end
                    lo, hi = _corners(cur, cur, p1, p2, close[j], seg + 1, 3)
                    lo, hi = _scan_nb(lows, highs, j + 1, span_end, lo + off, hi + off)
                low_x, high_x = min(low_x, lo), max(high_x, hi)
                exits[h, 0], exits[h, 1], exits[h, 2] = span_end, price, group
                exits[h, 3], exits[h, 4] = low_x, high_x
        if direction > 0:
            row.mae, row.mfe = max(0, entry - low_x), max(0, high_x - entry)
        else:
            row.mae, row.mfe = max(0, high_x - entry), max(0, entry - low_x)


# Inlined (numba IR) into its one caller: as a call, its many array arguments cost more
# than its work (bench/cost.py: 20 % of the kernel's time), and compiling it inline costs
# no more.
@njit(cache=True, nogil=True, no_cpython_wrapper=True, inline="always")
def _trade_nb(
    open_,
    high,
    low,
    close,
    falling,
    high_blocks,
    low_blocks,
    ask_high,
    ask_low,
    ask_high_blocks,
    ask_low_blocks,
    slippage,
    j,
    go_long,
    long_level,
    short_level,
    stop,
    target,
    lots,
    has_tp,
    walk_end,
    close_bar,
    day_end,
    shared,
    found,
    n_found,
    stats,
    out,
    n,
):
    """The trade entered at bar ``j``: its exit (the rest of bar ``j``'s path, then the first
    bar from ``j + 1`` that touches SL or TP, else the close), written to ``out[n]``
    without its excursions (-1: :func:`_excursions_nb` records them after the rule-day,
    when asked). Returns ``(exit_bar, reason)``.

    A long fills on the ask path and exits on the bid path, a short the other way round
    (the ask path's offset on bar ``i`` is ``ask_high[i] - high[i]``). The path is walked
    on the bid: the point of entry of a long filled at ``long_level`` is ``long_level``
    less bar ``j``'s offset, and a short's SL and TP are the offset lower there. An exit
    level already passed at the point of entry (a spread as wide as the stop) fires there,
    at the level (spec 8.4).

    With ``shared`` (``j`` is the first entry of the day of the trade's rule) the queries
    are remembered by level in ``found[side]`` (``(level, bar)`` pairs, ``n_found[side]``
    of them, up to MEMO; side 0: the stop, 1: the target): the combinations of a rule that
    exit from its first entry of a day share each stop or target level's query. The
    target's query then runs to ``walk_end``, not to the stop's bar, which gives the same
    exit: a target touched after the stop's bar does not count."""
    o = open_[j]
    s = ask_high[j] - high[j]
    p1 = high[j] if falling[j] else low[j]
    p2 = low[j] if falling[j] else high[j]
    if go_long:
        direction = 1
        at_open = o + s >= long_level
        fill = o + s if at_open else long_level
        cur = o if at_open else long_level - s  # the point of entry on the bid path
        seg = 0 if (at_open or falling[j]) else 1
        sl = fill - stop
        tp = fill + target
        off = 0  # a long exits on the bid path
    else:
        direction = -1
        at_open = o <= short_level
        fill = o if at_open else short_level
        cur = fill
        seg = 0 if (at_open or not falling[j]) else 1
        sl = fill + stop
        tp = fill - target
        off = s  # a short exits on the ask path
    if direction * (cur - (sl - off)) <= 0:  # already passed at the point of entry
        reason = REASON_SL
    elif has_tp and direction * (cur - (tp - off)) >= 0:
        reason = REASON_TP
    else:
        reason, _ = _walk_rest(p1, p2, close[j], seg, cur, direction, sl - off, tp - off, has_tp)
    price = sl if reason == REASON_SL else tp
    exit_bar = j
    if reason < 0:
        e = walk_end
        for side in range(2 if has_tp else 1):  # the stop's bar, then the target's
            above = (side == 1) == (direction > 0)
            if direction > 0:  # a long's exits on the bid, a short's on the ask
                values, blocks = (high, high_blocks) if above else (low, low_blocks)
            else:
                values, blocks = (ask_high, ask_high_blocks) if above else (ask_low, ask_low_blocks)
            level = sl if side == 0 else tp
            hit = -1
            for i in range(n_found[side] if shared else 0):
                if found[side, 0, i] == level:
                    hit = found[side, 1, i]
                    stats[S_SHARED] += 1
                    break
            if hit < 0:
                stats[S_EXIT] += 1
                bound = walk_end if (shared or side == 0) else min(walk_end, e + 1)
                hit = first_touch_nb(values, blocks, j + 1, bound, level, above)
                if shared and n_found[side] < MEMO:
                    found[side, 0, n_found[side]] = level
                    found[side, 1, n_found[side]] = hit
                    n_found[side] += 1
            e = min(e, hit)
        if e < walk_end:
            exit_bar = e
            o = open_[e]
            off = 0 if direction > 0 else ask_high[e] - high[e]
            if direction * (o + off - sl) <= 0:  # the exits' path opens beyond a level
                reason, price = REASON_SL, o + off
            elif has_tp and direction * (o + off - tp) >= 0:
                reason, price = REASON_TP, o + off
            else:
                q1 = high[e] if falling[e] else low[e]
                q2 = low[e] if falling[e] else high[e]
                reason, _ = _walk_rest(
                    q1, q2, close[e], 0, o, direction, sl - off, tp - off, has_tp
                )
                price = sl if reason == REASON_SL else tp
        else:
            exit_bar = close_bar if close_bar >= 0 else day_end - 1
            # at close_time the bar's open, else the day's last close; a short's + spread
            price = open_[exit_bar] if close_bar >= 0 else close[exit_bar]
            if direction < 0:
                price += ask_high[exit_bar] - high[exit_bar]
            reason = REASON_CLOSE
    if reason == REASON_SL:
        price -= direction * slippage  # a stop order slips: a long's lower, a short's higher
    row = out[n]
    row.entry_bar = j
    row.exit_bar = exit_bar
    row.direction = direction
    row.entry = fill + direction * slippage
    row.exit = price
    row.sl = sl
    row.tp = tp if has_tp else 0
    row.has_tp = has_tp
    row.stop_points = stop
    row.lots = lots
    row.reason = reason
    row.mae = row.mfe = -1  # not recorded (yet)
    return exit_bar, reason


@njit(cache=True, nogil=True)
def sweep_batch_nb(
    open_,
    high,
    low,
    close,
    falling,
    high_blocks,
    low_blocks,
    ask_high,
    ask_low,
    ask_high_blocks,
    ask_low_blocks,
    slippage,
    gate_ok,
    gate_next,
    day_end,
    day_weekday,
    walk_start,
    ib_high,
    ib_low,
    has_ib,
    close_bar,
    entry_hi,
    dist,
    lots_table,
    combo,
    order,
    rule_start,
    out,
    out_combo,
    counts,
    skipped,
    skip_day,
    memo,
    found,
    n_found,
    excursions,
    exits,
    prefix,
    stats,
):
    """Walk a batch of combinations day by day (the day's bars stay in cache), the
    combinations of one entry rule together, sharing their entry searches.

    ``open_ .. low_blocks`` are the bid bars and their block tables; ``ask_high`` and
    ``ask_low`` the bid's + each bar's spread with their block tables (the bid's own
    arrays in the ``cost`` model); ``slippage`` in points.

    Shared tables are indexed ``[row, day]`` (``walk_start``, IB, by window;
    ``close_bar``, ``entry_hi`` by schedule; ``dist``: distances in points, ``lots_table``:
    lots, 0.0 = below volume_min) and ``[row, bar]`` (``gate_ok``, ``gate_next`` by entry
    gate); ``combo[c]`` names combination ``c``'s rows and values (the ``C_*`` columns).
    ``order[rule_start[r]:rule_start[r + 1]]`` are the combinations of entry rule ``r``:
    same window, schedule, gate, buffer, directions, weekdays and IB bounds, so the same
    entry levels and the same "first entry from bar ``lo``" on every day. A rule's first
    search of a day serves all its combinations; a later one (after an exit, when
    max_trades_per_day > 1) is remembered with the bars it answers for (a search from
    ``lo`` that finds ``j`` answers every start in ``lo..j``), up to MEMO per rule and day.

    The rule's combinations that trade its first entry of a day also share the stop and
    target queries of equal levels (:func:`_trade_nb`): a grid's stop × target
    combinations cost one query per distinct stop and one per distinct target.

    The trades (TRADE_DTYPE records) go to ``out`` in the order they are found (day by
    day), the combination of each to ``out_combo`` (one stream of writes: the batch's
    combinations' own regions would each be a cache miss a day); returns their number.
    ``counts[c]`` counts combination ``c``'s trades, ``skipped[c]`` its lot skips, and
    ``skip_day[d, c]`` is set for each day ``d`` it skipped (so a window of days can count
    its own skips). :func:`combo_order_nb` then orders the trades by combination.
    ``memo`` (3 × MEMO), ``found`` (2 × 2 × MEMO) and ``n_found`` (2) are scratch (int64);
    ``stats`` (int64, the ``S_*`` counters) is added to.

    With ``excursions`` each rule-day's trades then get their ``mae``/``mfe``
    (:func:`_excursions_nb`, scratch ``exits`` and ``prefix``); without, they are -1 (not
    recorded: what a metrics-only sweep skips, at the walk's own cost, docs/BENCHMARK.md).
    """
    for c in range(len(combo)):
        counts[c] = 0
        skipped[c] = 0
    written = 0
    for d in range(len(day_end)):
        wd = day_weekday[d]
        for r in range(len(rule_start) - 1):
            rule = order[rule_start[r]]  # the rule's first combination holds its values
            w = combo[rule, C_WINDOW]
            if not has_ib[w, d] or not (combo[rule, C_WEEKDAYS] >> wd) & 1:
                continue
            ib = ib_high[w, d] - ib_low[w, d]
            max_ib = combo[rule, C_MAX_IB]
            if ib <= 0 or ib < combo[rule, C_MIN_IB] or (max_ib > 0 and ib > max_ib):
                continue
            s = combo[rule, C_SCHEDULE]
            gate = combo[rule, C_GATE]
            buffer = dist[combo[rule, C_BUFFER], d]
            long_level = ib_high[w, d] + buffer
            short_level = ib_low[w, d] - buffer
            allow_long = combo[rule, C_LONG] != 0
            allow_short = combo[rule, C_SHORT] != 0
            start = walk_start[w, d]
            hi = entry_hi[s, d]
            cb = close_bar[s, d]
            walk_end = cb if cb >= 0 else day_end[d]
            n_memo = 0
            n_found[0] = 0
            stats[S_RULE_DAYS] += 1
            n_found[1] = 0
            first = written
            for k in range(rule_start[r], rule_start[r + 1]):
                c = order[k]
                stop = dist[combo[c, C_STOP], d]
                if stop < 1:
                    continue
                target = max(1, dist[combo[c, C_TP], d])
                lots = lots_table[combo[c, C_LOTS], d]
                has_tp = combo[c, C_HAS_TP] != 0
                max_trades = combo[c, C_MAX_TRADES]
                lo = start
                taken = 0
                while taken < max_trades and lo < hi:
                    j = -1
                    go_long = False
                    for m in range(n_memo):
                        if memo[0, m] <= lo <= memo[1, m]:
                            j = memo[1, m]
                            go_long = memo[2, m] != 0
                            break
                    if j < 0:
                        stats[S_ENTRY] += 1
                        j, go_long = _next_entry(
                            open_,
                            falling,
                            high,
                            ask_high,
                            ask_high_blocks,
                            low,
                            low_blocks,
                            gate_ok,
                            gate_next,
                            gate,
                            lo,
                            hi,
                            long_level,
                            short_level,
                            allow_long,
                            allow_short,
                        )
                        if n_memo < MEMO:
                            memo[0, n_memo] = lo
                            memo[1, n_memo] = j
                            memo[2, n_memo] = go_long
                            n_memo += 1
                    if j >= hi:
                        break
                    if lots <= 0.0:
                        skipped[c] += 1
                        skip_day[d, c] = True
                        break
                    exit_bar, reason = _trade_nb(
                        open_,
                        high,
                        low,
                        close,
                        falling,
                        high_blocks,
                        low_blocks,
                        ask_high,
                        ask_low,
                        ask_high_blocks,
                        ask_low_blocks,
                        slippage,
                        j,
                        go_long,
                        long_level,
                        short_level,
                        stop,
                        target,
                        lots,
                        has_tp,
                        walk_end,
                        cb,
                        day_end[d],
                        lo == start,  # the rule's first entry of the day
                        found,
                        n_found,
                        stats,
                        out,
                        written,
                    )
                    out_combo[written] = c
                    written += 1
                    taken += 1
                    if reason == REASON_CLOSE:
                        break
                    lo = exit_bar + 1
                counts[c] += taken
            if excursions and written > first:
                _excursions_nb(
                    open_, high, low, close, falling, high_blocks, low_blocks, ask_high, ask_low,
                    ask_high_blocks, ask_low_blocks, slippage, out, first, written, cb, day_end[d],
                    exits, prefix,
                )  # fmt: skip
    return written


@njit(cache=True, nogil=True)
def combo_order_nb(out_combo, at, position, order):
    """Trades combination after combination (a counting sort; ``out_combo[i]`` is trade
    ``i``'s combination, each combination's trades in the order found; ``at[c]``: where
    combination ``c``'s trades start, moved on as they are placed): ``position[i]`` is
    trade ``i``'s place in that order, ``order[k]`` the trade at place ``k``."""
    for i in range(len(out_combo)):
        k = at[out_combo[i]]
        at[out_combo[i]] = k + 1
        position[i] = k
        order[k] = i
