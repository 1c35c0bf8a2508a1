"""Bad input: one line on stderr naming the file and the field, exit code 2, no output."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.runner.helpers import run_args, run_cli, write_groups


def _groups(path, symbol="GER40", params=None):
    path.write_text(
        json.dumps(
            {
                "symbol": symbol,
                "groups": [
                    {"group_id": "g1", "params": params or {}, "grid": {"sl_mult": [0.5, 1.0]}}
                ],
            }
        )
    )
    return path


def _bars_with(source, path, edit):
    frame = pd.read_parquet(source)
    edit(frame).to_parquet(path)
    return path


def _invalid_high(frame):
    frame.loc[100, "high"] = frame.loc[100, ["open", "close"]].max() - 1.0
    return frame


def _duplicate_time(frame):
    return pd.concat([frame.iloc[:51], frame.iloc[50:51], frame.iloc[51:]], ignore_index=True)


CASES = {
    "typo_param": (
        lambda d, tmp: (d.bars, _groups(tmp / "typo.json", params={"sl_mul": 1.0})),
        "typo.json",
        "sl_mul",
    ),
    "ib_end_after_trade_end": (
        lambda d, tmp: (d.bars, _groups(tmp / "order.json", params={"ib_end": "18:00"})),
        "order.json",
        "trade_end",
    ),
    "unknown_symbol": (
        lambda d, tmp: (d.bars, _groups(tmp / "sym.json", symbol="FOO40")),
        "sym.json",
        "symbol",
    ),
    "news_filter_without_news_file": (
        lambda d, tmp: (d.bars, _groups(tmp / "news.json", params={"news_filter": True})),
        "news.json",
        "news_filter",
    ),
    "invalid_bar": (
        lambda d, tmp: (
            _bars_with(d.bars, tmp / "invalid.parquet", _invalid_high),
            write_groups(tmp / "g.json"),
        ),
        "invalid.parquet",
        "high",
    ),
    "duplicate_time": (
        lambda d, tmp: (
            _bars_with(d.bars, tmp / "dup.parquet", _duplicate_time),
            write_groups(tmp / "g.json"),
        ),
        "dup.parquet",
        "duplicate",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_code_2(case, dataset, tmp_path):
    make, file_name, field = CASES[case]
    bars, groups = make(dataset, tmp_path)
    out = tmp_path / "out"

    result = run_cli(*run_args(bars, groups, out))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert file_name in lines[0] and field in lines[0]
    assert not out.exists()
    assert "INFO - [" not in result.stdout
