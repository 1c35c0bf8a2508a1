"""A robustness file whose verdict is "not distinguishable from luck" fails "robustness
verdict" only, naming the combination it judged."""

import pytest
from invoke import Context

from tasks.robust import robustness
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


@pytest.fixture(scope="module")
def judged(s, tmp_path_factory):
    """A copy of the run with robustness_GER40.json by the real `invoke robustness`
    (4 combinations x 10 days: it selects group 1 combo 1 and cannot tell it from luck)."""
    run = s.copy_run(tmp_path_factory.mktemp("judged") / "run")
    robustness.body(Context(), from_=str(run), samples=200)
    return run


def test_not_distinguishable_from_luck_fails_only_robustness(s, judged, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=judged, group=GROUP, combo="1", config=s.config
    )
    # Assert
    assert only_failure(output) == "robustness verdict"
    text = reason(output, "robustness verdict")
    assert text.startswith(
        "robustness_GER40.json: group_GER40_001 combo 1: the selected "
        "combination is NOT distinguishable from luck"
    )
    assert "not the combination it judged" not in text
    assert "robustness verdict" in message


def test_a_combination_the_verdict_is_not_about_says_so(s, judged, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(capsys, bot, from_=judged, group=GROUP, combo="0", config=s.config)
    # Assert
    assert only_failure(output) == "robustness verdict"
    assert reason(output, "robustness verdict").endswith(
        "; the promoted group_GER40_001 combo 0 is not the combination it judged"
    )
