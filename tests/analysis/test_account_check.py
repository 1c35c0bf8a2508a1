"""account_check, the entry invoke promote calls for checklist step 5 on the whole
account: FAIL when the combined P(breach) is over the bound or a pick's risk per trade is
over the program's maximum per position, else PASS; the figures for the promote log."""

import pytest

from backtest.analysis.account import account_check
from backtest.analysis.account_picks import AccountError, parse_pick
from tests.analysis.account_helpers import symbol_run


@pytest.fixture(scope="module")
def picks(tmp_path_factory):
    root = tmp_path_factory.mktemp("account_check")
    return [
        parse_pick(f"{symbol_run(root / 'ger', 'GER40', '--save-daily')}:group_GER40_001:1"),
        parse_pick(f"{symbol_run(root / 'xau', 'XAUUSD', '--save-daily')}:group_XAUUSD_001:3"),
    ]


def test_pass_within_the_bound_and_the_risk_per_position(picks):
    check = account_check(picks, max_breach=1.0, n_paths=500)

    assert check.status == "PASS"
    assert check.line().startswith("PASS: combined P(breach)")
    assert check.line().endswith("; equity)")  # the runs' trades carry their excursions
    fig = check.figures
    assert fig["program"] == "the5ers_high_stakes" and fig["rules_read"]
    assert fig["symbols"] == ["GER40", "XAUUSD"]
    assert 0 <= fig["p_breach"] <= 1 and 0 <= fig["p_pass"] <= 1
    assert fig["paths"] == 500 and fig["block"] >= 1 and fig["equity"] is True
    assert [p["risk"] for p in fig["picks"]] == [1000.0, 1000.0]


def test_fail_over_the_breach_bound(picks):
    check = account_check(picks, max_breach=0.0, n_paths=500)

    assert check.figures["p_breach"] > 0.0  # deterministic data: some paths breach
    assert check.status == "FAIL"
    assert "combined P(breach)" in check.reasons[0] and "> 0.0%" in check.reasons[0]


def test_fail_over_the_risk_per_position(picks):
    check = account_check(picks, risks=[2000.0, 800.0], max_breach=1.0, n_paths=500)

    assert check.status == "FAIL"
    assert check.reasons == ("risk per position (GER40): 2 % > 1 %",)


def test_bad_input_raises(picks):
    with pytest.raises(AccountError, match="symbol GER40 twice"):
        account_check([picks[0], picks[0]], n_paths=10)
