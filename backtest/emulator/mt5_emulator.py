"""A small MetaTrader-5-like terminal that replays M1 bars (the readable reference engine).

It speaks the MT5 Python API's shapes: ``order_send`` takes request dicts
(``TRADE_ACTION_PENDING`` with ``ORDER_TYPE_BUY_STOP``/``ORDER_TYPE_SELL_STOP``,
``TRADE_ACTION_REMOVE``, ``TRADE_ACTION_DEAL`` to close a position,
``TRADE_ACTION_SLTP``) and answers with retcodes; ``positions_get``,
``orders_get``, ``history_deals_get`` and ``copy_rates_*`` read its state.
Bar prices are integer points of the bid (spec section 1).

Time advances bar by bar. Each bar is announced to a listener at its open
(only its open price is visible), then walked along the MT5 "1 minute OHLC"
path of spec section 4; pending stops, stop-losses and take-profits trigger at
the first point of the path that reaches them: at the open when the open is
already through, else at the level. The earliest trigger in path order wins,
and after a fill the rest of the bar's path is walked for the new position.

Execution models (spec section 8). In ``bid_ask`` (the symbol's ``spread_model``) a
bar has two paths: the bid path above and the ask path, the same shape ``s`` higher
(``s`` the bar's spread in points, ``Bars.bar_spread``). Buy orders (the buy stop, a
short's SL and TP) trigger and fill on the ask path, sell orders (the sell stop, a
long's SL and TP) on the bid path. Only the bid path is walked: every trigger carries
its path's offset (0 bid, ``s`` ask), and a trigger at level ``X`` on the ask path is
the bid path reaching ``X - s`` (the direction of the segments is the bid path's), so
"earliest in path order" compares points of the one shared path. A trigger fills at its
level, or at its path's open (``open + offset``) when the bar's open is already through;
a level already passed at a later point (possible only at the point of an entry, when
the spread is as wide as the stop) fires at that point and fills at the level. At equal
points the buy stop comes before the sell stop. Closes are a sell at the bid (a long)
or a buy at the ask (a short: the current bid + ``s``). In ``cost`` the offset is 0 on
every bar: one path, the bid, and the spread is charged later, in the trade values
(``SymbolSpec.charged_points``). Slippage ``p`` (both models) worsens the two stop
fills: the entry (buy ``+p``, sell ``-p``) and the SL exit (a long's ``-p``, a short's
``+p``); a deal's ``slippage`` says by how much, and a position's SL and TP stay where
they were set, from the fill before slippage.

Excursions: while a position is open, the emulator follows its exit side's path (a
long's bid, a short's ask) point by point, from the point of its entry to the point of its
exit (the rest of the entry bar, every bar between, the exit bar up to the exit; a close
at the current point), and its exit deal carries the maximum adverse and favourable
excursion (``mae``, ``mfe``, points >= 0) of that path from the position's open price
(after slippage).

Where it deliberately differs from a live terminal (the backtest contract
asks for it):

- a stop order already through the market is accepted and fills at the next
  point of the path (a bar's open), where MT5 would refuse it;
- the volume of a pending order is checked when the order triggers: below
  ``volume_min`` the order is rejected then (like a margin rejection on
  activation), so that a strategy learns that its level was reached;
- the listener hears when a trading day ends, after the walk of its last bar,
  and a close requested then fills at that bar's close (a short's: its close + ``s``);
- a position's SL and TP are checked against its fill before slippage, not against
  the current price: with a spread as wide as the stop, a long's SL can lie at or
  above the bid at the point of entry, and then it triggers there (spec 8.4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Protocol

import numpy as np

from backtest.core.config import SymbolSpec
from backtest.data.bars import Bars

TRADE_ACTION_DEAL = 1
TRADE_ACTION_PENDING = 5
TRADE_ACTION_SLTP = 6
TRADE_ACTION_REMOVE = 8

ORDER_TYPE_BUY = 0
ORDER_TYPE_SELL = 1
ORDER_TYPE_BUY_STOP = 4
ORDER_TYPE_SELL_STOP = 5

ORDER_STATE_PLACED = 1
ORDER_STATE_CANCELED = 2
ORDER_STATE_FILLED = 4
ORDER_STATE_REJECTED = 5

POSITION_TYPE_BUY = 0
POSITION_TYPE_SELL = 1

DEAL_TYPE_BUY = 0
DEAL_TYPE_SELL = 1
DEAL_ENTRY_IN = 0
DEAL_ENTRY_OUT = 1
DEAL_REASON_EXPERT = 3
DEAL_REASON_SL = 4
DEAL_REASON_TP = 5

TRADE_RETCODE_PLACED = 10008
TRADE_RETCODE_DONE = 10009
TRADE_RETCODE_INVALID = 10013
TRADE_RETCODE_INVALID_VOLUME = 10014
TRADE_RETCODE_INVALID_PRICE = 10015
TRADE_RETCODE_INVALID_STOPS = 10016
TRADE_RETCODE_INVALID_ORDER = 10035
TRADE_RETCODE_POSITION_CLOSED = 10036

RATE_DTYPE = np.dtype(
    [
        ("time", np.int64),  # bar open, UTC ns
        ("open", np.int64),  # points
        ("high", np.int64),
        ("low", np.int64),
        ("close", np.int64),
        ("day", np.int32),  # local trading day (days since 1970-01-01)
        ("minute", np.int16),  # local minute of the day
        ("weekday", np.int8),  # 0 = Monday
    ]
)


class Bar(NamedTuple):
    """The bar that is opening: what a strategy may know at its open."""

    bar_index: int  # its position in the replayed bars (not "index": that is tuple.index)
    time: int  # UTC ns
    day: int
    minute: int
    weekday: int
    open: int


@dataclass(frozen=True)
class SymbolInfo:
    name: str
    point: float
    digits: int
    volume_min: float
    volume_step: float
    trade_tick_value: float  # money per point per 1.0 lot


@dataclass(frozen=True)
class TradeOrder:
    ticket: int
    time_setup: int
    type: int
    volume_initial: float
    price_open: int
    sl: int
    tp: int  # 0 = none
    state: int = ORDER_STATE_PLACED


@dataclass(frozen=True)
class TradePosition:
    ticket: int
    time: int
    bar: int  # index of the entry bar
    type: int
    volume: float
    price_open: int
    sl: int
    tp: int  # 0 = none
    slippage: int = 0  # points by which price_open is worse than the trigger (spec 8.5)


@dataclass(frozen=True)
class TradeDeal:
    ticket: int
    order: int
    time: int
    bar: int  # index of the bar where it happened
    type: int
    entry: int
    position_id: int
    volume: float
    price: int
    reason: int
    sl: int
    tp: int
    slippage: int = 0  # points by which ``price`` is worse than the trigger (spec 8.5)
    # an exit deal: the position's maximum adverse / favourable excursion (points >= 0)
    # from its open price along its exit side's path, entry point to exit point
    mae: int = 0
    mfe: int = 0


class OrderSendResult(NamedTuple):
    retcode: int
    deal: int = 0
    order: int = 0
    volume: float = 0.0
    price: int = 0
    comment: str = ""


class Listener(Protocol):
    """What the emulator tells while it replays (a strategy implements it)."""

    def on_day_start(self, bar: Bar) -> None: ...
    def on_bar_open(self, bar: Bar) -> None: ...
    def on_deal(self, deal: TradeDeal) -> None: ...
    def on_order_rejected(self, order: TradeOrder) -> None: ...
    def on_day_end(self, bar: Bar) -> None: ...


class _Trigger(NamedTuple):
    level: int
    upward: bool  # fires at the first point at or above the level (else at or below)
    ticket: int  # an order or a position
    reason: int  # DEAL_REASON_* for a position; 0 for an order
    ask: bool  # on the ask path (a buy: buy stop, a short's SL and TP), else the bid


class MT5Emulator:
    """One replay of ``bars``; build a fresh one for every run."""

    def __init__(self, bars: Bars):
        self._bars = bars
        self._spec: SymbolSpec = bars.symbol
        # Plain lists: reading one bar from them is much cheaper than from numpy.
        self._time, self._day = bars.time_ns.tolist(), bars.day.tolist()
        self._minute, self._weekday = bars.minute.tolist(), bars.weekday.tolist()
        self._o, self._h = bars.open.tolist(), bars.high.tolist()
        self._l, self._c = bars.low.tolist(), bars.close.tolist()
        self._falling = bars.falling.tolist()
        # The ask path's offset per bar (spec 8.1-8.2): the bar's spread in bid_ask, 0 in
        # cost (one path, the bid); the slippage of the two stop fills (8.5).
        self._spread = bars.bar_spread().tolist() if self._spec.bid_ask else [0] * len(bars)
        self._slippage = self._spec.slippage_points
        self._trigger_list: list[_Trigger] | None = None  # rebuilt after a change
        self._index = -1  # the current bar
        self._bar_complete = False
        self._price = 0  # the current point of the current bar's path
        self._next_ticket = 1
        self._orders: dict[int, TradeOrder] = {}
        self._positions: dict[int, TradePosition] = {}
        # per open position: the lowest and highest price of its exit side's path so far
        self._extremes: dict[int, tuple[int, int]] = {}
        self._deals: list[TradeDeal] = []
        self._history_orders: list[TradeOrder] = []
        self._wake_minute: int | None = None
        self._listener: Listener | None = None

    # ---- market information -------------------------------------------------
    def symbol_info(self) -> SymbolInfo:
        s = self._spec
        return SymbolInfo(
            s.name, s.point, s.digits, s.volume_min, s.volume_step, s.value_per_point * s.point
        )

    def price_current(self) -> int:
        """The bid at the current point of the path (points)."""
        return self._price

    def ask_current(self) -> int:
        """The ask at the current point of the path (points): the bid + the bar's
        spread in ``bid_ask``, the bid in ``cost``."""
        return self._price + self._spread[self._index]

    def copy_rates_from_pos(self, start_pos: int, count: int) -> np.ndarray:
        """``count`` bars back from ``start_pos`` (0 = the current bar), oldest first.

        The current bar shows only its open until its walk is over: no lookahead.
        """
        hi = self._index - start_pos + 1
        return self._rates(max(0, hi - count), max(0, hi))

    def copy_rates_range(self, time_from: int, time_to: int) -> np.ndarray:
        """Bars seen so far that open in ``[time_from, time_to]`` (UTC ns)."""
        t = self._bars.time_ns
        lo = int(np.searchsorted(t, time_from, side="left"))
        hi = min(int(np.searchsorted(t, time_to, side="right")), self._index + 1)
        return self._rates(lo, max(lo, hi))

    def _rates(self, lo: int, hi: int) -> np.ndarray:
        b = self._bars
        out = np.empty(hi - lo, dtype=RATE_DTYPE)
        for name, col in (
            ("time", b.time_ns),
            ("open", b.open),
            ("high", b.high),
            ("low", b.low),
            ("close", b.close),
            ("day", b.day),
            ("minute", b.minute),
            ("weekday", b.weekday),
        ):
            out[name] = col[lo:hi]
        if hi == self._index + 1 and hi > lo and not self._bar_complete:
            last = out[-1]
            last["high"] = last["low"] = last["close"] = last["open"]
        return out

    # ---- trading state ------------------------------------------------------
    def positions_get(self) -> tuple[TradePosition, ...]:
        return tuple(self._positions.values())

    def orders_get(self) -> tuple[TradeOrder, ...]:
        return tuple(self._orders.values())

    def history_deals_get(self) -> tuple[TradeDeal, ...]:
        return tuple(self._deals)

    def history_orders_get(self) -> tuple[TradeOrder, ...]:
        return tuple(self._history_orders)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult:
        """Place, remove or modify, or close at the current price, as MT5 does."""
        action = request.get("action")
        if action == TRADE_ACTION_PENDING:
            return self._place(request)
        if action == TRADE_ACTION_REMOVE:
            return self._remove(request)
        if action == TRADE_ACTION_SLTP:
            return self._modify(request)
        if action == TRADE_ACTION_DEAL:
            return self._close(request)
        return OrderSendResult(TRADE_RETCODE_INVALID, comment=f"unsupported action {action!r}")

    def _place(self, req: dict[str, Any]) -> OrderSendResult:
        kind, price = req.get("type"), int(req.get("price", 0))
        sl, tp, volume = int(req.get("sl", 0)), int(req.get("tp", 0)), float(req.get("volume", 0.0))
        if kind not in (ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP):
            return OrderSendResult(TRADE_RETCODE_INVALID, comment="only stop orders are supported")
        if price <= 0:
            return OrderSendResult(TRADE_RETCODE_INVALID_PRICE)
        if volume < 0:
            return OrderSendResult(TRADE_RETCODE_INVALID_VOLUME)
        if not _stops_valid(kind == ORDER_TYPE_BUY_STOP, price, sl, tp):
            return OrderSendResult(TRADE_RETCODE_INVALID_STOPS)
        ticket = self._ticket()
        self._orders[ticket] = TradeOrder(ticket, self._now(), kind, volume, price, sl, tp)
        self._trigger_list = None
        return OrderSendResult(TRADE_RETCODE_DONE, order=ticket, volume=volume, price=price)

    def _remove(self, req: dict[str, Any]) -> OrderSendResult:
        order = self._orders.pop(req.get("order", 0), None)
        if order is None:
            return OrderSendResult(TRADE_RETCODE_INVALID_ORDER)
        self._trigger_list = None
        self._history_orders.append(replace(order, state=ORDER_STATE_CANCELED))
        return OrderSendResult(TRADE_RETCODE_DONE, order=order.ticket)

    def _modify(self, req: dict[str, Any]) -> OrderSendResult:
        pos = self._positions.get(req.get("position", 0))
        if pos is None:
            return OrderSendResult(TRADE_RETCODE_POSITION_CLOSED)
        sl, tp = int(req.get("sl", 0)), int(req.get("tp", 0))
        if not _stops_valid(pos.type == POSITION_TYPE_BUY, _trigger_price(pos), sl, tp):
            return OrderSendResult(TRADE_RETCODE_INVALID_STOPS)
        self._positions[pos.ticket] = replace(pos, sl=sl, tp=tp)
        self._trigger_list = None
        return OrderSendResult(TRADE_RETCODE_DONE)

    def _close(self, req: dict[str, Any]) -> OrderSendResult:
        pos = self._positions.get(req.get("position", 0))
        if pos is None:
            return OrderSendResult(TRADE_RETCODE_POSITION_CLOSED)
        closing = ORDER_TYPE_SELL if pos.type == POSITION_TYPE_BUY else ORDER_TYPE_BUY
        if req.get("type") != closing or float(req.get("volume", 0.0)) != pos.volume:
            return OrderSendResult(
                TRADE_RETCODE_INVALID, comment="a close needs the opposite type and the full volume"
            )
        # a long sells at the bid, a short buys at the ask
        price = self._price if pos.type == POSITION_TYPE_BUY else self.ask_current()
        deal = self._exit(pos, price, DEAL_REASON_EXPERT)
        return OrderSendResult(
            TRADE_RETCODE_DONE, deal=deal.ticket, volume=deal.volume, price=deal.price
        )

    # ---- replay -------------------------------------------------------------
    def sleep_until(self, minute: int | None = None) -> None:
        """No bar events until this day's first bar at or after local ``minute``
        (``None``: until the next trading day). Only while flat with no orders."""
        self._wake_minute = 24 * 60 if minute is None else minute

    def run(self, listener: Listener) -> None:
        """Replay every bar once, telling ``listener`` what happens."""
        self._listener = listener
        day = self._bars.day
        starts = np.flatnonzero(np.diff(day)) + 1
        bounds = zip(np.r_[0, starts], np.r_[starts, len(day)]) if len(day) else ()
        for lo, hi in bounds:
            self._run_day(listener, int(lo), int(hi))

    def _run_day(self, listener: Listener, lo: int, hi: int) -> None:
        self._wake_minute = None
        self._open(lo)
        listener.on_day_start(self._bar(lo))
        i = lo
        while i < hi:
            if self._wake_minute is not None:
                if self._orders or self._positions:
                    raise RuntimeError("sleep_until needs no open position and no pending order")
                i = self._wake_index(i, hi)
                if i == hi:
                    break
            self._open(i)
            listener.on_bar_open(self._bar(i))
            self._walk(i)
            self._bar_complete, self._price = True, self._c[i]
            i += 1
        last = hi - 1
        self._index, self._bar_complete, self._price = last, True, self._c[last]
        listener.on_day_end(self._bar(last))

    def _running(self) -> Listener:
        """The listener of the replay under way: trading happens only inside :meth:`run`."""
        if self._listener is None:
            raise RuntimeError("the emulator trades only inside run(listener)")
        return self._listener

    def _wake_index(self, i: int, hi: int) -> int:
        target, self._wake_minute = self._wake_minute, None
        later = np.flatnonzero(self._bars.minute[i:hi] >= target)
        return i + int(later[0]) if len(later) else hi

    def _open(self, i: int) -> None:
        self._index, self._bar_complete, self._price = i, False, self._o[i]

    def _bar(self, i: int) -> Bar:
        return Bar(i, self._time[i], self._day[i], self._minute[i], self._weekday[i], self._o[i])

    def _walk(self, i: int) -> None:
        """Move bar ``i`` along its (bid) path, firing triggers in path order."""
        if not self._orders and not self._positions:
            return
        op, hi, lo, cl = self._o[i], self._h[i], self._l[i], self._c[i]
        path = (op, hi, lo, cl) if self._falling[i] else (op, lo, hi, cl)
        segment, self._price, at_open = 0, op, True
        while True:
            hit = _first_hit(
                self._triggers(), path, segment, self._price, lo, hi, self._spread[i], at_open
            )
            # the open positions follow the path up to the hit (or the bar's close)
            to_segment, to_point = (2, cl) if hit is None else (hit[1], hit[2])
            self._follow(_path_points(path, segment, self._price, to_segment, to_point))
            if hit is None:
                return
            trigger, segment, self._price, fill = hit
            at_open = False
            self._fire(trigger, fill)

    def _follow(self, points: list[int]) -> None:
        """The open positions' exit sides pass the bid ``points`` of the current bar (a
        short's ask: each point + the bar's spread)."""
        if not self._positions:
            return
        low, high = min(points), max(points)
        spread = self._spread[self._index]
        for ticket, pos in self._positions.items():
            offset = 0 if pos.type == POSITION_TYPE_BUY else spread
            seen_low, seen_high = self._extremes[ticket]
            self._extremes[ticket] = (
                min(seen_low, low + offset),
                max(seen_high, high + offset),
            )

    def _triggers(self) -> list[_Trigger]:
        """Every level that can fire: pending orders, then the positions' SL and TP."""
        if self._trigger_list is None:
            self._trigger_list = self._build_triggers()
        return self._trigger_list

    def _build_triggers(self) -> list[_Trigger]:
        """Buy stops first (at equal points the buy stop fills, spec 8.4), then sell stops,
        then each position's SL and TP; buys on the ask path, sells on the bid path."""
        orders = sorted(self._orders.values(), key=lambda o: o.type != ORDER_TYPE_BUY_STOP)
        out = [
            _Trigger(o.price_open, buy, o.ticket, 0, buy)
            for o in orders
            for buy in (o.type == ORDER_TYPE_BUY_STOP,)
        ]
        for p in self._positions.values():
            long = p.type == POSITION_TYPE_BUY
            out.append(_Trigger(p.sl, not long, p.ticket, DEAL_REASON_SL, not long))
            if p.tp:
                out.append(_Trigger(p.tp, long, p.ticket, DEAL_REASON_TP, not long))
        return out

    def _fire(self, trigger: _Trigger, price: int) -> None:
        if trigger.reason:
            self._exit(self._positions[trigger.ticket], price, trigger.reason)
        else:
            self._trigger_list = None
            self._activate(self._orders.pop(trigger.ticket), price)

    def _activate(self, order: TradeOrder, price: int) -> None:
        """Fill ``order``, triggered at ``price``: the position opens at ``price``
        worsened by the slippage (a buy higher, a sell lower)."""
        if order.volume_initial < self._spec.volume_min - 1e-12:
            rejected = replace(order, state=ORDER_STATE_REJECTED)
            self._history_orders.append(rejected)
            self._running().on_order_rejected(rejected)
            return
        self._history_orders.append(replace(order, state=ORDER_STATE_FILLED))
        long = order.type == ORDER_TYPE_BUY_STOP
        slip = self._slippage
        fill = price + slip if long else price - slip
        pos = TradePosition(
            order.ticket,
            self._now(),
            self._index,
            POSITION_TYPE_BUY if long else POSITION_TYPE_SELL,
            order.volume_initial,
            fill,
            order.sl,
            order.tp,
            slip,
        )
        self._positions[pos.ticket] = pos
        # its exit side's path starts at the point of entry
        here = self._price if long else self.ask_current()
        self._extremes[pos.ticket] = (here, here)
        self._trigger_list = None
        deal = self._deal(
            order.ticket,
            DEAL_TYPE_BUY if long else DEAL_TYPE_SELL,
            DEAL_ENTRY_IN,
            pos,
            fill,
            DEAL_REASON_EXPERT,
            slip,
        )
        self._running().on_deal(deal)

    def _exit(self, pos: TradePosition, price: int, reason: int) -> TradeDeal:
        """Close ``pos`` at ``price``; a stop-loss (a stop order) slips: a long's sells
        lower, a short's buys higher. TP (a limit) and closes do not."""
        long = pos.type == POSITION_TYPE_BUY
        if reason == DEAL_REASON_EXPERT:  # a close: at the current point of the path
            self._follow([self._price])
        low, high = self._extremes.pop(pos.ticket)
        del self._positions[pos.ticket]
        self._trigger_list = None
        slip = self._slippage if reason == DEAL_REASON_SL else 0
        kind = DEAL_TYPE_SELL if long else DEAL_TYPE_BUY
        # excursions from the open price (after slippage): a long's down and up, a short's
        # up and down, never below 0
        adverse, favourable = (pos.price_open - low, high - pos.price_open)
        if not long:
            adverse, favourable = high - pos.price_open, pos.price_open - low
        deal = self._deal(
            0,
            kind,
            DEAL_ENTRY_OUT,
            pos,
            price - slip if long else price + slip,
            reason,
            slip,
            max(0, adverse),
            max(0, favourable),
        )
        self._running().on_deal(deal)
        return deal

    def _deal(
        self,
        order: int,
        kind: int,
        entry: int,
        pos: TradePosition,
        price: int,
        reason: int,
        slippage: int = 0,
        mae: int = 0,
        mfe: int = 0,
    ) -> TradeDeal:
        deal = TradeDeal(
            self._ticket(),
            order,
            self._now(),
            self._index,
            kind,
            entry,
            pos.ticket,
            pos.volume,
            price,
            reason,
            pos.sl,
            pos.tp,
            slippage,
            mae,
            mfe,
        )
        self._deals.append(deal)
        return deal

    def _ticket(self) -> int:
        self._next_ticket += 1
        return self._next_ticket - 1

    def _now(self) -> int:
        return self._time[self._index] if self._index >= 0 else 0


