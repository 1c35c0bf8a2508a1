"""Trade records: prices in price units, r and pnl_money net of the spread, the excursions."""

import pytest

from tests.engines.spec.bar_factory import IB_BAR, make_bars, run


def test_xauusd_long_tp_record():
    # Arrange: London IB 08:00-09:00 (GMT in March); L = 1910, D = T = 2000 points;
    # lots = 1000 / (2000 × 0.01 × 100) = 0.5; spread 0.20 = 20 points.
    bars = make_bars(
        [
            ("08:00", 1900, 1910, 1890, 1905),
            ("09:00", 1905, 1911, 1904, 1906),
            ("09:01", 1906, 1931, 1905, 1930),
        ],
        symbol="XAUUSD",
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    assert records == [
        {
            "entry_time": "2024-03-05T09:00:00+00:00",
            "exit_time": "2024-03-05T09:01:00+00:00",
            "direction": "long",
            "entry_price": 1910.0,
            "exit_price": 1930.0,
            "sl": 1890.0,
            "tp": 1930.0,
            "lots": 0.5,
            "r": 0.99,  # (2000 - 20) / 2000
            "pnl_money": pytest.approx(990.0),  # 1980 × 0.01 × 100 × 0.5
            "exit_reason": "tp",
            # the bid from the entry (1910, on 09:00's way up) dips to 1905 at 09:01, then
            # reaches the TP: 1910 - 1905 and 1930 - 1910
            "mae": 5.0,
            "mfe": 20.0,
        }
    ]


def test_ger40_short_loss_record_with_spread():
    # Arrange: short at 90, SL 110; spread 1.00 = 100 points; lots 50.
    bars = make_bars(
        [IB_BAR, ("10:00", 100, 101, 85, 88), ("10:01", 88, 111, 87, 109)], spread_model="cost"
    )

    # Act
    records, _, trades = run(bars)

    # Assert
    [record] = records
    assert record["r"] == -1.05
    assert record["pnl_money"] == pytest.approx(-1050.0)  # -2100 × 0.01 × 1 × 50
    assert record["lots"] == 50.0
    assert trades[0]["stop_points"] == 2000
    assert trades[0]["reason"] == 0


def test_commission_is_charged_with_the_spread():
    # Arrange: commission 0.5 = 50 points on top of the 100-point spread.
    bars = make_bars(
        [IB_BAR, ("10:01", 107, 115, 106, 114), ("10:02", 114, 131, 113, 130)],
        commission=0.5,
        spread_model="cost",
    )

    # Act
    records, _, _ = run(bars)

    # Assert
    assert records[0]["r"] == 0.925  # (2000 - 150) / 2000
