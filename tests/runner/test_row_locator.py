"""One row locator, one integrity rule (backtest.runner.rundir): every reader of a group's
rows refuses a part that is not its record's (sha256) and a table row group that is not
its record's (row count, parameter digest), with one line naming the file. Run folders
built by hand from the store's own writers: no runner run needed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtest.analysis.table import RunTable
from backtest.runner.outputs import RunRows, read_results
from backtest.runner.rundir import (
    PartError,
    daily_path,
    folded,
    group_rows,
    part_problem,
    read_daily,
    result_paths,
    write_daily,
    write_part,
)
from backtest.runner.store import ParamsDigest, batch_table, combos_schema, row_record
from backtest.strategy.daily import FIELDS, CompactTrades
from backtest.strategy.metrics import METRIC_KEYS
from backtest.strategy.params import resolve_params

SYMBOL = "GER40"


def _rows(gid: str, sl_mults: list[float]) -> tuple[pa.Table, str]:
    """A group's rows (one per ``sl_mult``) and its parameters' digest."""
    params = [resolve_params(SYMBOL, {"sl_mult": sl}) for sl in sl_mults]
    n = len(params)
    metrics = {name: np.arange(n, dtype=np.float64) for name in METRIC_KEYS}
    for name in ("trades", "max_losing_streak", "skipped"):
        metrics[name] = np.arange(n)
    metrics["prop_ok"] = np.ones(n, dtype=bool)
    digest = ParamsDigest()
    digest.update(params)
    return batch_table(gid, 0, params, metrics), digest.hexdigest()


def _record(out, gid: str, sl_mults: list[float]) -> dict:
    """A checkpoint record of a finished group whose rows are in its part file."""
    table, digest = _rows(gid, sl_mults)
    part = write_part(out, gid, [table])
    return {
        "group_id": gid,
        "status": "ok",
        "combos_count": table.num_rows,
        "best": 0,
        "best_combo": row_record(table, 0),
        "params_sha256": digest,
        "part": part,
    }


def _other_part(out, gid: str, sl_mults: list[float]) -> None:
    """Replace ``gid``'s part by a well-formed one with other parameters (same rows)."""
    table, _ = _rows(gid, sl_mults)
    pq.write_table(table, out / "parts" / f"{gid}.parquet")


def test_run_table_refuses_a_part_changed_after_the_results_were_read(tmp_path):
    # Arrange: the results of a run read from its checkpoint; then its part is replaced
    record = _record(tmp_path, "g1", [1.0, 2.0])
    results = {"metadata": {"symbol": SYMBOL}, "groups": [record]}
    _other_part(tmp_path, "g1", [3.0, 4.0])

    # Act / Assert: the old reader took the part as it found it
    with pytest.raises(PartError, match=r"group g1: .*parts/g1\.parquet is not the file"):
        RunTable(tmp_path, SYMBOL, results).values("sl_mult")


def _folded_run(out):
    """A run whose two groups' rows were folded into its table (their parts gone)."""
    records = [_record(out, "g1", [1.0, 2.0]), _record(out, "g2", [0.5])]
    table_name = result_paths(out, SYMBOL)["parquet"].name
    with pq.ParquetWriter(out / table_name, combos_schema()) as writer:
        for record in records:
            writer.write_table(pq.read_table(out / record["part"]["file"]))
    return [folded(r, table_name) for r in records], out / table_name


def _rewrite_table(path, gid: str, sl_mults: list[float]) -> None:
    """The table with ``gid``'s row group holding other parameters (same count)."""
    old = pq.ParquetFile(path)
    with pq.ParquetWriter(path.with_suffix(".tmp"), combos_schema()) as writer:
        for n in range(old.num_row_groups):
            rows = old.read_row_group(n)
            if rows.column("group_id")[0].as_py() == gid:
                rows, _ = _rows(gid, sl_mults)
            writer.write_table(rows)
    path.with_suffix(".tmp").replace(path)


