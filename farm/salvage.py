"""Result files from a checkpoint, for a runner that did not commit them.

A runner killed with SIGKILL (or by the OOM killer), or one that crashed on a
full disk, leaves its append-only ``checkpoint.jsonl`` but no committed result
files (:func:`backtest.runner.outputs.commit_problem`); the groups it finished
are still good. :func:`salvage` writes them as a normal, committed result set
that :func:`backtest.analysis.merge.merge_dirs` can merge.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from backtest.runner.outputs import (
    commit_problem,
    read_results,
    results_from_checkpoint,
    write_results,
)
from backtest.runner.rundir import CHECKPOINT_FILE, group_rows


def _ok_ids(results: dict[str, Any]) -> set[str]:
    return {g["group_id"] for g in results["groups"] if g["status"] == "ok"}


def needs_salvage(directory: Path, symbol: str) -> bool:
    """True when the checkpoint holds finished groups that no committed result file has.

    Raises :class:`backtest.runner.outputs.ResultsError` when the checkpoint or the
    committed results are corrupt or malformed (a host whose results are not trusted).
    """
    if not (directory / CHECKPOINT_FILE).exists():
        return False
    checkpointed = results_from_checkpoint(directory, symbol, combos=False)
    if commit_problem(directory, symbol) is not None:
        return bool(checkpointed["groups"])
    committed = read_results(directory, symbol, checkpoint_fallback=False, combos=False)
    return not _ok_ids(checkpointed) <= _ok_ids(committed)


def salvage(directory: Path, out_dir: Path, symbol: str, host: str) -> list[str]:
    """Write ``directory``'s checkpointed finished groups as results in ``out_dir``; their ids."""
    from backtest.runner.host_tools import run_data

    recovered = results_from_checkpoint(directory, symbol, combos=False)
    metadata = {"data": run_data(directory), **recovered["metadata"], "host": host}
    metadata["salvaged_from"] = metadata.pop("recovered_from_checkpoint")
    groups = recovered["groups"]
    raw = _raw_groups(directory)
    failed_raw = [
        {**raw[g["group_id"]], "error": g.get("error")}
        for g in groups
        if g["status"] != "ok" and g["group_id"] in raw
    ]
    write_results(out_dir, symbol, metadata, groups, failed_raw, partial(group_rows, directory))
    return [g["group_id"] for g in groups]


def _raw_groups(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / "groups_filtered.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    groups = data.get("groups", []) if isinstance(data, dict) else data
    return {g["group_id"]: g for g in groups if isinstance(g, dict) and "group_id" in g}
