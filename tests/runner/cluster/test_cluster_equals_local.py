"""A run on a Dask cluster writes the files the local pool writes: every combination's
results, the CSV and Parquet tables, the failed groups and the compact trades."""

from __future__ import annotations

from tests.runner.helpers import (
    SYMBOL,
    combos_bytes,
    full_results,
    run_args,
    run_cli,
    summary_bytes,
    without_run_time,
)


def test_cluster_run_equals_the_local_pool_combination_for_combination(
    tls_cluster, dataset, tmp_path
):
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    options = ("--skip-charts", "--no-report", "--save-daily")

    local = run_cli(*run_args(dataset.bars, dataset.groups, local_out, *options))
    remote = run_cli(
        *run_args(dataset.bars, dataset.groups, dask_out, *options),
        "--scheduler-file",
        tls_cluster.scheduler_file,
    )

    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert f"dask cluster {tls_cluster.address}: 2 workers, 2 threads" in remote.stdout
    assert without_run_time(full_results(dask_out)) == without_run_time(full_results(local_out))
    assert full_results(dask_out)["metadata"]["workers"] == 2
    assert summary_bytes(dask_out) == summary_bytes(local_out)
    assert combos_bytes(dask_out) == combos_bytes(local_out)
    for name in (f"results_combos_{SYMBOL}.parquet", f"failed_groups_{SYMBOL}.json"):
        assert (dask_out / name).read_bytes() == (local_out / name).read_bytes(), name
    daily = sorted(p.name for p in (local_out / "daily").iterdir())
    assert daily == ["group_GER40_001.npz", "group_GER40_002.npz"]
    for name in daily:  # written by the client from what the workers returned
        assert (dask_out / "daily" / name).read_bytes() == (local_out / "daily" / name).read_bytes()
