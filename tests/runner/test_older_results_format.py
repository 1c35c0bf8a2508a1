"""A run of results format 1 (the news windows as int64 columns, whole minutes) stays
readable by today's readers, its news columns widened to float64; resuming it with today's
code is refused with one line naming the folder, both formats and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.analysis.control import compare_control, control_json_path
from backtest.analysis.explore import load_combos
from backtest.analysis.merge import merge_dirs
from backtest.analysis.reconcile_deploy import parameter_set_sha256
from backtest.analysis.report import write_report
from backtest.analysis.sql import connect, query
from backtest.analysis.table import RunTable
from backtest.core.checksum import file_checksum
from backtest.runner.rundir import manifest_path
from backtest.runner.store import PARAM_TYPES, table_digest, table_format
from tests.runner.helpers import (
    SYMBOL,
    checkpoint_lines,
    copy_run,
    run_args,
    run_cli,
    summary_bytes,
    write_groups,
)

NEWS = ("news_before", "news_after")


def _whole(params: dict) -> dict:
    """Parameters as format 1 wrote them in JSON: whole news minutes as integers."""
    return {k: int(v) if k in NEWS else v for k, v in params.items()}


def downgrade(out: Path) -> Path:
    """The committed run in ``out`` rewritten as format-1 code wrote it: int64 news
    columns (one row group per group, as before), whole news minutes in results_full and
    the checkpoint, no ``format_version`` in the checkpoint header, each group's digest
    over its int64 rows, the manifest committing the rewritten files."""
    parquet = out / f"results_combos_{SYMBOL}.parquet"
    stored = pq.ParquetFile(parquet)
    legacy = pa.schema(
        [pa.field(f.name, pa.int64()) if f.name in NEWS else f for f in stored.schema_arrow]
    )
    tables = [stored.read_row_group(n).cast(legacy) for n in range(stored.num_row_groups)]
    with pq.ParquetWriter(parquet, legacy, compression="zstd") as writer:
        for table in tables:
            writer.write_table(table, row_group_size=table.num_rows)
    digests = {
        t.column("group_id")[0].as_py(): table_digest(t.select(list(PARAM_TYPES))) for t in tables
    }

    full_path = out / f"results_full_{SYMBOL}.json"
    full = json.loads(full_path.read_text())
    full["metadata"]["format_version"] = 1
    for group in full["groups"]:
        for combo in group.get("combos") or []:
            combo["params"] = _whole(combo["params"])
    full_path.write_text(json.dumps(full))

    header, *records = checkpoint_lines(out)
    header.pop("format_version", None)
    for record in records:
        record["params_sha256"] = digests[record["group_id"]]
        record["best_combo"]["params"] = _whole(record["best_combo"]["params"])
    lines = [header, *records]
    (out / "checkpoint.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))

    manifest = json.loads(manifest_path(out, SYMBOL).read_text())
    for entry in manifest["files"].values():
        path = out / entry["name"]
        entry.update(size=path.stat().st_size, sha256=file_checksum(path))
    manifest_path(out, SYMBOL).write_text(json.dumps(manifest) + "\n")
    return out


@pytest.fixture(scope="module")
def older(baseline, tmp_path_factory):
    """A copy of the baseline run (news windows 15 minutes) in format 1."""
    out = downgrade(copy_run(baseline.out, tmp_path_factory.mktemp("format1") / "out"))
    assert table_format(pq.ParquetFile(out / f"results_combos_{SYMBOL}.parquet").schema_arrow) == 1
    return out


def test_run_table_reads_it_committed_and_from_its_checkpoint(older, tmp_path):
    # Arrange: the same run, its results not committed (read from its checkpoint records)
    uncommitted = copy_run(older, tmp_path / "uncommitted")
    manifest_path(uncommitted, SYMBOL).unlink()

    # Act
    committed = RunTable.read(older, SYMBOL)
    recovered = RunTable.read(uncommitted, SYMBOL)

    # Assert
    for table in (committed, recovered):
        news = table.columns(list(NEWS))
        assert [f.type for f in news.schema] == [pa.float64(), pa.float64()]
        assert set(news.column("news_before").to_pylist()) == {15.0}
    assert recovered.results["metadata"]["format_version"] == 1
    assert recovered.records([0])[0]["params"]["news_after"] == 15.0


def test_query_explore_and_report_read_it_widened(older):
    # Act
    answer = query(connect(older), "SELECT DISTINCT news_before, news_after FROM combos")
    loaded = load_combos(older / f"results_combos_{SYMBOL}.parquet")
    page = write_report(older, SYMBOL, rerun_data=False)

    # Assert
    assert [f.type for f in answer.schema] == [pa.float64(), pa.float64()]
    assert answer.to_pylist() == [{"news_before": 15.0, "news_after": 15.0}]
    assert loaded.schema.field("news_before").type == pa.float64()
    assert page.is_file()


def test_control_reruns_it(older, dataset, tmp_path):
    # Act
    compare_control(
        older,
        top="100%",
        min_count=1,
        output_dir=tmp_path,
        data_file=str(dataset.bars),
        start_date="2024-01-01",
        end_date="2024-01-05",
    )

    # Assert
    rows = json.loads(control_json_path(tmp_path, SYMBOL).read_text())["rows"]
    assert len(rows) == 16
    assert {(r["news_before"], r["news_after"]) for r in rows} == {(15, 15)}


def test_a_promoted_set_keeps_its_identity_across_the_formats(older):
    # Arrange: a combination as format 1 recorded it and as format 2 reads it
    recorded = RunTable.read(older, SYMBOL).records([0])[0]["params"]
    widened = {**recorded, "news_before": 15.0, "news_after": 15.0}

    # Act
    identities = {parameter_set_sha256(SYMBOL, p, 1000.0) for p in (recorded, widened)}
    fractional = parameter_set_sha256(SYMBOL, {**widened, "news_before": 15.5}, 1000.0)

    # Assert
    assert recorded["news_before"] == 15 and isinstance(recorded["news_before"], int)
    assert len(identities) == 1
    assert fractional not in identities


def test_resuming_it_is_refused_in_one_line_and_nothing_changes(older, dataset, tmp_path):
    # Arrange
    out = copy_run(older, tmp_path / "out")
    before = (summary_bytes(out), (out / "checkpoint.jsonl").read_bytes())

    # Act
    result = run_cli(*run_args(dataset.bars, dataset.groups, out, "--skip-charts"))

    # Assert
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(out) in lines[0]
    assert "results format 1" in lines[0] and "format 2" in lines[0]
    assert "--output-dir" in lines[0] and "--fresh" in lines[0]
    assert (summary_bytes(out), (out / "checkpoint.jsonl").read_bytes()) == before


def test_a_merge_of_two_older_halves_writes_todays_format(dataset, tmp_path):
    # Arrange: the two groups run apart, each folder then in format 1
    halves = []
    for gid in ("group_GER40_001", "group_GER40_002"):
        groups = write_groups(tmp_path / f"{gid}.json", (gid,))
        out = tmp_path / gid
        result = run_cli(*run_args(dataset.bars, groups, out, "--skip-charts"))
        assert result.returncode == 0, result.stderr
        halves.append(downgrade(out))

    # Act
    merge_dirs(halves, tmp_path / "merged", SYMBOL)

    # Assert
    merged = pq.read_table(tmp_path / "merged" / f"results_combos_{SYMBOL}.parquet")
    assert table_format(merged.schema) == 2
    assert merged.num_rows == 16 and set(merged.column("news_after").to_pylist()) == {15.0}
