"""A bot news file that ends in 3 days (14 needed) fails "news file up to date" only."""

import pytest

from tests.analysis.promote_helpers import (
    GROUP,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_news_ending_in_3_days_fails_only_news_file_up_to_date(s, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot", news_days=3)
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.run, group=GROUP, combo="0", config=s.config
    )
    # Assert
    assert only_failure(output) == "news file up to date"
    text = reason(output, "news file up to date")
    assert text.startswith("news.csv: last EUR event ") and "needs events up to" in text
    assert "news file up to date" in message


def test_news_of_other_currencies_only_fails(s, tmp_path, capsys):
    # Arrange: a calendar of USD events only, for a GER40 (EUR) bot
    bot = make_bot(tmp_path / "bot")
    text = (bot / "news.csv").read_text().replace(",EUR,", ",USD,")
    (bot / "news.csv").write_text(text)
    # Act
    _, output = promote_fails(capsys, bot, from_=s.run, group=GROUP, combo="0", config=s.config)
    # Assert
    assert only_failure(output) == "news file up to date"
    assert reason(output, "news file up to date").endswith("no EUR events")
