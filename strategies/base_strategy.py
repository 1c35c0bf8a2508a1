"""What a strategy implements, and the few orders it may give.

In the style of backtesting.py: a strategy overrides hooks and acts only
through :meth:`Strategy.buy_stop`, :meth:`Strategy.sell_stop`,
:meth:`Strategy.cancel`, :meth:`Strategy.close` and :meth:`Strategy.set_stops`,
which turn into MT5-shaped requests to a private broker (an
:class:`~backtest.emulator.mt5_emulator.MT5Emulator` built fresh for every run).
A refused request is a bug in the strategy, so it raises.

Hooks, in the order the replay calls them: ``on_day_start`` (first bar of a
trading day), ``on_bar_open`` (every bar not slept over, only its open known),
``on_fill`` / ``on_exit`` / ``on_reject`` (at the point of the bar's path where
it happened), ``on_day_end`` (after the day's last bar; a close fills at its
close).
"""

from __future__ import annotations

import numpy as np

from backtest.emulator import mt5_emulator as mt5
from backtest.emulator.mt5_emulator import Bar, MT5Emulator, TradeDeal, TradeOrder, TradePosition


class OrderRefused(RuntimeError):
    """The broker refused a request that the strategy should have made valid."""


class Strategy:
    """Base class: override the hooks, act through the order methods."""

    def __init__(self, broker: MT5Emulator):
        self._broker = broker

    # ---- hooks ----------------------------------------------------------------
    def on_day_start(self, bar: Bar) -> None:
        """The first bar of a trading day is about to open."""

    def on_bar_open(self, bar: Bar) -> None:
        """A bar opens; its open is the current price."""

    def on_fill(self, position: TradePosition) -> None:
        """A pending order became ``position``; the rest of the bar is still to come."""

    def on_exit(self, deal: TradeDeal) -> None:
        """A position was closed (by SL, TP or :meth:`close`)."""

    def on_reject(self, order: TradeOrder) -> None:
        """A pending order was reached but refused (volume below the minimum)."""

    def on_day_end(self, bar: Bar) -> None:
        """The day's last bar is over; its close is the current price."""

    # ---- what the broker calls (routes to the hooks) ---------------------------
    def on_deal(self, deal: TradeDeal) -> None:
        if deal.entry == mt5.DEAL_ENTRY_IN:
            self.on_fill(
                next(p for p in self._broker.positions_get() if p.ticket == deal.position_id)
            )
        else:
            self.on_exit(deal)

    def on_order_rejected(self, order: TradeOrder) -> None:
        self.on_reject(order)

    # ---- orders ---------------------------------------------------------------
    def buy_stop(self, price: int, sl: int, tp: int, volume: float) -> int:
        """A buy stop at ``price`` (points); ``tp`` 0 = none. Returns its ticket."""
        return self._pending(mt5.ORDER_TYPE_BUY_STOP, price, sl, tp, volume)

    def sell_stop(self, price: int, sl: int, tp: int, volume: float) -> int:
        """A sell stop at ``price`` (points); ``tp`` 0 = none. Returns its ticket."""
        return self._pending(mt5.ORDER_TYPE_SELL_STOP, price, sl, tp, volume)

    def cancel(self, ticket: int) -> None:
        self._send({"action": mt5.TRADE_ACTION_REMOVE, "order": ticket})

    def cancel_all(self) -> None:
        for order in self._broker.orders_get():
            self.cancel(order.ticket)

    def close(self) -> None:
        """Close the open position at the current price (a long sells at the bid, a short
        buys at the ask)."""
        pos = self._open_position("close")
        long = pos.type == mt5.POSITION_TYPE_BUY
        self._send(
            {
                "action": mt5.TRADE_ACTION_DEAL,
                "position": pos.ticket,
                "type": mt5.ORDER_TYPE_SELL if long else mt5.ORDER_TYPE_BUY,
                "volume": pos.volume,
                "price": self._broker.price_current() if long else self._broker.ask_current(),
            }
        )

    def set_stops(self, sl: int, tp: int) -> None:
        """Move the open position's SL and TP (``tp`` 0 = none)."""
        ticket = self._open_position("set_stops").ticket
        self._send({"action": mt5.TRADE_ACTION_SLTP, "position": ticket, "sl": sl, "tp": tp})

    def sleep_until(self, minute: int | None = None) -> None:
        """Skip bars (flat, no orders) until today's first bar at or after local
        ``minute``; ``None``: until the next trading day."""
        self._broker.sleep_until(minute)

    # ---- what the strategy may read -------------------------------------------
    @property
    def position(self) -> TradePosition | None:
        positions = self._broker.positions_get()
        return positions[0] if positions else None

    @property
    def orders(self) -> tuple[TradeOrder, ...]:
        return self._broker.orders_get()

    def rates_between(self, time_from: int, time_to: int) -> np.ndarray:
        """Bars seen so far that open in ``[time_from, time_to]`` (UTC ns)."""
        return self._broker.copy_rates_range(time_from, time_to)

    def _open_position(self, action: str) -> TradePosition:
        """The open position ``action`` needs; without one the request is a strategy bug."""
        pos = self.position
        if pos is None:
            raise OrderRefused(f"{action}: there is no open position")
        return pos

    def _pending(self, kind: int, price: int, sl: int, tp: int, volume: float) -> int:
        return self._send(
            {
                "action": mt5.TRADE_ACTION_PENDING,
                "type": kind,
                "price": price,
                "sl": sl,
                "tp": tp,
                "volume": volume,
            }
        ).order

    def _send(self, request: dict) -> mt5.OrderSendResult:
        result = self._broker.order_send(request)
        if result.retcode not in (mt5.TRADE_RETCODE_DONE, mt5.TRADE_RETCODE_PLACED):
            raise OrderRefused(
                f"broker refused {request}: retcode {result.retcode} {result.comment}"
            )
        return result
