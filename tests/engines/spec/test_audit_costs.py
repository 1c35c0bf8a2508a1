"""Spread and commission, both non-zero, each converted with floor(x / point + 0.5)."""

import pytest

from tests.engines.spec.bar_factory import make_bars
from tests.engines.spec.both_engines import brief, run_both


def test_xauusd_short_pays_spread_and_commission():
    # Arrange: London = UTC in early March; IB 08:00 → IB = 2000 points,
    # S = 1990, SL 2010, TP 1970; spread 0.25 → 25 points, commission 0.07 → 7.
    bars = make_bars(
        [
            ("08:00", 2000, 2010, 1990, 2005),
            ("09:00", 1995, 1996, 1989, 1990),  # falling 1995 → 1996 → 1989: short at 1990
            ("09:01", 1990, 1991, 1969, 1975),  # falling 1990 → 1991 → 1969: TP 1970
        ],
        symbol="XAUUSD",
        spread=0.25,
        commission=0.07,
        spread_model="cost",
    )

    # Act
    [trade], _, metrics = run_both(bars)

    # Assert: pnl = 2000 − 25 − 7 = 1968 points; lots 1000 / (2000 × 0.01 × 100) = 0.5
    assert brief(trade) == ("short", 1990.0, 1970.0, "tp")
    assert (trade["sl"], trade["tp"], trade["lots"]) == (2010.0, 1970.0, 0.5)
    assert trade["r"] == 1968 / 2000
    assert trade["pnl_money"] == pytest.approx(984.0, abs=1e-9)
    assert metrics["total_pnl"] == pytest.approx(984.0, abs=1e-9)
