"""The IB breakout strategy written for backtesting.py (a benchmark reference only).

As faithful as backtesting.py allows; it is here to time a general-purpose
framework on the same work, not to check results. Known differences from
the spec (ib-strategy.md): backtesting.py has no intrabar path (it orders
SL before TP when both are in one bar, and it evaluates a bar's orders only
from the next bar on, so an entry and its exit cannot share a bar); SL and TP
are set from the level, not from a fill that gapped through it; sizes are whole
units instead of lots from risk; the day's schedule (the next bar's minute) is
read from columns prepared up front, like any indicator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtest.data.bars import Bars
from backtest.strategy.params import compile_params, distance_points

try:  # optional: bench/requirements.txt
    from backtesting import Backtest, Strategy
except ImportError:  # pragma: no cover - the bench skips this row
    Backtest = Strategy = None


def bars_frame(bars: Bars) -> pd.DataFrame:
    """``bars`` as backtesting.py's OHLC frame, with the local day and minute as columns."""
    point = bars.symbol.point
    return pd.DataFrame(
        {
            "Open": bars.open * point,
            "High": bars.high * point,
            "Low": bars.low * point,
            "Close": bars.close * point,
            "Day": bars.day.astype(np.int64),
            "Minute": bars.minute.astype(np.int64),
            "Weekday": bars.weekday.astype(np.int64),
        },
        index=pd.DatetimeIndex(bars.time_ns.astype("datetime64[ns]")),
    )


if Strategy is not None:

    class IBBreakout(Strategy):
        """Buy stop above / sell stop below the initial balance, SL/TP from its size."""

        combo: dict[str, Any] = {}
        point = 0.01

        def init(self) -> None:
            self.cp = self.combo
            self.day = np.asarray(self.data.df["Day"])
            self.minute = np.asarray(self.data.df["Minute"])
            self.weekday = np.asarray(self.data.df["Weekday"])
            self.ib_high = self.ib_low = None
            self.current_day = None
            self.day_base = 0

        def _next_minute(self, i: int) -> int:
            """Local minute of the next bar of the same day (-1: the day ends)."""
            if i + 1 < len(self.day) and self.day[i + 1] == self.day[i]:
                return int(self.minute[i + 1])
            return -1

        def _cancel_entries(self) -> None:
            for order in self.orders:
                if not order.is_contingent:
                    order.cancel()

        def next(self) -> None:
            cp = self.cp
            i = len(self.data) - 1
            opened = len(self.closed_trades) + len(self.trades)
            if self.day[i] != self.current_day:
                self.current_day, self.day_base = self.day[i], opened
                self.ib_high = self.ib_low = None
            minute = int(self.minute[i])
            if cp.ib_start <= minute < cp.ib_end:
                high, low = self.data.High[-1], self.data.Low[-1]
                self.ib_high = high if self.ib_high is None else max(self.ib_high, high)
                self.ib_low = low if self.ib_low is None else min(self.ib_low, low)
            nxt = self._next_minute(i)
            if self.position:
                self._cancel_entries()
                if nxt < 0 or nxt >= cp.close_time:
                    self.position.close()
                return
            done = opened - self.day_base >= cp.max_trades_per_day
            if self.orders and (done or nxt < 0 or nxt >= cp.trade_end):
                self._cancel_entries()
            if (
                self.orders
                or self.ib_high is None
                or done
                or not cp.ib_end <= nxt < cp.trade_end
                or not cp.weekday_mask[self.weekday[i]]
            ):
                return
            ib = int(round((self.ib_high - self.ib_low) / self.point))
            stop = int(distance_points(cp.sl_mult, ib))
            if ib <= 0 or stop < 1:
                return
            target = max(1, int(distance_points(cp.tp_mult, ib))) * self.point
            buffer = int(distance_points(cp.entry_buffer, ib)) * self.point
            stop *= self.point
            long_level, short_level = self.ib_high + buffer, self.ib_low - buffer
            if cp.allow_long:
                self.buy(
                    size=1,
                    stop=long_level,
                    sl=long_level - stop,
                    tp=long_level + target if cp.tp_mult > 0 else None,
                )
            if cp.allow_short:
                self.sell(
                    size=1,
                    stop=short_level,
                    sl=short_level + stop,
                    tp=short_level - target if cp.tp_mult > 0 else None,
                )


def run_backtesting_py(bars: Bars, frame: pd.DataFrame, params: dict[str, Any]) -> int:
    """Run one combination with backtesting.py; the number of trades."""
    if Backtest is None:
        raise ImportError("backtesting is not installed (pip install -r bench/requirements.txt)")
    cp = compile_params(params, bars.symbol)
    test = Backtest(frame, IBBreakout, cash=1e9, commission=0.0, finalize_trades=True)
    stats = test.run(combo=cp, point=bars.symbol.point)
    return int(stats["# Trades"])
