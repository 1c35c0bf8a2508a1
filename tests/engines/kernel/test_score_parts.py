"""``score_batch`` on the fast engine values a batch's parts in place (no copy of the
trades): its compact trades and per-combination trades are those of the combinations'
own trades, valued one by one, also when the batch spans several parts (BATCH)."""

from __future__ import annotations

import itertools

import numpy as np

from backtest.core.settings import RunSettings
from backtest.engines.run import score_batch
from backtest.engines.sweep import BATCH, run_sweep_days
from backtest.strategy.daily import compact_trades
from tests.engines.kernel.helpers import params
from tests.engines.kernel.test_sweep_batches import _bars


def test_compact_trades_of_several_parts_equal_the_combinations_own():
    # Arrange: more combinations than one part holds
    bars = _bars()
    combos = [
        params(sl_mult=sl, tp_mult=tp, direction=d, max_trades_per_day=m, entry_buffer=b)
        for sl, tp, d, m, b in itertools.product(
            (0.3, 0.6, 1.0, 1.4, 2.0, 0.8),
            (0.0, 0.7, 1.5),
            ("both", "long", "short"),
            (1, 3),
            (0, 0.1, 0.3, 0.5, 0.8),
        )
    ]
    settings = RunSettings(risk=0.002)  # wide stops get less than volume_min: lot skips
    assert len(combos) > BATCH
    own = run_sweep_days(bars, combos, settings)
    # Act
    scored = score_batch(bars, combos, settings)
    # Assert
    expected = compact_trades([(trades, days) for trades, _, days in own], bars)
    for name, values in expected.arrays().items():
        assert np.array_equal(getattr(scored.compact, name), values), name
    assert expected.skip_day.size > 0 and len(expected.day) > len(combos)
    assert [t.tobytes() for t in scored.trades] == [t.tobytes() for t, _, _ in own]
    assert scored.metrics["skipped"].tolist() == [s for _, s, _ in own]
