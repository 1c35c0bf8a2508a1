"""A deal comment with commas, double quotes and angle brackets is read as written: CSV
quoting in the deals CSV, HTML entities in the report."""

import pytest

from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture

COMMENT = 'ib "short", v2 <risk=4>'


@pytest.mark.parametrize("name", ["comment_quotes.csv", "comment_quotes.html"])
def test_comment_with_commas_and_quotes(name):
    history = read_deals(fixture(name), SERVER_TZ, ["GER40"])

    (position,) = history.positions
    assert position.comment == COMMENT
    assert position.direction == -1
    assert (position.entry_price, position.volume) == (15999.90, 0.2)
    assert (position.sl_initial, position.tp_initial) == (16020.00, 15980.00)
    (leg,) = position.exits
    assert (leg.price, leg.reason, leg.level) == (15980.00, "tp", 15980.00)
    entry = next(d for d in history.deals if d.entry == "in")
    assert entry.comment == COMMENT
