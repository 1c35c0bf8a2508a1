"""invoke account end to end (a real process): two symbols' picks on one account, the
files it writes, the money of each symbol at the risk asked, and the same numbers from
the same seed."""

import json

import numpy as np
import pytest

from backtest.analysis.account_picks import load_trades, parse_pick, read_pick
from tests.analysis.account_helpers import symbol_run
from tests.analysis.report_helpers import invoke


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("account_task")
    return {
        "ger": f"{symbol_run(root / 'ger', 'GER40', '--save-daily')}:group_GER40_001:1",
        "xau": f"{symbol_run(root / 'xau', 'XAUUSD', '--save-daily')}:group_XAUUSD_001:3",
        "root": root,
    }


def _account(runs, out, *extra):
    result = invoke(
        "account", "--pick", runs["ger"], "--pick", runs["xau"], "--risk-per-symbol",
        "500,1600", "--samples", 2000, "--seed", 7, "--output-dir", out, *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def test_the_account_of_two_symbols(runs):
    out = runs["root"] / "first"

    result = _account(runs, out)

    stem = "GER40_XAUUSD_the5ers_high_stakes"
    files = {p.name for p in out.iterdir()}
    assert files == {
        f"account_{stem}.json",
        f"account_{stem}.html",
        f"account_days_{stem}.csv",
        f"account_risk_{stem}.csv",
    }
    doc = json.loads((out / f"account_{stem}.json").read_text())
    assert [p["symbol"] for p in doc["picks"]] == ["GER40", "XAUUSD"]
    assert [p["risk"] for p in doc["picks"]] == [500.0, 1600.0]
    assert doc["program"]["program_id"] == "the5ers_high_stakes"
    assert "check your program's current rules" in doc["rules_line"]
    # runs with --save-daily keep each trade's adverse excursion: the equity-based daily loss
    assert doc["equity"] == {"available": True, "note": None}
    rules = {row["rule"]: row for row in doc["rules"]}
    assert rules["max daily loss (equity)"]["status"] in ("PASS", "FAIL")
    assert (
        rules["max daily loss (equity)"]["value_pct"]
        >= rules["max daily loss (closed)"]["value_pct"]
    )
    assert doc["simulation"]["paths"] == 2000 and doc["simulation"]["seed"] == 7
    assert doc["simulation"]["block"]["mean_block"] >= 1
    assert len(doc["risk_sizing"]["levels"]) == 20
    assert "closed-trade balance only" not in result.stdout
    assert "replay (" in result.stdout and "simulation (2000 challenges)" in result.stdout

    # each symbol's money is its run's, scaled to the risk asked (the runs risk 1000)
    for symbol, name, factor in (("GER40", "ger", 0.5), ("XAUUSD", "xau", 1.6)):
        pick = load_trades(read_pick(parse_pick(runs[name])))
        by_day = {}
        for day, pnl in zip(pick.trade_day, pick.trade_pnl):
            by_day[int(day)] = by_day.get(int(day), 0.0) + pnl * factor
        net = doc["history"]["net_by_symbol"][symbol]
        assert np.isclose(sum(net), sum(by_day.values()))
        assert sum(1 for v in net if v != 0) == sum(1 for v in by_day.values() if v != 0)
    days_csv = (out / f"account_days_{stem}.csv").read_text().splitlines()
    assert days_csv[0].startswith("date,net_GER40,net_XAUUSD,net,trades,start,end")
    assert len(days_csv) == 1 + doc["calendar"]["days"]


def test_the_same_seed_gives_the_same_numbers(runs):
    first, second = runs["root"] / "a", runs["root"] / "b"
    _account(runs, first)
    _account(runs, second)

    stem = "account_GER40_XAUUSD_the5ers_high_stakes.json"
    a, b = (json.loads((d / stem).read_text()) for d in (first, second))
    for doc in (a, b):
        doc.pop("provenance")
    assert a == b
