"""Sample bars written as a broker would export them: an MT5 file on a given server clock,
or a Parquet file whose times are shifted (the clock-check tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.sample import generate_bars, write_parquet

MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"


def sample_frame(symbol: str, start: str, end: str, seed: int = 5) -> pd.DataFrame:
    """The built-in sample bars (a volatility spike at each cash open) of these dates."""
    return generate_bars(symbol, start, end, seed)


def _wall_clock(utc: pd.DatetimeIndex, server_clock: str) -> pd.DatetimeIndex:
    """The server's wall-clock times (naive) of UTC times: ``broker:NY+H`` is New York
    time + H hours; else an IANA zone (written here independently of the loaders)."""
    if server_clock.startswith("broker:NY"):
        hours = int(server_clock[len("broker:NY") :] or 0)
        return utc.tz_convert("America/New_York").tz_localize(None) + pd.Timedelta(hours=hours)
    return utc.tz_convert(server_clock).tz_localize(None)


def write_mt5_export(frame: pd.DataFrame, path: Path, server_clock: str) -> Path:
    """``frame``'s bars as an MT5 export whose times are on ``server_clock`` (an IANA zone
    or broker:NY+H), as the broker's terminal writes it."""
    wall = _wall_clock(pd.DatetimeIndex(frame["time"]), server_clock)
    table = pd.DataFrame(
        {
            "date": wall.strftime("%Y.%m.%d"),
            "time": wall.strftime("%H:%M"),
            **{c: frame[c].map("{:.2f}".format) for c in ("open", "high", "low", "close")},
            "tickvol": frame["tick_volume"],
            "vol": np.zeros(len(frame), dtype=np.int64),
            "spread": frame["spread"],
        }
    )
    path.write_text(MT5_HEADER + "\n" + table.to_csv(sep="\t", header=False, index=False))
    return path


def write_shifted_parquet(frame: pd.DataFrame, path: Path, hours: int) -> Path:
    """``frame``'s bars with every time ``hours`` later, as if the file's clock were off."""
    write_parquet(frame.assign(time=frame["time"] + pd.Timedelta(hours=hours)), path)
    return path
