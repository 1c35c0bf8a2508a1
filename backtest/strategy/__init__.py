"""Layer 2, what one combination means and how it is scored: its parameters
(resolution, validation, compilation to points), its trade records, lot size and money
(``risk_manager``) and its metrics (spec section 6). Pure functions on plain arrays and
dicts. May import ``backtest.data`` and ``backtest.core``.
"""
