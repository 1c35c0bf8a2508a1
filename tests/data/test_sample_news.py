"""Sample news: plausible high-impact USD/EUR events, written as a news CSV."""

import pandas as pd

from backtest.data.sample import generate_news, write_news_csv


def test_nfp_on_the_first_friday_at_0830_new_york():
    news = generate_news("2024-01-01", "2024-07-31", seed=1)
    nfp = news[news["title"] == "Non-Farm Payrolls"]

    # 08:30 New York is 13:30 UTC in winter, 12:30 UTC in summer
    assert pd.Timestamp("2024-01-05 13:30", tz="UTC") in set(nfp["time"])
    assert pd.Timestamp("2024-07-05 12:30", tz="UTC") in set(nfp["time"])
    assert len(nfp) == 7


def test_high_impact_events_of_both_currencies():
    news = generate_news("2024-01-01", "2024-12-31", seed=1)
    high = news[news["impact"] == "high"]

    assert {"USD", "EUR"} <= set(high["currency"])
    assert (high["title"] == "ECB Main Refinancing Rate").sum() == 8
    assert (high["title"] == "FOMC Statement").sum() == 8
    assert {"medium", "low"} <= set(news["impact"])
    assert (news["time"].dt.dayofweek < 5).all() and news["time"].is_monotonic_increasing


def test_news_csv_round_trip(tmp_path):
    news = generate_news("2024-03-01", "2024-03-31", seed=1)
    path = tmp_path / "news.csv"

    write_news_csv(news, path)
    back = pd.read_csv(path)

    assert list(back.columns) == ["time", "currency", "impact", "title"]
    assert back["time"].iloc[0].endswith("+00:00")
    assert list(pd.to_datetime(back["time"], utc=True)) == list(news["time"])


def test_sample_news_file_feeds_the_news_filter(tmp_path):
    from backtest.data.news import event_times, load_news

    news = generate_news("2024-01-01", "2024-01-31", seed=1)
    path = tmp_path / "news.csv"
    write_news_csv(news, path)

    usd_high = event_times(load_news(path), ["USD"])

    assert pd.Timestamp("2024-01-05 13:30", tz="UTC").value in set(usd_high)
    assert len(usd_high) == ((news["currency"] == "USD") & (news["impact"] == "high")).sum()
