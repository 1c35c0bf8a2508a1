"""Layer 4, the two engines that turn bars and combinations into trades: the readable
reference (``adapter`` driving ``strategies.ib_strategy`` on ``backtest.emulator``) and the
fast numba sweep (``sweep`` over ``kernel_nb``), behind one seam (``run``). May import
``strategies``, ``backtest.emulator``, ``backtest.strategy``, ``backtest.data`` and
``backtest.core``.
"""

ENGINES = ("fast", "emulator")  # the --engine choices (a light import for the option table)
