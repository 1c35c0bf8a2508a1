"""invoke check-data / sample-data: one-line summaries, library errors as exit code 2."""

import pytest
from invoke import Context, Exit

from tasks.data import check_data, sample_data


def test_check_data_prints_one_line_summary_and_no_spread(write_csv, capsys):
    path = write_csv(["2024-01-02 08:00,100,101,99,100", "2024-01-02 08:01,100,101,99,100"])

    check_data(Context(), file=str(path), symbol="GER40")

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        f"{path}: OK, GER40, 2 bars, 2024-01-02 08:00 UTC .. "
        "2024-01-02 08:01 UTC, 1 trading days, sha256 "
    )
    assert out[1:] == [
        "clock not checked: 0 day(s) with 240 bars or more; 10 are needed to measure the cash open",
        "spread: none in the file (spread_source data needs one on every bar; "
        "fixed uses the symbol's 1 on every bar)",
    ]


def test_check_data_bad_file_exits_2(write_csv):
    path = write_csv(["2024-01-02 08:00,100,99,98,100"])

    with pytest.raises(Exit) as err:
        check_data(Context(), file=str(path), symbol="GER40")

    assert err.value.code == 2 and "row 1" in str(err.value.message)


def test_sample_data_writes_then_reuses(tmp_path, capsys):
    config = tmp_path / "ibsweep.yaml"
    config.write_text(
        f"run:\n  sample_dir: {tmp_path / 'sample'}\n"
        "periods:\n  control:\n    start_date: '2024-01-08'\n"
        "    end_date: '2024-01-09'\n"
    )

    sample_data(Context(), symbol="GER40", period="control", config=str(config))
    sample_data(Context(), symbol="GER40", period="control", config=str(config))

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"GER40 control: wrote {tmp_path / 'sample'}/GER40_M1_2024-01-08_")
    assert "bars, 2024-01-08" in lines[0] and lines[1].startswith("news control: wrote ")
    assert lines[2].startswith("GER40 control: reused ")
