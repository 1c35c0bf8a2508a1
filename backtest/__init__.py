"""ibsweep's backtest engine: data, the IB strategy's semantics, the runner."""

__version__ = "0.1.0"
