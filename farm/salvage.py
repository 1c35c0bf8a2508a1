"""Result files from a checkpoint, for a runner that died before writing them.

A runner killed with SIGKILL (or by the OOM killer) leaves its append-only
``checkpoint.jsonl`` but no final result files; the groups it finished are
still good. :func:`salvage` writes them as a normal result set that
:func:`backtest.analysis.merge.merge_dirs` can merge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backtest.runner.checkpoint import CHECKPOINT_FILE as CHECKPOINT
from backtest.runner.checkpoint import read_checkpoint


def needs_salvage(directory: Path, symbol: str) -> bool:
    """True when the checkpoint holds finished groups the result file lacks."""
    ckpt = directory / CHECKPOINT
    if not ckpt.exists():
        return False
    _, records = read_checkpoint(ckpt)
    ok = {g for g, r in records.items() if r.get("status") == "ok"}
    full = directory / f"results_full_{symbol}.json"
    if not full.exists():
        return bool(records)
    try:
        have = {
            g["group_id"] for g in json.loads(full.read_text())["groups"] if g.get("status") == "ok"
        }
    except (ValueError, KeyError, TypeError):
        return True
    return not ok <= have


def salvage(directory: Path, out_dir: Path, symbol: str, host: str) -> list[str]:
    """Write the checkpoint's finished groups of ``directory`` as results in ``out_dir``; their ids."""
    from backtest.runner.outputs import write_results

    header, records = read_checkpoint(directory / CHECKPOINT)
    settings = header.get("settings") or {}
    metadata = {
        "symbol": header.get("symbol", symbol),
        "period": header.get("period"),
        "start_date": header.get("start_date"),
        "end_date": header.get("end_date"),
        "data_checksum": header.get("data_checksum"),
        "code_version": header.get("code_version"),
        "host": host,
        "engine": settings.get("engine"),
        **{
            k: settings.get(k)
            for k in ("risk", "account_size", "daily_loss_limit_pct", "max_loss_limit_pct")
        },
        "save_trades": settings.get("save_trades"),
        "salvaged_from": str(directory / CHECKPOINT),
    }
    order = [g for g in header.get("group_ids", []) if g in records]
    order += [g for g in records if g not in set(order)]
    groups = [records[g] for g in order]
    raw = _raw_groups(directory)
    failed_raw = [
        {**raw[g["group_id"]], "error": g.get("error")}
        for g in groups
        if g.get("status") != "ok" and g["group_id"] in raw
    ]
    write_results(out_dir, symbol, metadata, groups, failed_raw)
    return order


def _raw_groups(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / "groups_filtered.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    groups = data.get("groups", []) if isinstance(data, dict) else data
    return {g["group_id"]: g for g in groups if isinstance(g, dict) and "group_id" in g}
