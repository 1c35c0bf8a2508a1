"""A control period is out of sample: `invoke control` refuses dates that share a trading
day with the in-sample period (exit 2, one line, nothing written), whatever the data file;
promote refuses such evidence, names the control evidence it used, and refuses to choose
between two (exit 2, asking for --control-from)."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from backtest.analysis.control import compare_control
from tasks.analysis import control
from tests.analysis.promote_helpers import (
    CONTROL,
    CONTROL_DAYS,
    GROUP,
    IN_SAMPLE,
    IN_SAMPLE_DAYS,
    expect_exit,
    make_bot,
    only_failure,
    promote_fails,
    reason,
    scenario,
    snapshot,
    statuses,
    write_pattern_bars,
)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


@pytest.fixture(scope="module")
def long_bars(s, tmp_path_factory):
    """One file of 30 weekdays: the in-sample days, 10 winning days, the control days."""
    days = IN_SAMPLE_DAYS + "W" * 10 + CONTROL_DAYS
    return write_pattern_bars(tmp_path_factory.mktemp("long") / "long.parquet", IN_SAMPLE[0], days)


@pytest.mark.parametrize(
    "dates",
    [("2024-01-15", "2024-01-19"), ("2024-01-19", "2024-02-16"), ("2024-01-01", "2024-01-08")],
    ids=["inside", "overlapping the end", "overlapping the start"],
)
def test_control_dates_inside_the_in_sample_period_exit_2(s, long_bars, tmp_path, dates):
    # Arrange: the in-sample run's own kind of data, dates touching its period
    run = s.copy_run(tmp_path / "run")
    before = snapshot(run)
    # Act
    with pytest.raises(Exit) as info:
        control.body(
            Context(),
            from_=str(run),
            data_file=str(long_bars),
            start_date=dates[0],
            end_date=dates[1],
            config=str(s.config),
        )
    # Assert
    assert info.value.code == 2
    message = str(info.value.message)
    assert message.startswith(f"error: control dates {dates[0]}..{dates[1]}: ")
    assert "inside the in-sample period 2024-01-08..2024-01-19" in message
    assert "\n" not in message
    assert snapshot(run) == before


def test_control_dates_after_the_in_sample_period_are_a_control(s, long_bars, tmp_path):
    # Arrange: the same file, the days after the in-sample period
    run = s.copy_run(tmp_path / "run")
    # Act
    control.body(
        Context(),
        from_=str(run),
        data_file=str(long_bars),
        start_date="2024-01-20",
        end_date=CONTROL[1],
        config=str(s.config),
    )
    # Assert
    assert (run / "control_vs_in_sample_GER40.npz").is_file()


def test_promote_refuses_a_control_inside_a_longer_in_sample_period(s, long_bars, tmp_path, capsys):
    # Arrange: a control of the January run, made on its own file after its period; then
    # the same file swept over January and February: that control is its in-sample data
    january = s.sweep(tmp_path / "january", long_bars)
    compare_control(
        january, top="100%", min_count=0, data_file=str(long_bars), cfg=s.cfg, end_date=CONTROL[1]
    )
    both = s.sweep(tmp_path / "both", long_bars, "--end-date", CONTROL[1])
    bot = make_bot(tmp_path / "bot")
    # Act
    message, output = promote_fails(
        capsys, bot, from_=both, group=GROUP, combo="0", control_from=january, config=s.config
    )
    # Assert
    assert only_failure(output) == "control out of sample"
    assert reason(output, "control out of sample") == (
        f"{january / 'control_vs_in_sample_GER40.json'}: 10 control trading day(s) "
        "(2024-02-05..2024-02-16) inside the in-sample period 2024-01-08..2024-02-16: that is "
        "in-sample data, not a control"
    )
    assert "control out of sample" in message


def test_two_control_results_are_refused_not_one_silently_chosen(s, tmp_path, capsys):
    # Arrange: promote ran control on losing data (it failed), then `invoke control` wrote
    # a winning comparison into the run folder
    run = s.copy_run(tmp_path / "run", s.judged(0))
    for suffix in ("json", "csv", "npz"):
        (run / f"control_vs_in_sample_GER40.{suffix}").unlink(missing_ok=True)
    bot = make_bot(tmp_path / "bot")
    promote_fails(
        capsys,
        bot,
        from_=run,
        group=GROUP,
        combo="0",
        control_data_file=s.losing_control_bars,
        config=s.config,
    )
    compare_control(run, top="100%", min_count=0, cfg=s.cfg)
    own = run / "promote_control" / "group_GER40_001_combo0"
    # Act
    message = expect_exit(2, from_=run, group=GROUP, combo="0", bot_dir=bot, config=s.config)
    # Assert
    assert message == (
        f"error: {run}: 2 control results hold group_GER40_001 combo 0 ({run}, {own}): choose "
        "one with --control-from"
    )


def test_the_control_evidence_used_is_named(s, tmp_path, capsys):
    # Arrange: the losing control chosen by --control-from
    run = s.copy_run(tmp_path / "run", s.judged(0))
    losing = s.losing_control(tmp_path / "losing", run)
    bot = make_bot(tmp_path / "bot")
    # Act
    _, output = promote_fails(
        capsys, bot, from_=run, group=GROUP, combo="0", control_from=losing, config=s.config
    )
    # Assert
    assert f"control: {losing / 'control_vs_in_sample_GER40.json'}\n" in output
    assert statuses(output)["positive after costs"] == "FAIL"
    assert reason(output, "control out of sample").startswith(
        f"{losing / 'control_vs_in_sample_GER40.json'}: 10 trading days 2024-02-05..2024-02-16"
    )
