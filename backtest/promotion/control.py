"""The control evidence of a promotion: the candidate's row of a control comparison
(``control_vs_in_sample_{SYMBOL}.json``), its figures recomputed from the control trades
(the ``.npz`` beside it), and where it comes from: ``--control-from``, the run folder, an
earlier promotion's control run, or a control run made now for just this combination."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backtest.core.checksum import file_checksum
from backtest.promotion.botfolder import read_json
from backtest.promotion.candidate import Candidate
from backtest.promotion.checklist import Config, PromoteError
from backtest.strategy.params import PARAM_NAMES

PROMOTE_CONTROL_DIR = "promote_control"

# The control figures the checklist reads, recomputed from the control trades.
CONTROL_FIGURES = (
    "trades",
    "total_r",
    "total_pnl",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "prop_ok",
)


@dataclass(frozen=True)
class ControlTrades:
    """A control row's trades as the comparison's ``.npz`` holds them: the control
    trading days (day numbers), the figures recomputed from them, the file's sha256 and
    the one the comparison recorded for it."""

    path: Path
    days: np.ndarray
    figures: dict[str, Any]
    sha256: str
    recorded_sha256: str | None


@dataclass(frozen=True)
class ControlResult:
    """The control-period row of the candidate, the control run's provenance and the
    row's trades (None, ``problem`` saying why, when there are none to read)."""

    path: Path
    metadata: dict[str, Any]
    row: dict[str, Any]
    trades: ControlTrades | None
    problem: str | None = None
    ran_now: bool = False

    @property
    def recorded(self) -> dict[str, Any]:
        """The figures as the comparison's row states them."""
        return {k[4:]: v for k, v in self.row.items() if k.startswith("ctl_")}

    @property
    def metrics(self) -> dict[str, Any]:
        """The figures the checklist judges: recomputed from the trades when there are
        any (a MISSING line blocks the promotion when there are none)."""
        return self.trades.figures if self.trades is not None else self.recorded


