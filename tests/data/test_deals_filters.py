"""Only the bot's deals are taken: its symbol (the broker's spelling, any case) and, in
a deals CSV, its magic numbers; the report has no magic numbers and says so."""

from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture


def test_magic_and_symbol_select_the_other_bot():
    history = read_deals(fixture("partial_close.csv"), SERVER_TZ, ["XAUUSD"], [77])

    (position,) = history.positions
    assert (position.position_id, position.magic, position.symbol) == ("5004", 77, "XAUUSD")
    assert [e.price for e in position.exits] == [2031.50]
    assert history.notes == []


def test_symbol_any_case():
    history = read_deals(fixture("partial_close.csv"), SERVER_TZ, ["ger40"], [24001])
    assert [p.position_id for p in history.positions] == ["5001"]


def test_the_report_has_no_magic_numbers():
    history = read_deals(fixture("partial_close.html"), SERVER_TZ, ["GER40"], [24001])

    assert [p.position_id for p in history.positions] == ["5001"]
    assert any("no magic numbers" in note for note in history.notes)
    assert history.account["account"].startswith("51234567")
