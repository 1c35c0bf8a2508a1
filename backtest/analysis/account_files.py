"""The files ``invoke account`` writes: the JSON (with provenance), the days and risk
CSVs and the HTML page, each written atomically."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backtest.analysis.account import LEVEL_KEYS, Settings
from backtest.analysis.account_picks import Account
from backtest.core.atomic import atomic_write_text
from backtest.core.config import REPO_ROOT, load_config
from backtest.core.programs import Program


def output_paths(out_dir: Path, symbols: Sequence[str], program: Program) -> dict[str, Path]:
    tag = f"{'_'.join(symbols)}_{program.program_id}"
    return {
        "json": out_dir / f"account_{tag}.json",
        "days_csv": out_dir / f"account_days_{tag}.csv",
        "risk_csv": out_dir / f"account_risk_{tag}.csv",
        "html": out_dir / f"account_{tag}.html",
    }


def default_output_dir(symbols: Sequence[str], cfg: dict[str, Any] | None = None) -> Path:
    root = Path((cfg or load_config())["run"]["output_root"])
    root = root if root.is_absolute() else REPO_ROOT / root
    return root / f"account_{'_'.join(symbols)}"


def days_csv(result: dict[str, Any]) -> str:
    """The account's days: date, each symbol's P&L, the account's P&L, balances, losses."""
    h = result["history"]
    symbols = list(h["net_by_symbol"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [
        "start",
        "end",
        "lowest_closed",
        "lowest_equity",
        "daily_loss_closed_pct",
        "daily_loss_equity_pct",
        "overall_loss_pct",
        "drawdown_pct",
    ]
    writer.writerow(
        ["date", *(f"net_{s}" for s in symbols), "net", "trades", *columns, "profitable"]
    )
    for i, date in enumerate(h["date"]):
        row = [date, *(h["net_by_symbol"][s][i] for s in symbols), h["net"][i]]
        row.append(h["trades"][i] if h["trades"] else "")
        for c in columns:
            row.append("" if h[c] is None else h[c][i])
        row.append(int(h["profitable"][i]))
        writer.writerow(row)
    return buffer.getvalue()


def risk_csv(result: dict[str, Any]) -> str:
    """The risk sizing table: one row per level."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    levels = result["risk_sizing"]["levels"]
    symbols = list(levels[0]["risks"]) if levels else []
    writer.writerow(
        [
            "risk_pct",
            *(f"risk_{s}" for s in symbols),
            *(f"sim_{k}" for k in LEVEL_KEYS),
            *(f"replay_{k}" for k in LEVEL_KEYS),
            "within_position_limit",
        ]
    )
    for lv in levels:
        writer.writerow(
            [
                lv["risk_pct"],
                *(lv["risks"][s] for s in symbols),
                *("" if lv["simulation"][k] is None else lv["simulation"][k] for k in LEVEL_KEYS),
                *("" if lv["replay"][k] is None else lv["replay"][k] for k in LEVEL_KEYS),
                lv["within_position_limit"],
            ]
        )
    return buffer.getvalue()


def write_account(
    out_dir: Path, account: Account, result: dict[str, Any], provenance: dict[str, Any]
) -> dict[str, Path]:
    """The JSON (everything, with provenance), the two CSVs and the HTML page, each
    written atomically."""
    from backtest.analysis.account_page import render_account

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = output_paths(out_dir, account.symbols, account.program)
    document = {**result, "provenance": provenance}
    atomic_write_text(paths["json"], json.dumps(document, indent=1, allow_nan=False) + "\n")
    atomic_write_text(paths["days_csv"], days_csv(result))
    atomic_write_text(paths["risk_csv"], risk_csv(result))
    atomic_write_text(paths["html"], render_account(document))
    return paths


def provenance(settings: Settings, command: str | None = None) -> dict[str, Any]:
    from backtest.core.version import code_version

    return {
        "code_version": code_version(),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {
            "samples": settings.n_paths,
            "seed": settings.seed,
            "risk_levels": list(settings.levels),
            "max_breach": settings.max_breach,
            "horizon": settings.horizon,
        },
        "command": command,
    }
