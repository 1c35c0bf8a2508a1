"""Bad input to ``invoke reconcile``: exit 2, one line, nothing written (neither format,
no deals of the symbol, deals outside the bars' dates, a mixed time zone, a deal ticket
twice; and the options)."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from tasks.reconcile import reconcile
from tests.analysis.reconcile_helpers import SERVER_TZ, deployment, fixture, shared_bars, write_bot


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def bot(tmp_path):
    return write_bot(tmp_path / "bot", deployment().params)


def _refused(bot, bars, **options) -> str:
    before = _snapshot(bot)
    base = {"data_file": str(bars), "symbol": "GER40", "bot_dir": str(bot), "server_tz": SERVER_TZ}
    with pytest.raises(Exit) as caught:
        reconcile.body(Context(), **{**base, **options})
    assert caught.value.code == 2
    message = str(caught.value.message)
    assert message.startswith("error: ") and "\n" not in message
    assert _snapshot(bot) == before
    return message


def test_neither_format(bot, tmp_path_factory):
    bars = shared_bars(tmp_path_factory)
    message = _refused(bot, bars, deals=str(bars))  # the bars file given as deals
    assert "neither an MT5 account history report (HTML) nor a deals CSV" in message


def test_no_deals_of_the_symbol(bot, tmp_path_factory):
    message = _refused(
        bot,
        shared_bars(tmp_path_factory),
        deals=str(fixture("partial_close.csv")),
        deal_symbol=["US30"],
    )
    assert "no deals of US30" in message


def test_deals_outside_the_bars_dates(bot, tmp_path_factory):
    bars = shared_bars(tmp_path_factory, "WW")  # 2024-01-08 and 09 only
    message = _refused(bot, bars, deals=str(fixture("opened_twice.csv")))  # 2024-01-10
    assert "deals outside the bars' dates: 2024-01-10T09:00:05.010000+00:00" in message
    assert "2024-01-08..2024-01-09" in message


def test_a_mixed_time_zone(bot, tmp_path_factory, tmp_path):
    lines = fixture("sl_moved.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[2], cells[3] = "2024-01-09T09:00:10Z", ""
    deals = tmp_path / "deals.csv"
    deals.write_text("\n".join([lines[0], ",".join(cells), lines[2]]) + "\n")
    assert "a mixed time zone" in _refused(bot, shared_bars(tmp_path_factory), deals=str(deals))


def test_a_deal_ticket_twice(bot, tmp_path_factory, tmp_path):
    lines = fixture("sl_moved.csv").read_text().splitlines()
    deals = tmp_path / "deals.csv"
    deals.write_text("\n".join(lines + [lines[1]]) + "\n")
    message = _refused(bot, shared_bars(tmp_path_factory), deals=str(deals))
    assert "deal ticket 9011 appears twice" in message


@pytest.mark.parametrize(
    "options, says",
    [
        ({"tolerance": "soon"}, "--tolerance: 'soon' is not a duration"),
        ({"server_tz": "Mars/Olympus"}, "Mars/Olympus"),
        ({"account": "paper"}, "--account: 'paper' must be demo or real"),
        ({"magic": ["x"]}, "--magic"),
        ({"start_date": "2024-13-01"}, "--start-date"),
        ({"from_": "somewhere"}, "either --from OUT --group G --combo K or --bot-dir BOT"),
    ],
)
def test_bad_options(bot, tmp_path_factory, options, says):
    message = _refused(
        bot, shared_bars(tmp_path_factory), deals=str(fixture("sl_moved.csv")), **options
    )
    assert says in message


def test_a_bot_folder_without_promoted_parameters(tmp_path, tmp_path_factory):
    empty = tmp_path / "empty_bot"
    empty.mkdir()
    message = _refused(empty, shared_bars(tmp_path_factory), deals=str(fixture("sl_moved.csv")))
    assert "no promoted parameters of GER40" in message
