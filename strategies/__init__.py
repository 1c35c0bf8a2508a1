"""Strategies written against the MT5-style emulator (``backtest.emulator``): the
interface (``base_strategy``) and the IB breakout (``ib_strategy``). Sits between the
emulator and the engines: may import ``backtest.emulator``, ``backtest.strategy``,
``backtest.data`` and ``backtest.core``.
"""
