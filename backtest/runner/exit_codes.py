"""The runner's exit codes (README "Exit codes"), one place for the runner and the hosts.

``fab status`` reads them from ``runner.exit`` on a host (backtest.runner.host_tools),
so that a crash is never reported as finished.
"""

from __future__ import annotations

ALL_OK = 0  # every group ran
GROUPS_FAILED = 1  # the run finished, some groups failed (failed_groups_{SYMBOL}.json)
BAD_INPUT = 2  # refused before anything ran: one line on stderr names the file and field
CRASHED = 3  # the run itself failed (an unexpected error, a full disk): traceback in run.log
INTERRUPTED = (130, 143)  # SIGINT / SIGTERM: finished groups saved, the rest "interrupted"
