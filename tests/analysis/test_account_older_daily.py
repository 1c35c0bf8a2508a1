"""Compact trades written before the runs recorded each trade's excursion (issue 23) have
no ``adverse`` array: they are still read, and the account is "closed-trade balance only"
(the equity rules UNKNOWN), never a made-up equity; a file written now carries it."""

import io
import zipfile

import numpy as np

from backtest.analysis.account_picks import build_account, load_trades, parse_pick, read_pick
from backtest.analysis.account_rules import rules_table
from backtest.analysis.challenge import CLOSED_ONLY, Rules
from backtest.core.programs import load_program
from backtest.runner.rundir import DAILY_DIR
from tests.analysis.account_helpers import symbol_run


def _without_adverse(path):
    """The npz at ``path`` rewritten without its ``adverse`` array (an older file)."""
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files if name != "adverse"}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def test_an_older_daily_file_gives_closed_trade_balance_only(tmp_path):
    out = symbol_run(tmp_path / "run", "GER40", "--save-daily")
    daily = out / DAILY_DIR / "group_GER40_001.npz"
    pick = f"{out}:group_GER40_001:1"
    with zipfile.ZipFile(daily) as archive:
        assert "adverse.npy" in archive.namelist()  # written now: the excursions are there
    program = load_program("the5ers_high_stakes")
    now = load_trades(read_pick(parse_pick(pick)))

    _without_adverse(daily)
    older = load_trades(read_pick(parse_pick(pick)))

    assert now.trade_adverse is not None and len(now.trade_adverse) == len(now.trade_pnl)
    assert build_account([now], program).has_equity
    assert older.trade_adverse is None
    assert np.array_equal(older.trade_pnl, now.trade_pnl)  # the rest reads as before
    account = build_account([older], program)
    assert not account.has_equity
    rows = {r["rule"]: r for r in rules_table(account, account.risks, Rules.of(program))}
    assert rows["max daily loss (equity)"]["status"] == "UNKNOWN"
    assert rows["max daily loss (equity)"]["detail"] == CLOSED_ONLY
