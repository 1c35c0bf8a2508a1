"""A pick from a run made without --save-daily is re-run from its recorded data and
settings: the same trades as the run's compact trades (their adverse excursions in money
included), and the outputs say where the trades came from."""

import numpy as np

from backtest.analysis.account_picks import load_trades, parse_pick, read_pick
from tests.analysis.account_helpers import symbol_run


def test_a_run_without_compact_trades_is_re_run(tmp_path):
    saved = symbol_run(tmp_path / "saved", "GER40", "--save-daily")
    plain = symbol_run(tmp_path / "plain", "GER40")

    from_file = load_trades(read_pick(parse_pick(f"{saved}:group_GER40_001:3")))
    again = load_trades(read_pick(parse_pick(f"{plain}:group_GER40_001:3")))

    assert from_file.source.startswith("compact trades")
    assert again.source.startswith("re-run with the run's recorded data")
    assert len(again.trade_pnl) > 0
    assert np.array_equal(again.trade_day, from_file.trade_day)
    assert np.array_equal(again.trade_pnl, from_file.trade_pnl)
    assert from_file.trade_adverse is not None and again.trade_adverse is not None
    assert np.array_equal(again.trade_adverse, from_file.trade_adverse)
    assert (again.trade_adverse <= 0).all() and (again.trade_adverse < 0).any()
    assert np.array_equal(again.trading_days, from_file.trading_days)
    assert again.warnings == []  # the re-run's metrics are the recorded ones
