"""A combination swept without the news filter fails "news filter on" only."""

import pytest

from tests.analysis.promote_helpers import (
    NO_NEWS_GROUP,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_news_filter_off_fails_only_news_filter_on(s, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.run, group=NO_NEWS_GROUP, combo="0", config=s.config
    )
    # Assert
    assert only_failure(output) == "news filter on"
    assert reason(output, "news filter on").startswith("news_filter is off")
    assert "news filter on" in message


def test_a_news_block_shorter_than_the_firms_window_fails_only_news_filter_on(s, tmp_path, capsys):
    # Arrange: the combination blocks 15 minutes each side; a firm window of 20 is wider
    config = s.config_with(tmp_path / "cfg.yaml", {"prop_firm": {"news_window_min": 20}})
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=s.run, group="group_GER40_001", combo="0", config=config
    )
    # Assert
    assert only_failure(output) == "news filter on"
    assert reason(output, "news filter on") == (
        "news_filter on, 15 min before / 15 min after (the firm's window: 20 min)"
    )
