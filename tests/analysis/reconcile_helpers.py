"""Shared pieces of the reconcile tests: hand-made bars whose trades are known, the
deployment that trades them, and the deals fixtures (tests/data/fixtures/deals/).

GER40 (Europe/Berlin, point 0.01, spread 1.00 = 100 points, bid_ask, no commission, no
slippage), risk 4 per trade, so a 2000-point stop buys 4 / (2000 x 0.01) = 0.20 lots.
Every trading day has the IB 09:00-10:00 local: 16000.00 .. 16020.00 (IB 2000 points),
so the buy stop is 16020.00 and the sell stop 16000.00, D = T = 2000 points. Then:

- ``W``: the 10:00 bar rises (ask path 16013 -> 16031) through the buy stop: long at
  16020.00, SL 16000.00, TP 16040.00; the 10:01 bar reaches the TP on the bid: exit
  16040.00 (tp), R = +1.
- ``L``: long as ``W``; the 10:01 bar falls to 15990: SL at 16000.00, R = -1.
- ``S``: the 10:00 bar falls (bid 16008 -> 15990) through the sell stop: short at
  16000.00, SL 16020.00, TP 15980.00 (on the ask); the 10:01 bar's ask falls to 15971:
  exit 15980.00 (tp), R = +1.
- ``C``: long as ``W``, then the price drifts 16025..16030 to the day's last bar
  (10:05): exit at its close 16028.00 (close), R = 800 / 2000 = 0.4.
- ``G``: the 10:00 bar opens through the buy stop (bid 16025.00, ask 16026.00): long
  at the ask open 16026.00, SL 16006.00, TP 16046.00, reached by the 10:01 bar: R = +1.
- ``P``: the 10:00 bar's bid opens at 16019.50, its ask at 16020.50, past the buy stop:
  long at 16020.50, SL 16000.50, TP 16040.50, reached by the 10:01 bar: R = +1.
- ``N``: nothing crosses the IB: no trade.

In January the server clock broker:NY+7 is UTC+2 and Berlin UTC+1: 10:00 local is
09:00 UTC and 11:00 on the server clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.analysis.reconcile_deploy import Deployment, parameter_set_sha256
from backtest.core.config import symbol_spec
from backtest.core.settings import RunSettings
from backtest.strategy.params import resolve_params

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "deals"
SYMBOL = "GER40"
SERVER_TZ = "broker:NY+7"
RISK = 4.0
# The fixtures' days (Monday 2024-01-08 ..), one letter each (module doc).
DAYS = "WLWSWCGPN"
FIRST_DAY = "2024-01-08"


def _ib_bars() -> list[tuple]:
    bars = [(540, 16010, 16020, 16005, 16012), (541, 16010, 16015, 16000, 16012)]
    return bars + [(540 + i, 16010, 16015, 16005, 16012) for i in range(2, 60)]


def day_bars(kind: str) -> list[tuple]:
    """(local minute, open, high, low, close) of one day of ``kind`` (module doc)."""
    ib = _ib_bars()
    after: list[tuple]
    if kind == "W":
        after = [(600, 16012, 16030, 16012, 16030), (601, 16030, 16050, 16030, 16050)]
        after += [(602 + i, 16050, 16052, 16049, 16051) for i in range(4)]
    elif kind == "L":
        after = [(600, 16012, 16030, 16012, 16030), (601, 16030, 16030, 15990, 15990)]
        after += [(602 + i, 15990, 15992, 15989, 15991) for i in range(4)]
    elif kind == "S":
        after = [(600, 16008, 16008, 15990, 15990), (601, 15990, 15990, 15970, 15970)]
        after += [(602 + i, 15970, 15972, 15969, 15971) for i in range(4)]
    elif kind == "C":
        after = [(600, 16012, 16030, 16012, 16030)]
        after += [(601 + i, 16026, 16030, 16025, 16028) for i in range(5)]
    elif kind == "G":
        after = [(600, 16025, 16035, 16025, 16030), (601, 16030, 16050, 16030, 16050)]
        after += [(602 + i, 16050, 16052, 16049, 16051) for i in range(4)]
    elif kind == "P":
        after = [(600, 16019.5, 16030, 16019.5, 16030), (601, 16030, 16050, 16030, 16050)]
        after += [(602 + i, 16050, 16052, 16049, 16051) for i in range(4)]
    elif kind == "N":
        after = [(600 + i, 16010, 16015, 16005, 16012) for i in range(6)]
    else:
        raise ValueError(kind)
    return ib + after


def weekdays(first: str, count: int) -> list[dt.date]:
    """``count`` weekdays from ``first``."""
    date, days = dt.date.fromisoformat(first), []
    while len(days) < count:
        if date.weekday() < 5:
            days.append(date)
        date += dt.timedelta(days=1)
    return days


def bars_frame(days: str = DAYS, first: str = FIRST_DAY) -> pd.DataFrame:
    """UTC M1 bars of the weekdays from ``first``, one ``days`` letter each."""
    rows = []
    for date, kind in zip(weekdays(first, len(days)), days):
        midnight = pd.Timestamp(date, tz="Europe/Berlin")
        for minute, o, h, low, c in day_bars(kind):
            time = (midnight + pd.Timedelta(minutes=minute)).tz_convert("UTC")
            rows.append({"time": time, "open": o, "high": h, "low": low, "close": c})
    return pd.DataFrame(rows)


def write_bars(path: Path, days: str = DAYS, first: str = FIRST_DAY) -> Path:
    """Parquet M1 bars (UTC) of :func:`bars_frame`."""
    from backtest.data.sample import write_parquet

    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(bars_frame(days, first), path)
    return path


def write_mt5_bars(
    path: Path, days: str = DAYS, first: str = FIRST_DAY, tz: str = "Etc/GMT-2"
) -> Path:
    """The same bars as an MT5 export (tab-separated, on a server clock ``tz``)."""
    frame = bars_frame(days, first)
    local = pd.DatetimeIndex(frame["time"]).tz_convert(tz)
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for t, row in zip(local, frame.itertuples()):
        lines.append(
            f"{t:%Y.%m.%d}\t{t:%H:%M:%S}\t{row.open:.2f}\t{row.high:.2f}\t{row.low:.2f}\t"
            f"{row.close:.2f}\t10\t0\t100"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def deployment(engine: str = "fast", news_file: str | None = None, **overrides: Any) -> Deployment:
    """The GER40 defaults (bid_ask, spread 1.00, no slippage unless overridden) with
    ``overrides`` of the parameters; risk 4."""
    spec_keys = {"slippage", "commission", "spread", "spread_model"}
    spec = replace(symbol_spec(SYMBOL), **{k: v for k, v in overrides.items() if k in spec_keys})
    params = resolve_params(SYMBOL, {k: v for k, v in overrides.items() if k not in spec_keys})
    return Deployment(
        symbol=SYMBOL,
        params=params,
        spec=spec,
        settings=RunSettings(risk=RISK),
        news_file=news_file,
        server_tz=None,
        engine=engine,
        account="demo",
        source={"kind": "test"},
        params_sha256=parameter_set_sha256(SYMBOL, params, RISK),
    )


def fixture(name: str) -> Path:
    return FIXTURES / name


def server_epoch(text: str) -> int:
    """A server wall-clock time ``YYYY-MM-DD HH:MM:SS`` as seconds since 1970 on that clock
    (what ``history_deals_get`` returns in ``time``)."""
    return int((pd.Timestamp(text) - pd.Timestamp("1970-01-01")).total_seconds())


_BARS: dict[str, Path] = {}


def shared_bars(tmp_path_factory: Any, days: str = DAYS) -> Path:
    """The session's Parquet bars of ``days`` (written once)."""
    if days not in _BARS:
        _BARS[days] = write_bars(tmp_path_factory.mktemp("bars") / f"bars_{days}.parquet", days)
    return _BARS[days]


