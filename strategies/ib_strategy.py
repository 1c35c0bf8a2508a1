"""The Initial Balance breakout (spec ib-strategy.md, sections 2-3), as a strategy.

Each trading day: wait for the first bar at or after ``ib_end`` (the walk
start), measure the IB from the day's bars that opened at or after
``ib_start``, then keep a buy stop at ``L`` and / or a sell stop at ``S`` on
every bar that may open an entry. A fill re-anchors SL/TP on the fill price
(before slippage) and cancels the other side; the bar that opens at or after
``close_time`` closes what is open, and a day without such a bar closes at its last
close. Which path (bid or ask) triggers and fills what, and slippage, are the
emulator's business (spec section 8): the strategy's levels are all bid prices.
"""

from __future__ import annotations

import numpy as np

from backtest.core.config import SymbolSpec
from backtest.data.news import news_blocked
from backtest.emulator.mt5_emulator import (
    POSITION_TYPE_BUY,
    Bar,
    MT5Emulator,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from backtest.strategy.params import CompiledParams, distance_points
from backtest.strategy.risk_manager import lot_size
from strategies.base_strategy import Strategy


class IBStrategy(Strategy):
    """One combination of the IB breakout; ``skipped`` counts volume-skipped days."""

    def __init__(
        self,
        broker: MT5Emulator,
        params: CompiledParams,
        symbol: SymbolSpec,
        risk: float,
        news_ns: np.ndarray,
    ):
        super().__init__(broker)
        self.p = params
        self.symbol = symbol
        self.risk = risk
        self.news_ns = np.asarray(news_ns, dtype=np.int64)
        self.skipped = 0
        self._reset_day(0)

    def _reset_day(self, day_open_time: int) -> None:
        self._day_open_time = day_open_time
        self._ready = False  # levels computed (the walk has started)
        self._entries = 0
        self._done = False  # no more entries today
        self.stop_points = 0  # D
        self.target_points = 0  # T, 0 = no take-profit
        self.long_level = self.short_level = 0
        self.lots = 0.0

    # ---- hooks ----------------------------------------------------------------
    def on_day_start(self, bar: Bar) -> None:
        """Weekday filter; otherwise sleep until the walk start (first bar at/after ib_end)."""
        self._reset_day(bar.time)
        if self.p.weekday_mask[bar.weekday]:
            self.sleep_until(self.p.ib_end)
        else:
            self.sleep_until()

    def on_bar_open(self, bar: Bar) -> None:
        """Walk start: measure the IB. Close bar: close, done. Flat: orders only on
        bars that may open an entry (spec 3.3)."""
        if not self._ready:
            self._ready = True
            if not self._measure_ib(bar):
                self._stop_for_today()
                return
        if bar.minute >= self.p.close_time:
            if self.position is not None:
                self.close()
            self._stop_for_today()
            return
        if self.position is not None:
            return
        if self._may_enter(bar):
            self._keep_orders()
        else:
            self.cancel_all()
            if self._done:
                self.sleep_until()

    def on_fill(self, position: TradePosition) -> None:
        """One order filled: drop the other side, anchor SL/TP on the fill before
        slippage (spec 3.3, 8.5)."""
        self._entries += 1
        self.cancel_all()
        long = position.type == POSITION_TYPE_BUY
        slip = position.slippage
        sl, tp = self._stops(
            long, position.price_open - slip if long else position.price_open + slip
        )
        if (sl, tp) != (position.sl, position.tp):
            self.set_stops(sl, tp)
        if self._entries >= self.p.max_trades_per_day:
            self._done = True

    def on_exit(self, deal: TradeDeal) -> None:
        """Nothing to do: orders come back on the next bar that may open an entry."""

    def on_reject(self, order: TradeOrder) -> None:
        """A level was reached with lots below volume_min: count the day, stop it."""
        self.skipped += 1
        self._stop_for_today()

    def on_day_end(self, bar: Bar) -> None:
        """No bar at/after close_time today: close at the last bar's close."""
        if self.position is not None:
            self.close()
        self.cancel_all()

    # ---- the day's levels ----------------------------------------------------
    def _measure_ib(self, bar: Bar) -> bool:
        """IB, D, T, levels and lots at the walk start; False: no trade today."""
        p = self.p
        today = self.rates_between(self._day_open_time, bar.time - 1)
        ib_bars = today[today["minute"] >= p.ib_start]
        if len(ib_bars) == 0:
            return False
        ib_high, ib_low = int(ib_bars["high"].max()), int(ib_bars["low"].min())
        ib = ib_high - ib_low
        if ib <= 0 or ib < p.min_ib or (p.max_ib > 0 and ib > p.max_ib):
            return False
        self.stop_points = int(distance_points(p.sl_mult, ib))
        if self.stop_points < 1:
            return False
        self.target_points = max(1, int(distance_points(p.tp_mult, ib))) if p.tp_mult > 0 else 0
        buffer = int(distance_points(p.entry_buffer, ib))
        self.long_level, self.short_level = ib_high + buffer, ib_low - buffer
        self.lots = float(lot_size(self.stop_points, self.symbol, self.risk))
        return True

    def _stops(self, long: bool, fill: int) -> tuple[int, int]:
        """SL and TP (0 = none) of a position filled at ``fill``."""
        d, t = self.stop_points, self.target_points
        if long:
            return fill - d, (fill + t if t else 0)
        return fill + d, (fill - t if t else 0)

    # ---- entries ---------------------------------------------------------------
    def _may_enter(self, bar: Bar) -> bool:
        p = self.p
        if self._done or not p.ib_end <= bar.minute < p.trade_end:
            return False
        if (
            p.news_filter
            and news_blocked(np.array([bar.time]), self.news_ns, p.news_before_ns, p.news_after_ns)[
                0
            ]
        ):
            return False
        return True

    def _keep_orders(self) -> None:
        """The buy stop at L and the sell stop at S that ``direction`` allows."""
        if self.orders:
            return
        if self.p.allow_long:
            self.buy_stop(self.long_level, *self._stops(True, self.long_level), self.lots)
        if self.p.allow_short and self.short_level > 0:  # a level at or below 0 is never reached
            self.sell_stop(self.short_level, *self._stops(False, self.short_level), self.lots)

    def _stop_for_today(self) -> None:
        self._done = True
        self.cancel_all()
        self.sleep_until()