def test_folded_rows_with_other_parameters_are_refused_by_every_reader(tmp_path):
    # Arrange: group g1's row group now holds other parameters, as many rows as before
    records, table = _folded_run(tmp_path)
    _rewrite_table(table, "g1", [7.0, 8.0])
    results = {"metadata": {"symbol": SYMBOL}, "groups": records}

    # Act / Assert: the old group_rows checked the row count only
    with pytest.raises(PartError, match=r"group g1: .*results_combos_GER40\.parquet.*other param"):
        group_rows(tmp_path, records[0])
    with pytest.raises(PartError, match="other param"):
        RunTable(tmp_path, SYMBOL, results).values("total_r")
    with pytest.raises(PartError, match="other param"):
        RunRows(tmp_path, SYMBOL)(records[0])
    assert "other param" in part_problem(tmp_path, records[0])
    assert group_rows(tmp_path, records[1]).num_rows == 1  # g2 is untouched


def test_folded_rows_read_back_by_group_id(tmp_path):
    # Arrange
    records, _ = _folded_run(tmp_path)

    # Act
    rows = [group_rows(tmp_path, r, ["group_id", "sl_mult"]) for r in records]

    # Assert
    assert rows[0].column("sl_mult").to_pylist() == [1.0, 2.0]
    assert rows[1].column("group_id").to_pylist() == ["g2"]


def test_a_part_with_other_rows_than_its_record_is_refused(tmp_path):
    # Arrange: the record says 3 rows, its part (sha256 and all) holds 2
    record = {**_record(tmp_path, "g1", [1.0, 2.0]), "combos_count": 3}

    # Act / Assert
    with pytest.raises(PartError, match=r"group g1: .*parts/g1\.parquet has 2 rows"):
        group_rows(tmp_path, record)


def test_a_symlinked_part_is_never_read(tmp_path):
    # Arrange: the part moved elsewhere, a link in its place (same bytes, same sha256)
    record = _record(tmp_path, "g1", [1.0])
    part = tmp_path / record["part"]["file"]
    part.rename(tmp_path / "elsewhere.parquet")
    part.symlink_to(tmp_path / "elsewhere.parquet")

    # Act / Assert
    with pytest.raises(PartError, match="symbolic link"):
        group_rows(tmp_path, record)


def test_read_results_from_a_checkpoint_leaves_out_a_changed_part(tmp_path):
    # Arrange: a checkpoint of two finished groups; g1's part replaced
    import json

    records = [_record(tmp_path, "g1", [1.0]), _record(tmp_path, "g2", [2.0])]
    header = {"kind": "header", "symbol": SYMBOL, "group_ids": ["g1", "g2"]}
    lines = [json.dumps(x) for x in (header, *records)]
    (tmp_path / "checkpoint.jsonl").write_text("\n".join(lines) + "\n")
    _other_part(tmp_path, "g1", [5.0])

    # Act
    results = read_results(tmp_path, SYMBOL)

    # Assert
    assert [g["group_id"] for g in results["groups"]] == ["g2"]


def test_daily_trades_round_trip_and_refuse_a_link(tmp_path):
    # Arrange
    compact = CompactTrades(
        **{
            name: np.zeros(2 if name in ("offsets", "skip_offsets") else 1, dtype=np.int64)
            for name in FIELDS
        }
    )
    path = daily_path(tmp_path, "g1")

    # Act
    write_daily(path, compact, np.array([5, 6]))
    back, days = read_daily(path)
    (tmp_path / "link.npz").symlink_to(path)

    # Assert
    assert path == tmp_path / "daily" / "g1.npz"
    assert days.tolist() == [5, 6] and days.dtype == np.int32
    assert all(np.array_equal(getattr(back, n), getattr(compact, n)) for n in FIELDS)
    with pytest.raises(ValueError, match="symbolic link"):
        read_daily(tmp_path / "link.npz")
    with pytest.raises(PartError, match="cannot name a file"):
        daily_path(tmp_path, "../g1")
