"""Layer 1, market data in: loading and validating M1 bars (Parquet, CSV, MT5 exports)
into integer-point ``Bars``, the built-in sample data, and the news calendar. May import
``backtest.core`` only.
"""
