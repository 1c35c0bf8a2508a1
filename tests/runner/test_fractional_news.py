"""A fractional news window (``news_before`` 7.5 minutes) is recorded as run, not truncated:
in the Parquet table, the CSVs, a control re-run's parameters and the ``.set`` files (the
results column was int64 before format 2, which cast 7.5 to 7)."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.analysis.control import compare_control, control_json_path
from backtest.analysis.export_set import export_group
from backtest.core.config import DEFAULTS
from backtest.data.sample import generate_news, write_news_csv
from backtest.promotion.candidate import load_candidate
from backtest.promotion.checklist import Deployment
from backtest.promotion.setfile import set_bytes
from tests.runner.helpers import SYMBOL, full_results, run_args, run_cli

GROUP = "group_GER40_001"
BEFORE, AFTER = 7.5, 2.25


@pytest.fixture(scope="module")
def run(dataset, tmp_path_factory):
    """One run of one group: news filter on, 7.5 minutes before and 2.25 after each event."""
    root = tmp_path_factory.mktemp("fractional_news")
    news = root / "news.csv"
    write_news_csv(generate_news("2024-01-01", "2024-01-31", 5), news)
    groups = root / "groups.json"
    params = {"news_filter": True, "news_before": BEFORE, "news_after": AFTER}
    group = {"group_id": GROUP, "params": params, "grid": {"tp_mult": [1.0, 2.0]}}
    groups.write_text(json.dumps({"symbol": SYMBOL, "groups": [group]}))
    out = root / "out"
    result = run_cli(
        *run_args(dataset.bars, groups, out, "--skip-charts", "--news-file", news),
    )
    assert result.returncode == 0, result.stderr
    return SimpleNamespace(out=out, news=news, groups=groups, bars=dataset.bars)


def _csv_rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_table_the_csvs_and_results_full_record_the_fractional_window(run):
    # Act
    table = pq.read_table(run.out / f"results_combos_{SYMBOL}.parquet")
    combos = _csv_rows(run.out / f"results_combos_{SYMBOL}.csv")
    summary = _csv_rows(run.out / f"results_summary_{SYMBOL}.csv")
    full = full_results(run.out)

    # Assert
    assert table.schema.field("news_before").type == pa.float64()
    assert table.column("news_before").to_pylist() == [BEFORE, BEFORE]
    assert table.column("news_after").to_pylist() == [AFTER, AFTER]
    assert [(r["news_before"], r["news_after"]) for r in combos] == [("7.5", "2.25")] * 2
    assert [(r["news_before"], r["news_after"]) for r in summary] == [("7.5", "2.25")]
    assert full["metadata"]["format_version"] == 2
    assert [c["params"]["news_before"] for c in full["groups"][0]["combos"]] == [BEFORE] * 2


def test_a_control_rerun_runs_and_records_the_fractional_window(run, tmp_path):
    # Act: the control period is the week before the in-sample dates, same bars file
    path = compare_control(
        run.out,
        top="100%",
        min_count=1,
        output_dir=tmp_path,
        data_file=str(run.bars),
        news_file=str(run.news),
        start_date="2024-01-01",
        end_date="2024-01-05",
    )

    # Assert
    rows = json.loads(control_json_path(tmp_path, SYMBOL).read_text())["rows"]
    assert [(r["news_before"], r["news_after"]) for r in rows] == [(BEFORE, AFTER)] * 2
    assert [(r["news_before"], r["news_after"]) for r in _csv_rows(path)] == [("7.5", "2.25")] * 2


def test_the_promoted_and_the_exported_set_files_write_the_fractional_window(run):
    # Arrange: the promoted combination as its run recorded it
    candidate = load_candidate(run.out, GROUP, 0, None)
    deployment = Deployment(SYMBOL, candidate.params, candidate.settings, "demo")

    # Act
    promoted = set_bytes(deployment, DEFAULTS, []).decode("utf-16")
    exported = export_group(run.groups, GROUP, DEFAULTS).text

    # Assert
    assert "InpNewsBefore=7.5\r\n" in promoted and "InpNewsAfter=2.25\r\n" in promoted
    assert "InpNewsBefore=7.5||7.5||0||7.5||N\r\n" in exported
    assert "InpNewsAfter=2.25||2.25||0||2.25||N\r\n" in exported
