"""``invoke reconcile --bot-dir``: the promoted parameters and settings of the bot folder,
the account from its .env; the files go to BOT/ibsweep_reconcile/demo/, with provenance
(the deals' and bars' sha256, parameters, settings, code version); the evidence a
promotion check asks for reads them."""

import json

from invoke import Context

from backtest.analysis.reconcile_evidence import PASS, reconcile_evidence
from backtest.core.checksum import file_checksum
from backtest.core.version import code_version
from tasks.reconcile import reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars, write_bot


def test_reconcile_a_bot_folder(tmp_path_factory, tmp_path, capsys):
    params = deployment().params
    bot = write_bot(tmp_path / "bot", params)
    bars = shared_bars(tmp_path_factory)
    deals = fixture("sl_moved.html")

    reconcile.body(
        Context(), deals=str(deals), data_file=str(bars), symbol="GER40", bot_dir=str(bot),
        server_tz=SERVER_TZ,
    )  # fmt: skip

    out = bot / "ibsweep_reconcile" / "demo"
    assert sorted(p.name for p in out.iterdir()) == [
        "reconcile_GER40.csv",
        "reconcile_GER40.html",
        "reconcile_GER40.json",
    ]
    document = json.loads((out / "reconcile_GER40.json").read_text())
    prov = document["provenance"]
    assert prov["deals"]["sha256"] == file_checksum(deals)
    assert prov["deals"]["format"] == "mt5_html_report"
    assert prov["bars"]["sha256"] == file_checksum(bars)
    assert prov["params"] == params
    assert (
        prov["params_sha256"]
        == json.loads((bot / "ibsweep_params_GER40.json").read_text())["params_sha256"]
    )
    assert prov["settings"]["risk"] == 4.0
    assert prov["settings"]["symbol_settings"]["spread_model"] == "bid_ask"
    assert prov["source"]["kind"] == "bot"
    assert "today's config" in prov["source"]["symbol_settings"]
    assert prov["code_version"] == code_version()
    assert prov["server_tz"] == SERVER_TZ
    assert document["summary"]["account"] == "demo"
    assert document["summary"]["match_rate"] == 1.0
    printed = capsys.readouterr().out
    assert "match rate 100.0%" in printed
    assert "slippage exit_sl" in printed

    evidence = reconcile_evidence(bot, "GER40", prov["params_sha256"], "demo")
    assert evidence.status == PASS
    assert evidence.reason.startswith("match rate 100.0% (1 matched, 0 missed, 0 extra)")