def _control_trades(path: Path, meta: dict[str, Any], index: int) -> ControlTrades | str:
    """Row ``index``'s trades and figures from the ``.npz`` beside the comparison
    ``path``, or why there are none."""
    from backtest.analysis.control import row_figures
    from backtest.analysis.panel import settings_of
    from backtest.runner.rundir import read_daily

    trades_path = path.with_suffix(".npz")
    if not trades_path.is_file():
        return f"no {trades_path.name} (the control trades) beside it"
    recorded = (meta.get("control") or {}).get("trades") or {}
    try:
        compact, days = read_daily(trades_path)
        if not index < len(compact):
            return f"{trades_path.name} holds {len(compact)} rows, not row {index + 1}"
        figures = row_figures(compact, days, index, settings_of(meta.get("settings") or {}))
        digest = file_checksum(trades_path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{trades_path.name} is unreadable ({' '.join(str(exc).split())})"
    return ControlTrades(trades_path, days, figures, digest, recorded.get("sha256"))


def control_row(path: Path, candidate: Candidate) -> ControlResult | None:
    """The candidate's row of a ``control_vs_in_sample_{SYMBOL}.json`` with its trades,
    None without one.

    The file must be a control run of this in-sample run (same in-sample data checksum and
    code version) and the row's parameters the candidate's, else PromoteError."""
    document = read_json(path, "control comparison")
    try:
        meta, rows = document["metadata"], document["rows"]
        ins = meta["in_sample"]
    except (KeyError, TypeError):
        raise PromoteError(f"{path}: field 'metadata.in_sample' or 'rows' missing") from None
    for key in ("data_checksum", "code_version"):
        if ins.get(key) != candidate.metadata.get(key):
            raise PromoteError(
                f"{path}: field 'metadata.in_sample.{key}': {ins.get(key)!r} is not the "
                f"in-sample run's {candidate.metadata.get(key)!r} (a control of another run)"
            )
    for index, row in enumerate(rows):
        if row.get("group_id") == candidate.group_id and row.get("combo") == candidate.combo:
            label = f"{path}: row {candidate.group_id} combo {candidate.combo}"
            if any(row.get(n) != candidate.params.get(n) for n in PARAM_NAMES):
                raise PromoteError(f"{label}: parameters differ from the in-sample run's")
            bad = [k for k in CONTROL_FIGURES if not isinstance(row.get(f"ctl_{k}"), int | float)]
            if bad:
                raise PromoteError(f"{label}: field 'ctl_{bad[0]}' is not a number")
            trades = _control_trades(Path(path), meta, index)
            if isinstance(trades, str):
                return ControlResult(Path(path), meta, row, None, trades)
            return ControlResult(Path(path), meta, row, trades)
    return None


@dataclass(frozen=True)
class ControlOptions:
    """What promote's own control run uses (``--control-data-file``,
    ``--control-start-date``, ``--control-end-date``; None: the config's)."""

    data_file: str | None = None
    start_date: str | None = None
    end_date: str | None = None

    def differences(self, found: ControlResult) -> list[str]:
        """The options given that an existing control result was not made with."""
        ctl = found.metadata.get("control") or {}
        path = (ctl.get("data") or {}).get("path")
        differ = []
        if self.data_file is not None and (
            path is None or Path(self.data_file).resolve() != Path(path).resolve()
        ):
            differ.append(f"--control-data-file {self.data_file} (it has {path})")
        for option, given, had in (
            ("--control-start-date", self.start_date, ctl.get("start_date")),
            ("--control-end-date", self.end_date, ctl.get("end_date")),
        ):
            if given is not None and given != had:
                differ.append(f"{option} {given} (it has {had})")
        return differ


def control_folders(candidate: Candidate) -> list[Path]:
    """Where promote looks for the candidate's control result without ``--control-from``:
    the run folder (``invoke control --from OUT``), then promote's own control run."""
    own = candidate.directory / PROMOTE_CONTROL_DIR / f"{candidate.group_id}_combo{candidate.combo}"
    return [candidate.directory, own]


def load_control(
    candidate: Candidate,
    control_from: Path | None,
    cfg: Config,
    options: ControlOptions = ControlOptions(),
) -> ControlResult:
    """The candidate's control result: from ``control_from`` (which must hold it), else
    the one result the run folder and an earlier promotion's control run hold (two:
    PromoteError, choose with ``--control-from``), else a control run of just this
    combination (``options``) into ``OUT/promote_control/{group}_combo{K}/``."""
    from backtest.analysis.control import ControlError, compare_control, control_json_path

    name = control_json_path(Path("."), candidate.symbol).name
    label = f"{candidate.group_id} combo {candidate.combo}"
    if control_from is not None:
        path = Path(control_from) / name
        if not path.is_file():
            raise PromoteError(f"{path}: --control-from: control comparison not found")
        found = control_row(path, candidate)
        if found is None:
            raise PromoteError(
                f"{path}: --control-from: no row for {label} (leave out --control-from to run "
                "control for it)"
            )
        return found
    folders = control_folders(candidate)
    results = [control_row(f / name, candidate) for f in folders if (f / name).is_file()]
    held = [r for r in results if r is not None]
    if len(held) > 1:
        raise PromoteError(
            f"{candidate.directory}: {len(held)} control results hold {label} "
            f"({', '.join(str(r.path.parent) for r in held)}): choose one with --control-from"
        )
    if held:
        differ = options.differences(held[0])
        if differ:
            raise PromoteError(
                f"{held[0].path}: the control result of {label} was made otherwise than "
                f"{'; '.join(differ)}: pass --control-from {held[0].path.parent} to use it, "
                "or move it away to run control again"
            )
        return held[0]
    try:
        compare_control(
            candidate.directory,
            output_dir=folders[-1],
            data_file=options.data_file,
            cfg=cfg,
            symbol=candidate.symbol,
            start_date=options.start_date,
            end_date=options.end_date,
            only=[(candidate.group_id, candidate.combo)],
        )
    except ControlError as exc:
        raise PromoteError(
            f"control for {label} cannot be run: {exc} (choose the control data and dates "
            "with --control-data-file, --control-start-date, --control-end-date, or run "
            "invoke control and pass --control-from)"
        ) from None
    found = control_row(folders[-1] / name, candidate)
    assert found is not None  # compare_control wrote exactly this row
    return ControlResult(found.path, found.metadata, found.row, found.trades, found.problem, True)
