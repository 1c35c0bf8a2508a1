"""invoke check-data prints the cash open measured from the bars, refuses a clock an hour
or more off as a run does (exit 2, --ignore-clock-check: a warning), and reads an MT5
export with the symbol's configured server_tz when no --server-tz is given."""

from __future__ import annotations

import pytest
from invoke import Context, Exit

from tasks.data import check_data
from tests.data.clock_helpers import sample_frame, write_mt5_export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """Three January weeks of GER40 on broker:NY+7."""
    frame = sample_frame("GER40", "2024-01-08", "2024-01-26")
    return write_mt5_export(frame, tmp_path_factory.mktemp("check") / "GER40.csv", "broker:NY+7")


def _clock_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("clock"))


def test_the_measured_open_is_printed(export, capsys):
    # Act
    check_data(Context(), file=str(export), symbol="GER40", server_tz="broker:NY+7")
    # Assert
    assert _clock_line(capsys.readouterr().out) == (
        "clock: GER40's cash open (09:00 Europe/Berlin) measured at 09:00 (read with "
        "--server-tz broker:NY+7; median of the 15 of 15 days that agree): the clock is right"
    )


def test_a_clock_hours_off_exits_2_in_one_line(export, capsys):
    # Act
    with pytest.raises(Exit) as refused:
        check_data(Context(), file=str(export), symbol="GER40", server_tz="Etc/GMT+2")
    # Assert
    message = str(refused.value.message)
    assert refused.value.code == 2 and "\n" not in message
    assert message.startswith(f"error: {export}: the clock looks wrong: ")
    assert "--server-tz broker:NY+7 puts it right" in message
    assert _clock_line(capsys.readouterr().out).startswith(
        "clock: GER40's cash open (09:00 Europe/Berlin) measured at 13:00 (read with "
        "--server-tz Etc/GMT+2 (UTC-2: POSIX inverts the sign);"
    )


def test_ignore_clock_check_warns_and_exits_0(export, capsys):
    # Act
    check_data(
        Context(), file=str(export), symbol="GER40", server_tz="Etc/GMT+2", ignore_clock_check=True
    )
    # Assert
    warnings = [line for line in capsys.readouterr().out.splitlines() if "clock looks" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: the clock looks wrong: ")
    assert warnings[0].endswith(": ignored (--ignore-clock-check)")


def test_the_configured_server_tz_is_used_without_the_option(export, tmp_path, capsys):
    # Arrange
    config = tmp_path / "ibsweep.yaml"
    config.write_text("symbols:\n  GER40: {server_tz: 'broker:NY+7'}\n")
    # Act
    check_data(Context(), file=str(export), symbol="GER40", config=str(config))
    # Assert
    out = capsys.readouterr().out
    assert out.startswith(f"{export}: OK, GER40, ")
    assert "read with --server-tz broker:NY+7;" in _clock_line(out)


def test_a_bad_configured_server_tz_names_the_config_key(export, tmp_path):
    # Arrange
    config = tmp_path / "ibsweep.yaml"
    config.write_text("symbols:\n  GER40: {server_tz: 'UTC+2'}\n")
    # Act
    with pytest.raises(Exit) as refused:
        check_data(Context(), file=str(export), symbol="GER40", config=str(config))
    # Assert
    message = str(refused.value.message)
    assert message.startswith(f"error: {config}: symbols.GER40.server_tz: 'UTC+2' is not")
    assert "broker:NY+7" in message and "Etc/GMT-2" in message
