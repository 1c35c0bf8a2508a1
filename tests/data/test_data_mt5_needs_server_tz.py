"""An MT5 export without a server time zone is refused with a clear message."""

import pytest

from backtest.data.files import DataError
from backtest.data.loaders import load_bars


def test_mt5_without_server_tz_is_refused(write_mt5, ger40):
    path = write_mt5([("2024.01.02", "09:00", 100, 101, 99, 100)])

    with pytest.raises(DataError) as err:
        load_bars(path, ger40)

    assert str(err.value).startswith(
        f"{path}: MetaTrader 5 export in broker server time: give the server's time zone"
    )


def test_unknown_server_tz_is_refused(write_mt5, ger40):
    path = write_mt5([("2024.01.02", "09:00", 100, 101, 99, 100)])

    with pytest.raises(DataError, match="server_tz: 'Mars/Olympus' is not an IANA time zone"):
        load_bars(path, ger40, server_tz="Mars/Olympus")
