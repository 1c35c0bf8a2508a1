"""ibsweep's backtest package. The folder listing is the architecture, bottom to top:

``core`` (config, settings) → ``data`` (bars in) → ``strategy`` (parameters, trades,
metrics) → ``emulator`` → (``strategies/``) → ``engines`` → ``runner`` → ``analysis``.
A layer imports only the layers below it (``tests/core/test_layers.py`` holds it so).
"""

__version__ = "0.1.0"
