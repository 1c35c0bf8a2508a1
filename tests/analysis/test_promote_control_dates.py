"""promote's own control run takes its data and dates from --control-data-file,
--control-start-date and --control-end-date; without dates that hold bars the error says
which options choose them; existing control evidence made otherwise is not silently used."""

import json

import pytest

from tests.analysis.promote_helpers import (
    CONTROL,
    GROUP,
    expect_exit,
    make_bot,
    promote_task,
    scenario,
    statuses,
    write_pattern_bars,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture
def uncontrolled(s, tmp_path):
    """A judged run without any control result yet."""
    run = s.copy_run(tmp_path / "run", s.judged(0))
    for suffix in ("json", "csv", "npz"):
        (run / f"control_vs_in_sample_GER40.{suffix}").unlink(missing_ok=True)
    return run


@pytest.fixture(scope="module")
def march(tmp_path_factory):
    """Control data of March 2024 (20 weekdays from 2024-03-04), outside the configured
    control period."""
    return write_pattern_bars(
        tmp_path_factory.mktemp("march") / "march.parquet", "2024-03-04", "W" * 20
    )


def test_control_dates_choose_the_control_period_promote_runs(
    s, uncontrolled, march, tmp_path, capsys
):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    # Act
    promote_task(
        from_=uncontrolled, group=GROUP, combo="0", bot_dir=bot, dry_run=True,
        control_data_file=march, control_start_date="2024-03-11",
        control_end_date="2024-03-15", config=s.config,
    )  # fmt: skip
    # Assert: 5 winning days of 0.95 R
    output = capsys.readouterr().out
    assert set(statuses(output).values()) == {"PASS", "MANUAL"}
    made = uncontrolled / "promote_control" / "group_GER40_001_combo0"
    document = json.loads((made / "control_vs_in_sample_GER40.json").read_text())
    control = document["metadata"]["control"]
    assert (control["start_date"], control["end_date"], control["trading_days"]) == (
        "2024-03-11",
        "2024-03-15",
        5,
    )
    assert document["rows"][0]["ctl_total_r"] == pytest.approx(5 * 0.95)


def test_without_dates_that_hold_bars_the_error_names_the_options(s, uncontrolled, march, tmp_path):
    # Arrange: March data, the configured control period is February
    bot = make_bot(tmp_path / "bot")
    # Act
    message = expect_exit(
        2, from_=uncontrolled, group=GROUP, combo="0", bot_dir=bot, control_data_file=march,
        config=s.config,
    )  # fmt: skip
    # Assert
    assert message.startswith("error: control for group_GER40_001 combo 0 cannot be run: ")
    assert f"no bars of GER40 between {CONTROL[0]} and {CONTROL[1]}" in message
    assert "--control-start-date, --control-end-date" in message


def test_existing_control_evidence_of_other_dates_is_not_silently_used(
    s, uncontrolled, march, tmp_path
):
    # Arrange: promote ran control on 11-15 March before
    bot = make_bot(tmp_path / "bot")
    options = dict(from_=uncontrolled, group=GROUP, combo="0", bot_dir=bot, config=s.config)
    promote_task(
        **options, dry_run=True, control_data_file=march, control_start_date="2024-03-11",
        control_end_date="2024-03-15",
    )  # fmt: skip
    # Act: now asked for 18-22 March
    message = expect_exit(
        2, **options, control_data_file=march, control_start_date="2024-03-18",
        control_end_date="2024-03-22",
    )  # fmt: skip
    # Assert
    assert "--control-start-date 2024-03-18 (it has 2024-03-11)" in message
    assert "--control-end-date 2024-03-22 (it has 2024-03-15)" in message
    assert "--control-from" in message
