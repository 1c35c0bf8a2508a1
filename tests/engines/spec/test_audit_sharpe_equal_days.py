"""Daily R all equal: the std is 0, so sharpe is 0 (not ~1e17 from float noise).

Three trading days, each one long at 110 closed at 112 by the 22:00 bar,
spread 0: r = 200 / 2000 = 0.1 every day. In float64 their mean is
0.10000000000000002, so a plain sum of squared deviations is ~1e-34, not 0.
"""

import pytest

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import run_both


def _day(date: str) -> list[tuple]:
    return [
        (f"{date} 09:00", 100, 110, 90, 105),
        (f"{date} 10:01", 107, 111, 106, 109),  # rising 107 → 106 → 111: long at 110
        (f"{date} 22:00", 112, 113, 111, 112),
    ]  # close at 112


def test_identical_daily_r_gives_sharpe_zero():
    # Arrange
    bars = make_bars(
        _day("2024-03-05") + _day("2024-03-06") + _day("2024-03-07"),
        spread=0.0,
        spread_model="cost",
    )

    # Act
    records, _, metrics = run_both(bars)

    # Assert
    assert [r["r"] for r in records] == [0.1, 0.1, 0.1]
    assert metrics["sharpe"] == 0.0
    assert metrics["total_r"] == pytest.approx(0.3, abs=1e-12)
    assert metrics["worst_day_r"] == 0.1
