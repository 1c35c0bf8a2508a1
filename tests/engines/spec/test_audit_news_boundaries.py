"""The news block is inclusive at event − news_before and event + news_after,
and only high-impact events of the symbol's currencies count (GER40: EUR)."""

from backtest.data.news import event_times, load_news
from tests.engines.spec.bar_factory import IB_BAR, make_bars
from tests.engines.spec.both_engines import run_both

NEWS = """time,currency,impact,title
2024-03-05T09:30:00Z,eur,HIGH,blocks 09:15Z..09:45Z
2024-03-05T09:46:00,USD,high,other currency
2024-03-05T10:46:00+01:00,EUR,medium,not high impact
"""
TOUCH_L = (111, 112, 109.5, 111.5)  # rising: 111 opens above L = 110


def test_bars_at_both_block_edges_are_blocked_the_next_one_enters(tmp_path):
    # Arrange: Berlin = UTC+1; the 10:15 and 10:45 bars (09:15Z, 09:45Z) open
    # above L inside the block; 10:46 (09:46Z) is outside it.
    news_file = tmp_path / "news.csv"
    news_file.write_text(NEWS)
    events = event_times(load_news(news_file), ("EUR",)).tolist()
    bars = make_bars(
        [IB_BAR, ("10:15", *TOUCH_L), ("10:45", *TOUCH_L), ("10:46", *TOUCH_L)], spread_model="cost"
    )

    # Act
    records, _, _ = run_both(bars, news_ns=events, news_filter=True, news_before=15, news_after=15)

    # Assert
    assert len(events) == 1
    [trade] = records
    assert (trade["entry_time"], trade["entry_price"]) == ("2024-03-05T09:46:00+00:00", 111.0)
