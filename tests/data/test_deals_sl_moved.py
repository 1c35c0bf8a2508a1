"""An SL moved by hand: the position's SL as set with the entry (the CSV's entry deal,
the report's opening order) and at the end (the closing deal, the Positions row), and
the SL exit's level from the closing deal ("[sl 16010.00]")."""

import pytest

from backtest.data.deals import read_deals
from tests.data.deals_helpers import SERVER_TZ, fixture


@pytest.mark.parametrize("name", ["sl_moved.csv", "sl_moved.html"])
def test_sl_moved_by_hand_is_seen(name):
    (position,) = read_deals(fixture(name), SERVER_TZ, ["GER40"]).positions

    assert (position.sl_initial, position.sl_final) == (16000.00, 16010.00)
    assert position.sl_moved is True
    assert position.tp_initial == position.tp_final == 16040.00
    (leg,) = position.exits
    assert (leg.reason, leg.level, leg.price, leg.volume) == ("sl", 16010.00, 16009.80, 0.2)
    assert not position.partial
