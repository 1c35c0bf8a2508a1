"""``python -m backtest.run_parallel_backtest``: the name the users' scripts call.

The runner lives in :mod:`backtest.runner.main`; this module only keeps the
public command name working.
"""

from __future__ import annotations

from backtest.runner.main import main, run_and_exit

__all__ = ["main"]

if __name__ == "__main__":
    run_and_exit()
