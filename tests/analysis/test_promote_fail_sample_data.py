"""An in-sample run on built-in sample data fails "real data" only; nothing is written."""

import pytest

from tests.analysis.promote_helpers import (
    GROUP,
    IN_SAMPLE,
    IN_SAMPLE_DAYS,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
    write_pattern_bars,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_sample_data_fails_only_real_data(s, tmp_path, capsys):
    # Arrange: the same bars, but in the sample-data cache (run.sample_dir): the runner
    # records the run as sample data (metadata.data.source).
    bars = write_pattern_bars(
        s.root / "sample" / "GER40_pattern.parquet", *IN_SAMPLE[:1], IN_SAMPLE_DAYS
    )
    run = s.sweep(tmp_path / "run", bars)
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(capsys, bot, from_=run, group=GROUP, combo="0", config=s.config)
    # Assert
    assert only_failure(output) == "real data"
    assert reason(output, "real data").startswith("in-sample ran on built-in SAMPLE data")
    assert "real data" in message and "nothing written" in message
