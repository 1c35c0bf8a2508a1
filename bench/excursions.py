"""The kernel's CPU time with and without the trades' excursions (docs/BENCHMARK.md,
"Excursions"), in the checkout it is run from, so that two checkouts compare.

The standard 1,000-combination grid of ``bench.bench`` (GER40 sample 2023-01-01..2025-10-31,
the configured execution model), its shared tables built first, then ``sweep_parts`` over
the whole grid ``repeats`` times; printed (one JSON line): the fewest CPU seconds
(``time.process_time``, user + sys) spent in the kernel's calls of one sweep
(``kernel_nb.sweep_batch_nb``, the excursions included), the fewest of the whole sweep,
the trades and the sum of their ``mae`` (two checkouts that record the same agree). A
checkout from before the excursions switch records them always or never, whatever
``on``/``off`` says (``switch`` in the output: false).

    cd CHECKOUT && PYTHONPATH=. python -P PATH/TO/bench/excursions.py on|off [REPEATS]

(``-P``: the checkout's own ``bench`` package, not this file's folder.)
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from backtest.core.settings import RunSettings
from backtest.engines import kernel_nb as nb
from backtest.engines import sweep as sw
from bench.bench import STANDARD, load_bars, standard_grid


def main(argv: list[str]) -> int:
    mode, repeats = argv[0], int(argv[1]) if len(argv) > 1 else 7
    bars, settings = load_bars(*STANDARD), RunSettings()
    combos = standard_grid()
    sw.warm_up()
    sw.prepare_sweep(bars, combos, settings)
    spent = [0.0]

    def timed(kernel: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            start = time.process_time()
            out = kernel(*args)
            spent[0] += time.process_time() - start
            return out

        return call

    nb.sweep_batch_nb = timed(nb.sweep_batch_nb)
    switch = "excursions" in inspect.signature(sw.sweep_parts).parameters
    options = {"excursions": mode == "on"} if switch else {}
    gc.collect()
    gc.freeze()
    kernel = whole = float("inf")
    trades = mae = 0
    for _ in range(repeats):
        spent[0] = 0.0
        start = time.process_time()
        parts = sw.sweep_parts(bars, combos, settings, **options)
        whole = min(whole, time.process_time() - start)
        kernel = min(kernel, spent[0])
        trades = sum(len(p.trades) for p in parts)
        if "mae" in parts[0].trades.dtype.names:
            mae = sum(int(p.trades["mae"].sum(dtype="int64")) for p in parts)
    row = {
        "checkout": os.getcwd(),
        "excursions": mode,
        "switch": switch,
        "kernel_ms": round(kernel * 1e3, 2),
        "sweep_ms": round(whole * 1e3, 2),
        "trades": trades,
        "mae_sum": mae,
        "load": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
