"""Settings of a run that every combination shares (risk, account, prop limits, news).

A plain frozen value type: the engines, the scoring and the runner all read it, so it
lives here, below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RunSettings:
    """Settings of a run, shared by all its combinations (plain, picklable)."""

    risk: float = 1000.0
    account_size: float = 100000.0
    daily_loss_limit_pct: float = 5.0
    max_loss_limit_pct: float = 10.0
    # Sorted UTC ns of the high-impact events of the symbol's currencies.
    news_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
