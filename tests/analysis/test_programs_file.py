"""programs.yaml: the shipped presets as the issue describes them, and strict validation
(an unknown key with the nearest known one, numbers in range, a known program)."""

import pytest

from backtest.core.programs import CHECK_RULES, ProgramError, load_program, load_programs


def test_the_shipped_presets():
    programs = load_programs()
    high = programs["the5ers_high_stakes"]
    boot = programs["the5ers_bootcamp"]

    assert [p.profit_target_pct for p in high.phases] == [8.0, 5.0]
    assert (high.daily_loss_pct, high.daily_loss_base) == (5.0, "day_start_balance")
    assert (high.overall_loss_pct, high.overall_loss_base) == (10.0, "initial_balance")
    assert (high.min_profitable_days, high.profitable_day_pct) == (3, 0.5)
    assert high.news_window_min == 2.0
    assert high.time_limit_days is None
    assert high.rules_read and high.sources
    assert CHECK_RULES in high.rules_line()
    assert [p.profit_target_pct for p in boot.phases] == [6.0, 6.0, 6.0]
    assert boot.daily_loss_pct is None and boot.max_risk_per_position_pct == 2.0


def _write(tmp_path, body: str):
    path = tmp_path / "programs.yaml"
    path.write_text(
        "programs:\n  mine:\n    name: Mine\n    rules_read: '2026-12-01'\n"
        "    account_size: 50000\n    phases: [{profit_target_pct: 10}]\n"
        "    overall_loss: {limit_pct: 6}\n"
        "    profitable_days: {min_days: 0, min_profit_pct: 0}\n" + body
    )
    return path


def test_a_file_of_ones_own(tmp_path):
    prog = load_program("mine", _write(tmp_path, "    time_limit_days: 30\n"))

    assert prog.account_size == 50000.0
    assert prog.daily_loss_pct is None
    assert prog.time_limit_days == 30
    assert prog.source_file == str(tmp_path / "programs.yaml")


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "    daily_los: {limit_pct: 5}\n",
            "programs.mine.daily_los: unknown key (did you mean 'daily_loss'?)",
        ),
        (
            "    daily_loss: {limit_pct: 5, base: start}\n",
            "programs.mine.daily_loss.base: 'start' is not one of",
        ),
        ("    daily_loss: {limit_pct: 0}\n", "programs.mine.daily_loss.limit_pct: 0 must be > 0"),
        (
            "    daily_loss: {limit_pct: .nan}\n",
            "programs.mine.daily_loss.limit_pct: nan is not a finite number",
        ),
        ("    time_limit_days: 2.5\n", "programs.mine.time_limit_days: 2.5 is not a whole number"),
        ("    news_window_min: '2'\n", "programs.mine.news_window_min: '2' is not a number"),
        (
            "    max_risk_per_position_pct: 101\n",
            "programs.mine.max_risk_per_position_pct: 101 must be <= 100",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_field(tmp_path, body, message):
    with pytest.raises(ProgramError) as info:
        load_programs(_write(tmp_path, body))

    assert message in str(info.value)
    assert str(tmp_path / "programs.yaml") in str(info.value)


def test_missing_keys_are_listed(tmp_path):
    path = tmp_path / "programs.yaml"
    path.write_text("programs:\n  mine: {name: Mine, phases: []}\n")

    with pytest.raises(
        ProgramError, match="missing rules_read, account_size, overall_loss, profitable_days"
    ):
        load_programs(path)


def test_an_unknown_program_names_the_known_ones():
    with pytest.raises(ProgramError) as info:
        load_program("the5ers_high_stake")

    assert (
        "--program the5ers_high_stake: unknown program (did you mean 'the5ers_high_stakes'?)"
        in str(info.value)
    )
    assert "the5ers_bootcamp" in str(info.value)
