"""Layer 3, the MT5-style event-driven emulator: pending stop orders, positions and
deals on bars walked along the "1 minute OHLC" path. The readable reference that the
strategies in ``strategies/`` run on. May import ``backtest.data`` and ``backtest.core``.
"""
