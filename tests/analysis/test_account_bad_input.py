"""invoke account refuses bad input with exit 2 and one line naming the option or field,
and writes nothing: an unknown program, a pick whose run lacks what is needed (no compact
trades and no data to re-run), two picks of one symbol, runs over other periods, account
sizes that differ from the program's, malformed options."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from tasks.account import account
from tests.analysis.account_helpers import symbol_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("account_bad")
    gone = symbol_run(root / "gone", "GER40")  # no --save-daily; its data file removed below
    (root / "gone" / "GER40.parquet").unlink()
    return {
        "ger": symbol_run(root / "ger", "GER40", "--save-daily"),
        "xau": symbol_run(root / "xau", "XAUUSD", "--save-daily"),
        "xau_dates": symbol_run(root / "xau_dates", "XAUUSD", "--save-daily", start="2024-01-09"),
        "xau_size": symbol_run(
            root / "xau_size", "XAUUSD", "--save-daily", "--account-size", 50000
        ),
        "gone": gone,
        "out": root / "account_out",
    }


def _refused(runs, *picks, **options):
    options.setdefault("output_dir", str(runs["out"]))
    with pytest.raises(Exit) as info:
        account.body(Context(), pick=list(picks), samples=200, **options)
    message = str(info.value.message)
    assert info.value.code == 2
    assert message.startswith("error: ") and "\n" not in message
    assert not runs["out"].exists()  # nothing written
    return message


def _pick(runs, name, symbol):
    return f"{runs[name]}:group_{symbol}_001:1"


def test_an_unknown_program(runs):
    message = _refused(runs, _pick(runs, "ger", "GER40"), program="the5ers_high_stake")

    assert (
        "--program the5ers_high_stake: unknown program (did you mean 'the5ers_high_stakes'?)"
        in message
    )


def test_a_pick_whose_run_cannot_give_its_trades(runs):
    message = _refused(runs, _pick(runs, "gone", "GER40"), _pick(runs, "xau", "XAUUSD"))

    assert f"--pick {_pick(runs, 'gone', 'GER40')}" in message
    assert "no compact trades" in message and "made without --save-daily" in message
    assert "data file is gone" in message


def test_two_picks_of_one_symbol(runs):
    message = _refused(runs, _pick(runs, "ger", "GER40"), f"{runs['ger']}:group_GER40_001:2")

    assert "symbol GER40 twice" in message


def test_runs_over_different_periods(runs):
    message = _refused(runs, _pick(runs, "ger", "GER40"), _pick(runs, "xau_dates", "XAUUSD"))

    assert "start_date 2024-01-09 is not GER40's 2024-01-08" in message
    assert "different data periods" in message


def test_incompatible_account_sizes(runs):
    message = _refused(runs, _pick(runs, "ger", "GER40"), _pick(runs, "xau_size", "XAUUSD"))

    assert "account_size 50000 of the run is not the program's account_size 100000" in message


@pytest.mark.parametrize(
    "pick, options, expected",
    [
        ("{ger}:group_GER40_001", {}, "expected OUT:GROUP:COMBO"),
        ("{ger}:nope:1", {}, "--group nope: not in the results"),
        ("{ger}:group_GER40_001:9", {}, "--combo 9: group group_GER40_001 has 4 combinations"),
        (
            "{ger}:group_GER40_001:1",
            {"risk_per_symbol": "1000,800"},
            "--risk-per-symbol 1000,800: 2 values for 1 picks",
        ),
        (
            "{ger}:group_GER40_001:1",
            {"risk_per_symbol": "-5"},
            "--risk-per-symbol -5: '-5' must be a number > 0",
        ),
        (
            "{ger}:group_GER40_001:1",
            {"risk_levels": "1:0.5:0.1"},
            "--risk-levels 1:0.5:0.1: need STEP > 0 and STOP >= START",
        ),
        (
            "{ger}:group_GER40_001:1",
            {"max_breach": 1.5},
            "--max-breach 1.5: a probability in [0, 1]",
        ),
        (
            "{ger}:group_GER40_001:1",
            {"programs": "/nonexistent/p.yaml"},
            "--programs /nonexistent/p.yaml: not found",
        ),
    ],
)
def test_malformed_options(runs, pick, options, expected):
    message = _refused(runs, pick.format(ger=runs["ger"]), **options)

    assert expected in message
