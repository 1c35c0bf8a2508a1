"""The analysis tasks turn library errors into exit code 2 and write their files."""

import pytest
from invoke import Context
from invoke.exceptions import Exit

from backtest.runner.groups import expand_group, load_groups_file
from tasks.analysis import charts, make_groups, merge
from tests.analysis.helpers import ok_record, write_run


def test_merge_of_a_missing_directory_exits_2(tmp_path):
    with pytest.raises(Exit) as info:
        merge.body(Context(), dir=[str(tmp_path / "nope")], output=str(tmp_path / "out"))

    assert info.value.code == 2
    assert "nope" in str(info.value.message)


def test_merge_accepts_comma_separated_dirs(tmp_path, capsys):
    first = write_run(tmp_path / "a", [ok_record(1)])
    second = write_run(tmp_path / "b", [ok_record(2)])

    merge.body(Context(), dir=[f"{first},{second}"], output=str(tmp_path / "out"))

    assert "2 groups merged from 2 directories" in capsys.readouterr().out


def test_make_groups_writes_a_groups_file(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  sl_mult: [0.5, 1.0]\n  tp_mult: {start: 1, stop: 3, step: 1}\n")
    output = tmp_path / "groups.json"

    make_groups.body(Context(), symbol="GER40", grid=[str(grid)], groups="2", output=str(output))

    loaded = load_groups_file(output)
    combos = [(c["sl_mult"], c["tp_mult"]) for g in loaded.groups for c in expand_group(g)]
    assert loaded.symbol == "GER40"
    assert sorted(combos) == [(0.5, 1), (0.5, 2), (0.5, 3), (1.0, 1), (1.0, 2), (1.0, 3)]


def test_charts_without_saved_trades_exits_2(tmp_path):
    directory = write_run(tmp_path / "a", [ok_record(1)])

    with pytest.raises(Exit) as info:
        charts.body(Context(), from_=str(directory))

    assert info.value.code == 2 and "--save-trades" in str(info.value.message)
