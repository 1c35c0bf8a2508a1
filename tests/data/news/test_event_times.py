"""event_times: sorted unique UTC ns of the high-impact events of the given currencies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.data.news import event_times, load_news, news_blocked


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_high_impact_of_the_currencies_only(tmp_path):
    # Arrange: out of order, a duplicate (same instant, two offsets), other currencies and impacts
    path = tmp_path / "news.csv"
    path.write_text(
        "time,currency,impact\n"
        "2025-03-07 13:30,USD,high\n"
        "2025-03-06 12:15,usd,High\n"
        "2025-03-07T14:30+01:00,USD,high\n"
        "2025-03-06 13:00,USD,medium\n"
        "2025-03-06 09:00,EUR,high\n"
    )
    news = load_news(path)
    # Act
    usd = event_times(news, ["usd"])
    both = event_times(news, ("EUR", "USD"))
    # Assert
    assert usd.dtype == np.int64
    assert usd.tolist() == [_ns("2025-03-06 12:15"), _ns("2025-03-07 13:30")]
    assert both.tolist() == [
        _ns("2025-03-06 09:00"),
        _ns("2025-03-06 12:15"),
        _ns("2025-03-07 13:30"),
    ]


def test_events_feed_news_blocked(tmp_path):
    # Arrange: one event at 13:30 UTC, block 15 min before and 5 after
    path = tmp_path / "news.csv"
    path.write_text("time,currency,impact\n2025-03-07 13:30,USD,high\n")
    events = event_times(load_news(path), ["USD"])
    bars = np.array([_ns(f"2025-03-07 {t}") for t in ("13:14", "13:15", "13:35", "13:36")])
    minute = 60_000_000_000
    # Act
    blocked = news_blocked(bars, events, 15 * minute, 5 * minute)
    # Assert
    assert blocked.tolist() == [False, True, True, False]
