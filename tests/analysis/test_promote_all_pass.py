"""All checks pass: the bot gets the JSON and the .set of exactly the combination's
parameters, the previous files go to a dated backup, and the log gets a line."""

import json

import pytest

from backtest.data.mt5_set import read_set_file
from backtest.promotion.botfolder import BACKUP_DIR, LOG_FILE
from tests.analysis.promote_helpers import (
    GROUP,
    PARAMS_COMBO_0,
    backup_copies,
    make_bot,
    promote_task,
    scenario,
    statuses,
)

# The .set lines of combo 0, written out by hand (names: promote.set_inputs defaults).
SET_COMBO_0 = {
    "InpIbStart": "09:00",
    "InpIbEnd": "10:00",
    "InpTradeEnd": "17:30",
    "InpCloseTime": "22:00",
    "InpDirection": "both",
    "InpEntryBuffer": "0.0",
    "InpSlMult": "1.0",
    "InpTpMult": "1.0",
    "InpMinIb": "15.0",
    "InpMaxIb": "0.0",
    "InpMaxTradesPerDay": "1",
    "InpWeekdays": "0,1,2,3,4",
    "InpNewsFilter": "true",
    "InpNewsBefore": "15.0",  # a double input, recorded as float64 (results format 2)
    "InpNewsAfter": "15.0",
    "InpRisk": "1000.0",
}


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return scenario(tmp_path_factory)


def test_every_check_passes_and_the_files_carry_the_combination(s, tmp_path, capsys):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    # Act
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    # Assert
    found = statuses(capsys.readouterr().out)
    assert set(found.values()) == {"PASS", "MANUAL"}
    assert found["watch the first session"] == "MANUAL"
    document = json.loads((bot / "ibsweep_params_GER40.json").read_text())
    assert document["params"] == PARAMS_COMBO_0
    assert document["account"] == "demo"
    assert document["provenance"]["in_sample"]["metrics"]["total_r"] == pytest.approx(7.5)
    assert document["provenance"]["control"]["metrics"]["total_r"] == pytest.approx(9.5)
    assert document["provenance"]["control"]["data"]["source"] == "file"
    assert read_set_file(bot / "ibsweep_params_GER40.set") == SET_COMBO_0


def test_second_promotion_keeps_the_first_files_as_a_dated_backup_and_logs_both(
    s, tmp_path, capsys
):
    # Arrange
    bot = make_bot(tmp_path / "bot")
    promote_task(from_=s.judged(0), group=GROUP, combo="0", bot_dir=bot, config=s.config)
    first = {ext: (bot / f"ibsweep_params_GER40.{ext}").read_bytes() for ext in ("json", "set")}
    # Act
    promote_task(from_=s.judged(1), group=GROUP, combo="1", bot_dir=bot, config=s.config)
    # Assert
    backups = backup_copies(bot / BACKUP_DIR)
    assert [p.suffix for p in backups] == [".json", ".set"]
    assert {p.suffix[1:]: p.read_bytes() for p in backups} == first
    stamp = backups[0].name.split(".", 1)[1].rsplit(".", 1)[0]
    assert len(stamp) == len("20261201T083000.123456Z") and stamp.endswith("Z")
    log = [json.loads(line) for line in (bot / LOG_FILE).read_text().splitlines()]
    assert [(e["event"], e["group_id"], e["combo"], e["account"]) for e in log] == [
        ("promote", GROUP, 0, "demo"),
        ("promote", GROUP, 1, "demo"),
    ]
    assert (log[0]["backup"], log[1]["backup"]) == (None, stamp)
    assert read_set_file(bot / "ibsweep_params_GER40.set")["InpTpMult"] == "2.0"
