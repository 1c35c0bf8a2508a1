"""The execution settings the deployment goes live with (spec section 8: spread_model,
spread_source, spread_unit, slippage) are printed and recorded in the promotion's JSON
and its log line (issue 20 item 4)."""

import json

import pytest

from backtest.promotion.botfolder import LOG_FILE
from tests.analysis.promote_helpers import GROUP, make_bot, promote_task, scenario


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_the_execution_settings_are_printed_and_recorded(s, tmp_path, capsys):
    # Arrange: the tests' config runs GER40 in the cost model, fixed spread, no slippage
    bot = make_bot(tmp_path / "bot")
    # Act
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    # Assert
    assert "execution: cost, spread fixed, slippage 0\n" in capsys.readouterr().out
    expected = {
        "spread_model": "cost",
        "spread_source": "fixed",
        "spread_unit": 0.01,
        "slippage": 0.0,
        "assumed": False,
    }
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    assert document["execution"] == expected
    (entry,) = [json.loads(line) for line in (bot / LOG_FILE).read_text().splitlines()]
    assert entry["execution"] == expected
