"""winrate (share of r > 0), total_r and avg_r, including no trades."""

from __future__ import annotations

from tests.strategy.metrics.helpers import metrics_of

DATES = ["2025-03-03", "2025-03-04"]


def test_no_trades_gives_zeros():
    # Act
    result = metrics_of(DATES, [])
    # Assert
    assert (result["trades"], result["winrate"], result["total_r"], result["avg_r"]) == (
        0,
        0.0,
        0.0,
        0.0,
    )


def test_break_even_trade_is_not_a_win():
    # Arrange: +2R, 0R, -1R, +0.5R (D = 1000 points)
    rows = [
        (0, 0, 2000, 1000, 1.0),
        (0, 1, 0, 1000, 1.0),
        (1, 0, -1000, 1000, 1.0),
        (1, 1, 500, 1000, 1.0),
    ]
    # Act
    result = metrics_of(DATES, rows)
    # Assert
    assert result["trades"] == 4
    assert result["winrate"] == 2 / 4
    assert result["total_r"] == 1.5
    assert result["avg_r"] == 1.5 / 4
