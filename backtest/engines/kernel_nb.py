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


@njit(**INNER)
def _span_nb(lows, low_blocks, highs, high_blocks, a, b, lo, hi):
    """``lo``/``hi`` widened by the lowest low and the highest high of the bars ``[a, b)``,
    ``a`` a block's first bar: the whole blocks in two overlapping windows of their
    :func:`block_table` s, the bars after the last whole block scanned."""
    p, last = a // BLOCK, b // BLOCK
    if last > p:
        k = min(_top_level(last - p), low_blocks.shape[0] - 1)
        step = 1 << k
        while last - p > 2 * step:  # longer than the tables reach (not within a day)
            lo, hi = min(lo, low_blocks[k, p]), max(hi, high_blocks[k, p])
            p += step
        lo = min(lo, low_blocks[k, p], low_blocks[k, last - step])
        hi = max(hi, high_blocks[k, p], high_blocks[k, last - step])
    return _scan_nb(lows, highs, max(a, last * BLOCK), b, lo, hi)


@njit(**INNER)
def _before_exit(lows, lows_b, highs, highs_b, j, cur, seg, off, p1, p2, p3, span_end):
    """The lowest and highest point of a trade's exit side's path before its exit bar
    ``span_end``: bar ``j`` (bid corners ``p1``, ``p2``, ``p3``, the exit side ``off`` above)
    from the point of entry ``cur`` on segment ``seg``, then the bars ``j + 1 .. span_end -
    1`` whole (``lows``, ``highs``: the exit side's, with their block tables)."""
    head = (j // BLOCK + 1) * BLOCK  # the first block boundary after bar j
    lo, hi = _corners(cur, cur, p1, p2, p3, seg + 1, 3)
    lo, hi = _scan_nb(lows, highs, j + 1, min(head, span_end), lo + off, hi + off)
    if span_end > head:
        lo, hi = _span_nb(lows, lows_b, highs, highs_b, head, span_end, lo, hi)
    return lo, hi


@njit(**INNER)
def _prefix_nb(lows, lows_b, highs, highs_b, spans, j, cur, seg, off, p1, p2, p3, walk_end):
    """The prefix of a rule-day's first entry (bar ``j``, as :func:`_before_exit`) in
    ``spans[PREFIX + 2 b]`` (low) and ``spans[PREFIX + 2 b + 1]`` (high): the lowest and
    highest point of bar ``j`` from the point of entry, the bars to the first block boundary
    after ``j``, and the ``b`` whole blocks after it (from the level-0 block tables), every
    ``b`` up to ``walk_end``'s block."""
    head = (j // BLOCK + 1) * BLOCK
    lo, hi = _corners(cur, cur, p1, p2, p3, seg + 1, 3)
    lo, hi = _scan_nb(lows, highs, j + 1, min(head, walk_end), lo + off, hi + off)
    spans[PREFIX] = lo
    spans[PREFIX + 1] = hi
    first = head // BLOCK
    for b in range(walk_end // BLOCK - first):
        lo = min(lo, lows_b[0, first + b])
        hi = max(hi, highs_b[0, first + b])
        spans[PREFIX + 2 * b + 2] = lo
        spans[PREFIX + 2 * b + 3] = hi
    spans[PREFIX_AT] = 1


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
# The excursions' scratch ``spans`` of a rule-day (int64): ``mae`` of the exit through each
# remembered level, then its ``mfe`` (slot ``i``: the stop of ``found[0]``'s entry ``i``,
# ``MEMO + i``: the target of ``found[1]``'s; CLOSE: the close; -1: not known yet), whether
# the prefix is there (1, else -1), whether to record at all (RECORD), then the prefix
# (:func:`_prefix_nb`).
SLOTS = 2 * MEMO + 1
CLOSE = 2 * MEMO
PREFIX_AT = 2 * SLOTS
# Where ``spans`` says whether the batch records excursions (1) or not (0), set once by
# sweep_batch_nb: a slot, not an argument of _trade_nb, whose 30 arguments are CPython's
# limit for a plain call (above it the call becomes ``f(*args)``, which numba cannot inline).
RECORD = PREFIX_AT + 1
PREFIX = RECORD + 1
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
    spans,
    stats,
    out,
    n,
):
    """The trade entered at bar ``j``: its exit (the rest of bar ``j``'s path, then the first
    bar from ``j + 1`` that touches SL or TP, else the close) and its excursions, written
    to ``out[n]``. Returns ``(exit_bar, reason)``.

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
    exit: a target touched after the stop's bar does not count. Each entry also keeps the
    excursions of the exit through its level (in ``spans``, by slot: SLOTS): an SL exit is
    the same bar and point whatever the target, and the other way round; the close's once;
    the path before the exit bar from the rule-day's prefix (:func:`_prefix_nb`, built on
    the first exit that needs it).

    Excursions (docs/READINGS.md, reading 32): the lowest and highest point of the exit
    side's path (a long's bid, a short's ask) from the point of entry to the point of exit:
    on bar ``j`` the entry point and the corners after it (up to the exit point when it
    exits there), the bars between (:func:`_before_exit`), on the exit bar its open and
    the corners up to the exit point (a close at ``close_time``: that bar's open; with no
    such bar the day's last bar is walked whole); ``mae``/``mfe`` from the fill after
    slippage."""
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
    seg_exit = seg
    ex = cur  # the exit point on the bid path (passed at the point of entry: that point)
    if direction * (cur - (sl - off)) <= 0:  # already passed at the point of entry
        reason = REASON_SL
    elif has_tp and direction * (cur - (tp - off)) >= 0:
        reason = REASON_TP
    else:
        reason, seg_exit = _walk_rest(
            p1, p2, close[j], seg, cur, direction, sl - off, tp - off, has_tp
        )
        if reason >= 0:
            ex = (sl if reason == REASON_SL else tp) - off
    price = sl if reason == REASON_SL else tp
    exit_bar = j
    entry = fill + direction * slippage
    excursions = spans[RECORD] == 1
    mae = mfe = -1  # not recorded (``excursions`` off)
    if reason >= 0:
        if excursions:  # the exit side's path on bar j: from the point of entry to the exit
            low_x, high_x = _corners(
                min(cur, ex), max(cur, ex), p1, p2, close[j], seg + 1, seg_exit
            )
            if direction > 0:
                mae, mfe = max(0, entry - low_x - off), max(0, high_x + off - entry)
            else:
                mae, mfe = max(0, high_x + off - entry), max(0, entry - low_x - off)
    else:
        e = walk_end
        at_stop = at_target = -1  # the exit levels' entries in ``found`` (shared trades)
        for side in range(2 if has_tp else 1):  # the stop's bar, then the target's
            above = (side == 1) == (direction > 0)
            if direction > 0:  # a long's exits on the bid, a short's on the ask
                values, blocks = (high, high_blocks) if above else (low, low_blocks)
            else:
                values, blocks = (ask_high, ask_high_blocks) if above else (ask_low, ask_low_blocks)
            level = sl if side == 0 else tp
            hit = at = -1
            for i in range(n_found[side] if shared else 0):
                if found[side, 0, i] == level:
                    hit = found[side, 1, i]
                    at = i
                    stats[S_SHARED] += 1
                    break
            if hit < 0:
                stats[S_EXIT] += 1
                bound = walk_end if (shared or side == 0) else min(walk_end, e + 1)
                hit = first_touch_nb(values, blocks, j + 1, bound, level, above)
                if shared and n_found[side] < MEMO:
                    at = n_found[side]
                    found[side, 0, at] = level
                    found[side, 1, at] = hit
                    spans[side * MEMO + at] = -1  # the excursions of its exit: not known yet
                    n_found[side] += 1
            if side == 0:
                at_stop = at
            else:
                at_target = at
            e = min(e, hit)
        o = q1 = q2 = off_e = 0
        seg_exit = -1  # the exit's segment on the exit bar; -1: at a single point
        if e < walk_end:
            exit_bar = e
            o = open_[e]
            off_e = 0 if direction > 0 else ask_high[e] - high[e]
            if direction * (o + off_e - sl) <= 0:  # the exits' path opens beyond a level
                reason, price = REASON_SL, o + off_e
            elif has_tp and direction * (o + off_e - tp) >= 0:
                reason, price = REASON_TP, o + off_e
            else:
                q1 = high[e] if falling[e] else low[e]
                q2 = low[e] if falling[e] else high[e]
                reason, seg_exit = _walk_rest(
                    q1, q2, close[e], 0, o, direction, sl - off_e, tp - off_e, has_tp
                )
                price = sl if reason == REASON_SL else tp
            span_end = e
            if reason == REASON_SL:
                slot = at_stop
            else:
                slot = MEMO + at_target if at_target >= 0 else -1
        else:
            exit_bar = close_bar if close_bar >= 0 else day_end - 1
            # at close_time the bar's open, else the day's last close; a short's + spread
            price = open_[exit_bar] if close_bar >= 0 else close[exit_bar]
            if direction < 0:
                price += ask_high[exit_bar] - high[exit_bar]
            reason = REASON_CLOSE
            span_end = walk_end  # no bar at close_time: the day's last bar, walked whole
            slot = CLOSE if shared else -1
        # Excursions, remembered by exit level (the close: once) for the rule's first entry
        # of the day: a level's exit is the same bar and the same point whatever the other
        # level is.
        if excursions:
            known = spans[slot] if slot >= 0 else -1
            if known >= 0:
                mae, mfe = known, spans[SLOTS + slot]
            else:
                # the exit bar from its open to the exit point (a close: that one point; the
                # day's last close lies inside its bar, walked whole below)
                low_x = high_x = price
                if seg_exit >= 0:
                    low_x, high_x = _corners(
                        min(o, price - off_e), max(o, price - off_e), q1, q2, close[e], 1, seg_exit
                    )
                    low_x += off_e
                    high_x += off_e
                head = (j // BLOCK + 1) * BLOCK  # the first block boundary after bar j
                if not shared:
                    if direction > 0:
                        low_b, high_b = _before_exit(
                            low, low_blocks, high, high_blocks, j, cur, seg, off, p1, p2, close[j],
                            span_end,
                        )  # fmt: skip
                    else:
                        low_b, high_b = _before_exit(
                            ask_low, ask_low_blocks, ask_high, ask_high_blocks, j, cur, seg, off,
                            p1, p2, close[j], span_end,
                        )  # fmt: skip
                else:
                    if span_end > head:  # the prefix to the span's last block, then its bars
                        if spans[PREFIX_AT] < 0:
                            if direction > 0:
                                _prefix_nb(
                                    low, low_blocks, high, high_blocks, spans, j, cur, seg, off, p1,
                                    p2, close[j], walk_end,
                                )  # fmt: skip
                            else:
                                _prefix_nb(
                                    ask_low, ask_low_blocks, ask_high, ask_high_blocks, spans, j,
                                    cur, seg, off, p1, p2, close[j], walk_end,
                                )  # fmt: skip
                        whole = span_end // BLOCK - head // BLOCK
                        low_b, high_b = spans[PREFIX + 2 * whole], spans[PREFIX + 2 * whole + 1]
                        start = span_end - span_end % BLOCK
                    else:  # bar j from the point of entry, then the bars up to the span's end
                        low_b, high_b = _corners(cur, cur, p1, p2, close[j], seg + 1, 3)
                        low_b += off
                        high_b += off
                        start = j + 1
                    if direction > 0:
                        for i in range(start, span_end):
                            low_b, high_b = min(low_b, low[i]), max(high_b, high[i])
                    else:
                        for i in range(start, span_end):
                            low_b, high_b = min(low_b, ask_low[i]), max(high_b, ask_high[i])
                low_x, high_x = min(low_x, low_b), max(high_x, high_b)
                if direction > 0:
                    mae, mfe = max(0, entry - low_x), max(0, high_x - entry)
                else:
                    mae, mfe = max(0, high_x - entry), max(0, entry - low_x)
                if slot >= 0:
                    spans[slot] = mae
                    spans[SLOTS + slot] = mfe
    if reason == REASON_SL:
        price -= direction * slippage  # a stop order slips: a long's lower, a short's higher
    row = out[n]
    row.entry_bar = j
    row.exit_bar = exit_bar
    row.direction = direction
    row.entry = entry
    row.exit = price
    row.sl = sl
    row.tp = tp if has_tp else 0
    row.has_tp = has_tp
    row.stop_points = stop
    row.lots = lots
    row.reason = reason
    row.mae = mae
    row.mfe = mfe
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
    spans,
    excursions,
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
    ``memo`` (3 × MEMO), ``found`` (2 × 2 × MEMO), ``n_found`` (2) and ``spans`` (PREFIX +
    2 × (a day's whole blocks + 2)) are scratch (int64);
    ``excursions``: record each trade's ``mae``/``mfe`` (else -1, not recorded: what a
    metrics-only sweep skips, docs/BENCHMARK.md); ``stats`` (int64, the ``S_*`` counters)
    is added to.
    """
    spans[RECORD] = 1 if excursions else 0
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
            spans[CLOSE] = -1  # the rule-day's excursions: none known yet
            spans[PREFIX_AT] = -1
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
                        spans,
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
