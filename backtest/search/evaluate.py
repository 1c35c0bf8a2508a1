"""A batch of combinations through the fast kernel, on the local pool.

The parent builds the sweep's per-data tables and compiles the kernels once, then forks
its workers (the bars and tables shared copy-on-write, as the runner's pool does). A
batch is ordered by entry rule (the kernel shares an entry rule's searches among its
combinations, :mod:`backtest.engines.sweep`) and cut into one contiguous slice per
worker; each worker scores its slice with :func:`backtest.engines.run.score_batch` and
returns the metric columns and the compact trades; the parent puts them back in the
batch's order. Workers ignore SIGINT: Ctrl-C is the parent's to handle.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import time
from typing import Any

import numpy as np

from backtest.core.settings import RunSettings
from backtest.data.bars import Bars
from backtest.strategy.daily import CompactTrades, concat_compact, select_compact
from backtest.strategy.params import PARAM_NAMES

_STATE: dict[str, Any] = {}  # the bars and settings, set before the workers fork


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _score(
    combos: list[dict[str, Any]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """A slice's metric columns, and its compact trades when they are kept (else None:
    they are most of what a worker would send back)."""
    from backtest.engines.run import score_batch

    keep = _STATE["compact"]
    scored = score_batch(_STATE["bars"], combos, _STATE["settings"], "fast", excursions=keep)
    return scored.metrics, scored.compact.arrays() if keep else None


def rule_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """The entry rule of a combination (everything but its stop and target), the order
    that lets the kernel share searches."""
    return tuple(
        tuple(params[n]) if n == "weekdays" else params[n]
        for n in PARAM_NAMES
        if n not in ("sl_mult", "tp_mult")
    )


class Evaluator:
    """The local pool of ``workers`` processes over one data set."""

    def __init__(
        self,
        bars: Bars,
        settings: RunSettings,
        workers: int,
        compact: bool = True,
        tables: list[dict[str, Any]] | None = None,
    ) -> None:
        from backtest.engines.sweep import prepare_sweep, warm_up

        _STATE.update(bars=bars, settings=settings, compact=compact)
        self.bars, self.workers = bars, max(1, workers)
        self.compile_s = warm_up()
        # the per-data tables, and those of ``tables`` (one combination per distinct time
        # window, SearchSpace.table_points), built and stacked once before forking, as the
        # runner does: else every worker builds them as it meets them
        prepare_sweep(bars, tables or [], settings)
        self.pool: Any = None
        if self.workers > 1:
            gc.collect()
            gc.freeze()  # the workers' collector leaves the inherited objects (and pages) alone
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(self.workers, initializer=_ignore_sigint)
            gc.unfreeze()
        self.seconds = 0.0  # spent evaluating (wall), for the rate
        self.evaluated = 0

    def evaluate(
        self, combos: list[dict[str, Any]]
    ) -> tuple[dict[str, np.ndarray], CompactTrades | None]:
        """Every metric column and (when kept) the compact trades of ``combos``, in their
        order."""
        started = time.perf_counter()
        order = sorted(range(len(combos)), key=lambda i: rule_key(combos[i]))
        ordered = [combos[i] for i in order]
        cuts = np.linspace(0, len(ordered), min(self.workers, len(ordered)) + 1).astype(int)
        slices = [ordered[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        if self.pool is None or len(slices) == 1:
            parts = [_score(s) for s in slices]
        else:
            parts = self.pool.map(_score, slices)
        metrics = {k: np.concatenate([m[k] for m, _ in parts]) for k in parts[0][0]}
        back = np.argsort(order)  # sorted position of each combination
        metrics = {k: v[back] for k, v in metrics.items()}
        compact = None
        if _STATE["compact"]:
            whole = concat_compact([CompactTrades(**c) for _, c in parts if c is not None])
            compact = select_compact(whole, back.tolist())
        self.seconds += time.perf_counter() - started
        self.evaluated += len(combos)
        return metrics, compact

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
