"""A server time zone that is off by an hour is named. The bars are an MT5 export on the
broker's real clock (UTC+2 in January) and the deals are the bot's trades on it; both
are read with --server-tz broker:NY+8 (UTC+3), an hour too far ahead: the backtest's IB
hour then holds other bars, and its trades are not the bot's. With every time shifted
+1 h all four match again, and the summary says to try broker:NY+7."""

from backtest.analysis.reconcile import Request, reconcile
from backtest.data.loaders import load_bars
from backtest.engines.run import raw_trades
from backtest.strategy.trades import REASONS
from tests.analysis.reconcile_helpers import deals_rows, deployment, write_deals_csv, write_mt5_bars


def test_a_server_clock_one_hour_off_is_named(tmp_path):
    bars_path = write_mt5_bars(tmp_path / "GER40_M1.csv", "WLWS", tz="Etc/GMT-2")
    deploy = deployment()
    bars = load_bars(bars_path, deploy.spec, "broker:NY+7")
    ((trades, _),) = raw_trades(bars, [deploy.params], deploy.settings, "fast")
    rows = []
    for k, t in enumerate(trades):
        rows += deals_rows(
            3000 + k,
            int(t["direction"]),
            int(bars.time_ns[t["entry_bar"]]) + 10 * 10**9,
            int(t["entry"]) * 0.01,
            int(bars.time_ns[t["exit_bar"]]) + 10 * 10**9,
            int(t["exit"]) * 0.01,
            REASONS[int(t["reason"])],
            int(t["sl"]) * 0.01,
            int(t["tp"]) * 0.01,
            server_tz="broker:NY+7",
        )
    deals = write_deals_csv(tmp_path / "deals.csv", rows)
    assert len(trades) == 4

    right = reconcile(Request(deals, bars_path, deploy, server_tz="broker:NY+7"))
    wrong = reconcile(Request(deals, bars_path, deploy, server_tz="broker:NY+8"))

    assert right.summary["match_rate"] == 1.0
    assert right.summary["server_time_offset"] == {"tried": False}
    offset = wrong.summary["server_time_offset"]
    assert wrong.summary["counts"]["matched"] < 4
    assert offset["best_hours"] == 1
    assert offset["matches_by_hours"]["+1"] == 4
    assert "try broker:NY+7" in offset["text"]
    mismatched = [r for r in wrong.rows if r["status"] != "matched"]
    assert mismatched
    assert all("server_tz" in [x["code"] for x in r["reasons"]] for r in mismatched)
