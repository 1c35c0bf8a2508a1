"""High-impact news events and the entry block around them (spec section 2)."""
from __future__ import annotations

import numpy as np


def news_blocked(time_ns: np.ndarray, events_ns: np.ndarray, before_ns: int,
                 after_ns: int) -> np.ndarray:
    """For each bar open time ``t``: is there an event with
    ``event - before <= t <= event + after``? ``events_ns`` must be sorted."""
    t = np.asarray(time_ns, dtype=np.int64)
    ev = np.asarray(events_ns, dtype=np.int64)
    if len(ev) == 0:
        return np.zeros(len(t), dtype=bool)
    # the first event with event >= t - after; blocked if it is <= t + before
    idx = np.searchsorted(ev, t - after_ns, side="left")
    nxt = ev[np.minimum(idx, len(ev) - 1)]
    return (idx < len(ev)) & (nxt <= t + before_ns)
