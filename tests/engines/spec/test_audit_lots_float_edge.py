"""Lots: floor(risk / (D × point × value) / step + 1e-9) × step; the 1e-9 matters.

D = 2900 points, risk 0.29: 0.29 / 29.0 / 0.01 is 0.9999999999999998 in
float64, so without the 1e-9 the lot would floor to 0 and the day be skipped.
"""

import pytest

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import run_both

ROWS = [
    ("09:00", 100, 119, 90, 105),  # IB = 29.00 → D = T = 2900 points, L = 119
    ("10:00", 118, 120, 117, 119.5),  # rising 118 → 117 → 120: long at 119
    ("10:01", 120, 149, 119.5, 148),  # rising: TP 148
]


@pytest.mark.parametrize(
    "risk, lots, skipped",
    [
        (0.29, [0.01], 0),  # exactly volume_min: traded
        (0.28, [], 1),  # 0.9655… steps → 0 lots: the day is skipped
    ],
)
def test_lots_at_volume_min(risk, lots, skipped):
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    records, skip_count, _ = run_both(bars, risk=risk)

    # Assert
    assert [r["lots"] for r in records] == lots
    assert skip_count == skipped


def test_money_of_a_minimum_lot():
    # Arrange
    bars = make_bars(ROWS, spread_model="cost")

    # Act
    [trade], _, _ = run_both(bars, risk=0.29)

    # Assert: (2900 − 100) points × 0.01 × 1.0 × 0.01 lot
    assert (trade["exit_price"], trade["exit_reason"]) == (148.0, "tp")
    assert trade["pnl_money"] == pytest.approx(0.28, abs=1e-12)
    assert trade["r"] == 2800 / 2900
