"""Sharpe over the period's trading days: local dates with a bar, a Saturday included.

File: Mon 03-04, Tue 03-05 (one +1 R trade), Sat 03-09 (one bar). The period
03-05..03-09 has two trading days: daily R = [1, 0], mean 0.5, sample std
√0.5, sharpe = 0.5 / √0.5 × √252 = √126.
"""

import math

from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import run_both


def test_sharpe_with_two_trading_days_one_without_trade():
    # Arrange: spread 0 so that the TP trade is exactly +1 R.
    bars = make_bars(
        [
            ("2024-03-04 09:00", 100, 110, 90, 105),
            IB_BAR,
            ("10:01", 107, 115, 106, 114),  # long at 110
            ("10:02", 114, 131, 113, 130),  # TP 130
            ("2024-03-09 12:00", 100, 101, 99, 100.5),
        ],
        spread=0.0,
        spread_model="cost",
    ).between("2024-03-05", "2024-03-09")

    # Act
    records, _, metrics = run_both(bars)

    # Assert
    assert [r["r"] for r in records] == [1.0]
    assert math.isclose(metrics["sharpe"], math.sqrt(126), rel_tol=1e-12)
