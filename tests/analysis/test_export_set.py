"""`invoke export-set` writes a group as an MT5 tester optimisation .set (UTF-16 LE with a
byte-order mark, CRLF): compared with files written out by hand; a group that is not a
grid of ranges (uneven steps, constraints that drop combinations, a text input that varies
under the promote encoding) is refused with one line, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest
from invoke import Context
from invoke.exceptions import Exit

from tasks.crosscheck import export_set

GROUPS = {
    "symbol": "GER40",
    "groups": [
        {
            "group_id": "A",
            "params": {"ib_start": "09:00", "ib_end": "10:00", "max_trades_per_day": 2},
            "grid": {
                "sl_mult": [1.0, 0.5, 0.75, 1.25],  # unsorted on purpose
                "tp_mult": [1, 2, 3],
                "news_filter": [False, True],
            },
        },
        {
            "group_id": "B",
            "params": {"weekdays": [0, 2, 4]},
            "grid": {
                "ib_end": ["09:30", "10:00", "10:30"],
                "direction": ["both", "short"],
                "sl_mult": [0.5, 1.0],
                "max_trades_per_day": [1, 2, 3],
            },
        },
        {"group_id": "uneven", "grid": {"sl_mult": [0.5, 0.75, 1.0, 1.5]}},
        {
            "group_id": "constrained",
            "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [0.5, 1.0]},
            "constraints": ["tp_mult >= sl_mult"],
        },
        {
            "group_id": "harmless",
            "grid": {"sl_mult": [0.5, 1.0], "tp_mult": [1.0, 2.0]},
            "constraints": ["tp_mult >= sl_mult"],
        },
        {"group_id": "weekdays", "grid": {"weekdays": [[0, 1], [2, 3], [4]]}},
    ],
}

# Written out by hand from GROUPS and the GER40 defaults (docs/ANALYSIS.md, "MT5 cross-check").
EXPECTED_A = (
    "; ibsweep export-set: GER40 group A of groups.json, 24 combinations\r\n"
    "; optimise: sl_mult, tp_mult, news_filter; encoding promote (docs/ANALYSIS.md, "
    "MT5 cross-check)\r\n"
    "; times are the session time zone's (Europe/Berlin)\r\n"
    "InpIbStart=09:00\r\n"
    "InpIbEnd=10:00\r\n"
    "InpTradeEnd=17:30\r\n"
    "InpCloseTime=22:00\r\n"
    "InpDirection=both\r\n"
    "InpEntryBuffer=0.0||0.0||0||0.0||N\r\n"
    "InpSlMult=0.5||0.5||0.25||1.25||Y\r\n"
    "InpTpMult=1.0||1.0||1.0||3.0||Y\r\n"
    "InpMinIb=0.0||0.0||0||0.0||N\r\n"
    "InpMaxIb=0.0||0.0||0||0.0||N\r\n"
    "InpMaxTradesPerDay=2||2||0||2||N\r\n"
    "InpWeekdays=0,1,2,3,4\r\n"
    "InpNewsFilter=false||false||0||true||Y\r\n"
    "InpNewsBefore=15.0||15.0||0||15.0||N\r\n"
    "InpNewsAfter=15.0||15.0||0||15.0||N\r\n"
    "InpRisk=1000.0||1000.0||0||1000.0||N\r\n"
)
EXPECTED_B_NUMERIC = (
    "; ibsweep export-set: GER40 group B of groups.json, 36 combinations\r\n"
    "; optimise: ib_end, direction, sl_mult, max_trades_per_day; encoding numeric "
    "(docs/ANALYSIS.md, MT5 cross-check)\r\n"
    "; times are the session time zone's (Europe/Berlin)\r\n"
    "InpIbStart=540||540||0||540||N\r\n"  # 09:00
    "InpIbEnd=570||570||30||630||Y\r\n"  # 09:30, 10:00, 10:30
    "InpTradeEnd=1050||1050||0||1050||N\r\n"  # 17:30
    "InpCloseTime=1320||1320||0||1320||N\r\n"  # 22:00
    "InpDirection=0||0||2||2||Y\r\n"  # both (0), short (2)
    "InpEntryBuffer=0.0||0.0||0||0.0||N\r\n"
    "InpSlMult=0.5||0.5||0.5||1.0||Y\r\n"
    "InpTpMult=1.0||1.0||0||1.0||N\r\n"
    "InpMinIb=0.0||0.0||0||0.0||N\r\n"
    "InpMaxIb=0.0||0.0||0||0.0||N\r\n"
    "InpMaxTradesPerDay=1||1||1||3||Y\r\n"
    "InpWeekdays=21||21||0||21||N\r\n"  # Monday, Wednesday, Friday: 1 + 4 + 16
    "InpNewsFilter=false||false||0||true||N\r\n"
    "InpNewsBefore=15.0||15.0||0||15.0||N\r\n"
    "InpNewsAfter=15.0||15.0||0||15.0||N\r\n"
    "InpRisk=500.0||500.0||0||500.0||N\r\n"
)


@pytest.fixture
def groups(tmp_path):
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(GROUPS))
    return path


def _text(path):
    data = path.read_bytes()
    assert data[:2] == b"\xff\xfe"  # UTF-16 LE byte-order mark, as MT5 saves .set files
    return data[2:].decode("utf-16-le")


def test_a_group_of_ranges_is_the_hand_written_file(groups, capsys):
    target = groups.parent / "A.set"

    export_set.body(Context(), groups_file=str(groups), group="A")

    assert _text(target) == EXPECTED_A
    assert "MT5 optimises sl_mult, tp_mult, news_filter" in capsys.readouterr().out


def test_numeric_encoding_lets_mt5_optimise_times_direction_and_weekdays(groups, tmp_path):
    target = tmp_path / "out" / "b.set"
    target.parent.mkdir()

    export_set.body(
        Context(),
        groups_file=str(groups),
        group="B",
        output=str(target),
        encoding="numeric",
        risk="500",
    )

    assert _text(target) == EXPECTED_B_NUMERIC


def test_constraints_that_drop_nothing_are_fine(groups):
    export_set.body(Context(), groups_file=str(groups), group="harmless")

    assert "InpSlMult=0.5||0.5||0.5||1.0||Y" in _text(groups.parent / "harmless.set")


@pytest.mark.parametrize(
    "group, encoding, expected",
    [
        ("uneven", "promote", "grid sl_mult [0.5, 0.75, 1.0, 1.5] is not an arithmetic range"),
        ("constrained", "promote", "its constraints keep 3 of the grid's 4 combinations"),
        ("B", "promote", "ib_end varies (09:30, 10:00, 10:30) but is a text input"),
        ("weekdays", "promote", "weekdays varies"),
        (
            "weekdays",
            "numeric",
            "grid weekdays [[0, 1] = 3, [2, 3] = 12, [4] = 16] is not an arithmetic range "
            "(gaps 9, 4)",
        ),
        ("nope", "promote", "--group nope: not in"),
        ("A", "binary", "--encoding 'binary': one of promote, numeric"),
    ],
)
def test_what_is_not_a_grid_of_ranges_is_refused(groups, group, encoding, expected):
    with pytest.raises(Exit) as info:
        export_set.body(Context(), groups_file=str(groups), group=group, encoding=encoding)

    message = str(info.value.message)
    assert info.value.code == 2
    assert message.startswith("error: ") and "\n" not in message
    assert expected in message
    assert not list(groups.parent.glob("*.set"))  # nothing written
