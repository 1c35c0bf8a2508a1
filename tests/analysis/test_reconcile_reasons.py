"""The reasons a reconcile names for a mismatch, each on hand-made days (the helpers'
module doc): a stop level already passed when the order would be placed (the bar opens
through it, or the spread puts the ask past it), a day without a position of the bot,
a news block the backtest obeys and the bot did not."""

from backtest.analysis.reconcile import Request, reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars


def test_level_passed_at_the_open_and_a_day_without_the_bot(tmp_path_factory):
    # 2024-01-16 (G) and 2024-01-17 (P): the bot has no position on either day (the
    # deals file's only position is on 2024-01-09, outside the dates)
    result = reconcile(
        Request(
            fixture("sl_moved.csv"),
            shared_bars(tmp_path_factory),
            deployment(),
            server_tz=SERVER_TZ,
            start_date="2024-01-16",
            end_date="2024-01-17",
        )
    )

    gap, spread = result.rows
    assert (gap["status"], gap["trading_day"], gap["bt_entry_price"]) == (
        "missed",
        "2024-01-16",
        16026.0,
    )
    assert [r["code"] for r in gap["reasons"]] == ["level_at_open", "not_running"]
    assert gap["reasons"][0]["text"].startswith(
        "the bar opened through the buy stop at 10:00 (16025.00 >= 16020.00)"
    )
    assert gap["reasons"][1]["text"].startswith("no position of the bot on 2024-01-16")
    assert (spread["status"], spread["bt_entry_price"]) == ("missed", 16020.5)
    assert spread["reasons"][0]["code"] == "level_at_open"
    assert spread["reasons"][0]["text"].startswith(
        "spread above the level's distance: at 10:00 the bid opened 50 points below the buy "
        "stop 16020.00 and the spread was 100 points"
    )
    assert result.summary["reasons"] == {"level_at_open": 2, "not_running": 2}
    assert result.summary["match_rate"] == 0.0
    assert any("outside --start-date..--end-date" in note for note in result.notes)


def test_a_news_block_the_bot_ignored(tmp_path_factory, tmp_path):
    # a high-impact EUR event at 09:05 UTC on 2024-01-10 blocks 08:50..09:20 UTC: the
    # backtest does not take the 09:00 breakout; the bot took it twice
    news = tmp_path / "news.csv"
    news.write_text("time,currency,impact\n2024-01-10T09:05:00Z,EUR,high\n")
    deploy = deployment(news_file=str(news), news_filter=True)

    result = reconcile(
        Request(
            fixture("opened_twice.csv"), shared_bars(tmp_path_factory), deploy, server_tz=SERVER_TZ
        )
    )

    first, second = result.rows
    assert (first["status"], second["status"]) == ("extra", "extra")
    assert [r["code"] for r in first["reasons"]] == ["news_block"]
    assert "event at 2024-01-10T09:05:00+00:00" in first["reasons"][0]["text"]
    assert [r["code"] for r in second["reasons"]] == ["opened_twice", "news_block"]
    assert result.provenance["settings"]["news_file"] == str(news)
