"""load_news: ISO 8601 times (UTC without an offset), case-insensitive currency and impact."""

from __future__ import annotations

import pandas as pd

from backtest.data.news import load_news


def test_times_offsets_and_case(tmp_path):
    # Arrange
    path = tmp_path / "news.csv"
    path.write_text(
        "time,currency,impact,title\n"
        "2025-03-07 13:30:00,usd,HIGH,NFP\n"  # no offset: UTC
        "2025-03-06T14:15:00+01:00,Eur,Medium,ECB\n"  # +01:00: 13:15 UTC
        "2025-03-05T10:00:00Z,gbp,low,PMI\n"
    )
    # Act
    news = load_news(path)
    # Assert
    assert list(news["time"]) == [
        pd.Timestamp("2025-03-07 13:30", tz="UTC"),
        pd.Timestamp("2025-03-06 13:15", tz="UTC"),
        pd.Timestamp("2025-03-05 10:00", tz="UTC"),
    ]
    assert list(news["currency"]) == ["USD", "EUR", "GBP"]
    assert list(news["impact"]) == ["high", "medium", "low"]


def test_header_only_is_no_events(tmp_path):
    # Arrange
    path = tmp_path / "news.csv"
    path.write_text("time,currency,impact\n")
    # Act
    news = load_news(path)
    # Assert
    assert len(news) == 0 and str(news["time"].dtype) == "datetime64[ns, UTC]"