def _trigger_price(pos: TradePosition) -> int:
    """The price ``pos``'s order triggered at: its fill before slippage."""
    return (
        pos.price_open - pos.slippage
        if pos.type == POSITION_TYPE_BUY
        else pos.price_open + pos.slippage
    )


def _stops_valid(long: bool, price: int, sl: int, tp: int) -> bool:
    """SL on the losing side of ``price`` (or 0), TP on the winning side (or 0)."""
    if long:
        return (sl == 0 or sl < price) and (tp == 0 or tp > price)
    return (sl == 0 or sl > price) and (tp == 0 or tp < price)


def _path_points(
    path: tuple[int, int, int, int], segment: int, point: int, to_segment: int, to_point: int
) -> list[int]:
    """The points of a bar's path from ``point`` on ``segment`` to ``to_point`` on
    ``to_segment`` (segment ``k`` runs from ``path[k]`` to ``path[k + 1]``): the two ends and
    the corners between. A straight segment's extremes are its ends, so these are the
    extremes of what the path passes."""
    return [point, *path[segment + 1 : to_segment + 1], to_point]


def _first_hit(
    triggers: list[_Trigger],
    path: tuple[int, int, int, int],
    segment: int,
    point: int,
    low: int,
    high: int,
    spread: int,
    at_open: bool,
) -> tuple[_Trigger, int, int, int] | None:
    """The trigger that the bar's path reaches first from ``point`` (a bid) on segment
    ``segment``; ``path`` is the bid path, ``low``/``high`` the bar's bid extremes.

    A trigger on the ask path at level ``X`` is the bid path reaching ``X - spread``.
    Returns ``(trigger, segment, point, fill)``: the bid point where it fires and its fill
    before slippage. A level already passed at ``point`` fires there: at the path's open
    (``point + offset``) when ``at_open`` (the bar's first point, nothing fired yet on
    it), else at the level (spec 8.4: only a bar's open fills at the open); a level
    reached later fires at the level. Triggers are scanned in order, so a tie goes to the
    first one listed (the buy stop).
    """
    live = []
    for t in triggers:
        level = t.level - spread if t.ask else t.level  # the level on the bid path
        if level <= high if t.upward else level >= low:
            live.append((t, level))
    if not live:
        return None
    for t, level in live:
        if (point >= level) if t.upward else (point <= level):
            fill = point + (spread if t.ask else 0) if at_open else t.level
            return t, segment, point, fill
    while segment < 3:
        end = path[segment + 1]
        best, best_level, best_distance = None, 0, 0
        for t, level in live:
            if t.upward and point < level <= end:
                distance = level - point
            elif not t.upward and end <= level < point:
                distance = point - level
            else:
                continue
            if best is None or distance < best_distance:
                best, best_level, best_distance = t, level, distance
        if best is not None:
            return best, segment, best_level, best.level
        segment, point = segment + 1, end
    return None