DEALS_HEADER = (
    "ticket,order,time,time_msc,type,entry,magic,position_id,reason,volume,price,"
    "commission,swap,profit,fee,symbol,comment,external_id,sl,tp"
)
REASON_CODES = {"sl": 4, "tp": 5, "close": 3}


def server_seconds(utc_ns: int, server_tz: str = SERVER_TZ) -> int:
    """A UTC time as seconds on the server clock ``server_tz`` (``broker:NY+H`` or IANA)."""
    from backtest.data.server_tz import NEW_YORK, broker_offset_hours

    stamp = pd.Timestamp(int(utc_ns), tz="UTC")
    hours = broker_offset_hours(server_tz)
    if hours is not None:
        wall = stamp.tz_convert(NEW_YORK).tz_localize(None) + pd.Timedelta(hours=hours)
    else:
        wall = stamp.tz_convert(server_tz).tz_localize(None)
    return int((wall - pd.Timestamp("1970-01-01")).total_seconds())


def deals_rows(
    position: int,
    direction: int,
    entry_utc_ns: int,
    entry_price: float,
    exit_utc_ns: int,
    exit_price: float,
    reason: str,
    sl: float,
    tp: float,
    lots: float = 0.2,
    server_tz: str = SERVER_TZ,
    comment: str = "ib",
) -> list[str]:
    """The two deals (in, out) of one position as ``history_deals_get`` CSV rows."""
    rows = []
    for n, (when, price, entry, why, kind) in enumerate(
        (
            (entry_utc_ns, entry_price, 0, 3, 0 if direction > 0 else 1),
            (exit_utc_ns, exit_price, 1, REASON_CODES[reason], 1 if direction > 0 else 0),
        )
    ):
        seconds = server_seconds(when, server_tz)
        rows.append(
            f"{position * 10 + n},{position * 10 + n},{seconds},{seconds * 1000},{kind},{entry},"
            f"24001,{position},{why},{lots},{price:.2f},0.0,0.0,0.0,0.0,{SYMBOL},{comment},,"
            f"{sl:.2f},{tp:.2f}"
        )
    return rows


def write_deals_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([DEALS_HEADER, *rows]) + "\n")
    return path


def write_bot(
    folder: Path, params: dict[str, Any], account: str = "DEMO", risk: float = RISK
) -> Path:
    """A bot folder as ``invoke promote`` leaves it (the parts reconcile reads): ``.env``
    and ``ibsweep_params_GER40.json`` with parameters, settings, account, provenance."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".env").write_text(f"ACCOUNT_TYPE={account}\nNEWS_FILE=news.csv\n")
    (folder / "news.csv").write_text("time,currency,impact\n2024-01-01T00:00:00Z,EUR,high\n")
    document = {
        "format": 1,
        "symbol": SYMBOL,
        "account": account.lower(),
        "promoted_at": "2024-01-05T12:00:00+00:00",
        "params": params,
        "params_sha256": parameter_set_sha256(SYMBOL, params, risk),
        "settings": {
            "risk": risk,
            "account_size": 100000.0,
            "daily_loss_limit_pct": 5.0,
            "max_loss_limit_pct": 10.0,
        },
        "provenance": {
            "in_sample": {"dir": str(folder / "no_such_run"), "group_id": "g", "combo": 0}
        },
    }
    import json

    (folder / f"ibsweep_params_{SYMBOL}.json").write_text(json.dumps(document, indent=1))
    return folder
