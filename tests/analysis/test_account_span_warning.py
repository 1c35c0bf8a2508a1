"""A pick whose data ends (or starts) well inside the other's is said, not silently
counted as flat days."""

from backtest.analysis.account import span_warnings
from tests.analysis.account_helpers import account, pick_data

MARCH = [f"2024-03-{d:02d}" for d in range(1, 32)]


def test_a_shorter_pick_is_named():
    ger = pick_data("GER40", MARCH, [("2024-03-04", 100.0)])
    xau = pick_data("XAUUSD", MARCH[:20], [("2024-03-05", 100.0)])

    assert span_warnings(account([ger, xau])) == [
        "XAUUSD's data ends 2024-03-20: the days after count as 0"
    ]


def test_a_few_days_apart_say_nothing():
    ger = pick_data("GER40", MARCH, [("2024-03-04", 100.0)])
    xau = pick_data("XAUUSD", MARCH[2:28], [("2024-03-05", 100.0)])

    assert span_warnings(account([ger, xau])) == []
