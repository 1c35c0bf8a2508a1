"""Round trip: the emulator's trades, turned into a deals CSV with known slippage, one
trade dropped and one extra added, reconcile to exactly those numbers.

Ten weekdays (W L S C W L S C W N): nine emulator trades. Every deal is written on the
server clock (broker:NY+7), 20 s after the entry bar opens and 30 s after the exit bar
opens, with the entry 5 points worse than the backtest's, an SL exit 3 points worse than
its SL, a TP exit at its TP, a close 2 points worse than the backtest's close. The third
trade is dropped (the bot "missed" it); an extra short is added on the N day at 18:00
local, outside the entry window."""

import numpy as np
import pandas as pd
import pytest

from backtest.analysis.reconcile import Request, reconcile
from backtest.data.bars import day_date
from backtest.data.loaders import load_bars
from backtest.engines.run import raw_trades
from backtest.strategy.trades import REASONS
from tests.analysis.reconcile_helpers import (
    SERVER_TZ,
    deals_rows,
    deployment,
    shared_bars,
    write_deals_csv,
)

DAYS = "WLSCWLSCWN"
ENTRY_SLIP, SL_SLIP, CLOSE_SLIP = 5, 3, 2  # points, worse for the bot
DROPPED = 2


def test_round_trip(tmp_path_factory, tmp_path):
    path = shared_bars(tmp_path_factory, DAYS)
    deploy = deployment(engine="emulator")
    bars = load_bars(path, deploy.spec)
    ((trades, _),) = raw_trades(bars, [deploy.params], deploy.settings, "emulator")
    assert len(trades) == 9
    rows, expected = [], []
    for k, t in enumerate(trades):
        direction, reason = int(t["direction"]), REASONS[int(t["reason"])]
        exit_slip = {"sl": SL_SLIP, "tp": 0, "close": CLOSE_SLIP}[reason]
        expected.append((reason, exit_slip))
        if k == DROPPED:
            continue
        rows += deals_rows(
            position=1000 + k,
            direction=direction,
            entry_utc_ns=int(bars.time_ns[t["entry_bar"]]) + 20 * 10**9,
            entry_price=(int(t["entry"]) + direction * ENTRY_SLIP) * 0.01,
            exit_utc_ns=int(bars.time_ns[t["exit_bar"]]) + 30 * 10**9,
            exit_price=(int(t["exit"]) - direction * exit_slip) * 0.01,
            reason=reason,
            sl=int(t["sl"]) * 0.01,
            tp=int(t["tp"]) * 0.01,
        )
    n_day = day_date(int(bars.day[-1]))
    extra_at = pd.Timestamp(f"{n_day} 18:00", tz="Europe/Berlin").tz_convert("UTC").value
    rows += deals_rows(
        2000, -1, extra_at, 16005.0, extra_at + 600 * 10**9, 16001.0, "close", 16025.0, 15985.0
    )
    deals = write_deals_csv(tmp_path / "deals.csv", rows)

    result = reconcile(Request(deals, path, deploy, server_tz=SERVER_TZ))

    summary = result.summary
    assert summary["counts"] == {"backtest": 9, "live": 9, "matched": 8, "missed": 1, "extra": 1}
    assert summary["match_rate"] == pytest.approx(8 / 10)
    matched = [r for r in result.rows if r["status"] == "matched"]
    assert {r["entry_slippage_points"] for r in matched} == {ENTRY_SLIP}
    assert {r["entry_time_diff_s"] for r in matched} == {20.0}
    assert {r["exit_time_diff_s"] for r in matched} == {30.0}
    for row in matched:
        assert (
            row["exit_slippage_points"]
            == {"sl": SL_SLIP, "tp": 0, "close": CLOSE_SLIP}[row["bt_exit_reason"]]
        )
        assert row["exit_side"] == f"exit_{row['bt_exit_reason']}"
        assert row["lots_diff"] == 0.0
    kept = [e for k, e in enumerate(expected) if k != DROPPED]
    sides = summary["slippage"]["sides"]
    for side, slip in (("sl", SL_SLIP), ("tp", 0), ("close", CLOSE_SLIP)):
        n = sum(1 for reason, _ in kept if reason == side)
        assert sides[f"exit_{side}"]["n"] == n
        if n:
            assert sides[f"exit_{side}"]["median_points"] == slip
            assert sides[f"exit_{side}"]["p95_points"] == slip
    assert (sides["entry"]["n"], sides["entry"]["median_points"], sides["entry"]["p95_points"]) == (
        8,
        5,
        5,
    )
    stops = [ENTRY_SLIP] * 8 + [SL_SLIP] * sum(1 for reason, _ in kept if reason == "sl")
    assert summary["slippage"]["stop_fills"]["median_points"] == float(np.median(stops))
    assert "set symbols.GER40.slippage: 0.05" in summary["slippage"]["suggestion"]

    (missed,) = [r for r in result.rows if r["status"] == "missed"]
    assert (
        missed["bt_entry_time"]
        == pd.Timestamp(int(bars.time_ns[trades[DROPPED]["entry_bar"]]), tz="UTC").isoformat()
    )
    assert [r["code"] for r in missed["reasons"]] == ["not_running"]
    (extra,) = [r for r in result.rows if r["status"] == "extra"]
    assert (extra["live_position"], extra["direction"]) == ("2000", "short")
    assert [r["code"] for r in extra["reasons"]] == ["outside_window"]
    # R differences: the slippage over D = 2000 points, exactly
    for row in matched:
        slip = ENTRY_SLIP + row["exit_slippage_points"]
        assert row["r_diff"] == pytest.approx(-slip / 2000, abs=1e-9)
