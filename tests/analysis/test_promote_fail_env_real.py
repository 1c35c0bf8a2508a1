"""A bot whose .env says REAL, promoted without --account real, fails ".env account"."""

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


def test_env_real_without_account_real_fails_only_env_account(s, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot", account="REAL")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=s.run, group=GROUP, combo="0", config=s.config
    )
    # Assert
    assert only_failure(output) == ".env account"
    assert reason(output, ".env account").startswith(
        ".env: ACCOUNT_TYPE=REAL but this promotion is for DEMO"
    )
    assert ".env account" in message
