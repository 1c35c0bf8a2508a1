"""The files of an optimize run, as a sweep's and the study's own.

- The sweep's io-contract files (:func:`backtest.runner.outputs.write_results`): each batch
  is a group ``trials_N`` (its first trial number), each evaluated trial a row of
  ``results_combos_{SYMBOL}.parquet/.csv`` (combination = its place in the batch), so
  every reader of runs (report, control, trades, robustness, merge) reads an optimize run;
- ``optimize_trials_{SYMBOL}.parquet/.csv``: every trial of the study, whichever process
  ran it: its number, Optuna state, outcome (evaluated, duplicate, infeasible,
  interrupted), values, the row it is (``group_id``, ``combo``) or repeats (``same_as``),
  the parameters as sampled;
- ``optimize_{SYMBOL}.html`` (:mod:`backtest.search.page`);
- the metadata's ``optimize`` block (provenance: sampler, its settings, seed, trials
  wanted and in the study, how many evaluated, the space, the storage and study).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backtest.core.atomic import atomic_write
from backtest.runner.execute import run_metadata
from backtest.runner.outputs import write_results
from backtest.runner.run_log import log

if TYPE_CHECKING:
    from backtest.search.loop import Search
    from backtest.search.setup import Setup

OUTCOMES = ("evaluated", "duplicate", "infeasible", "interrupted")


def trials_paths(out_dir: Path, symbol: str) -> dict[str, Path]:
    return {
        "trials_parquet": Path(out_dir) / f"optimize_trials_{symbol}.parquet",
        "trials_csv": Path(out_dir) / f"optimize_trials_{symbol}.csv",
        "page": Path(out_dir) / f"optimize_{symbol}.html",
    }


def trials_frame(trials: list[Any], names: tuple[str, ...]) -> Any:
    """One row per trial (see the module doc)."""
    import pandas as pd

    from backtest.search.loop import (
        COMBO,
        FIRST,
        GROUP,
        OUTCOME,
        REASON,
        ROWS,
        SAME_AS,
        SHOWN_METRICS,
    )

    rows = []
    for t in trials:
        attrs = t.user_attrs
        row: dict[str, Any] = {
            "trial": t.number,
            "state": t.state.name,
            "outcome": attrs.get(OUTCOME, "other"),
            "group_id": attrs.get(GROUP),
            "combo": attrs.get(COMBO),
            "combo_first": attrs.get(FIRST, attrs.get(COMBO)),
            "combos": attrs.get(ROWS, None if attrs.get(COMBO) is None else 1),
            "same_as": attrs.get(SAME_AS),
            "qualifies": attrs.get("ibsweep:qualifies"),
        }
        values = list(t.values) if t.values is not None else [None] * len(names)
        for name, value in zip(names, values):
            row[f"value_{name}" if len(names) > 1 else "value"] = value
        for name in SHOWN_METRICS:
            row[name] = attrs.get(name)
        row["reason"] = attrs.get(REASON)
        row["params"] = json.dumps(t.params, sort_keys=True, default=str)
        row["run"] = attrs.get("ibsweep:run")
        row["datetime_start"] = _iso(t.datetime_start)
        row["datetime_complete"] = _iso(t.datetime_complete)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("combo", "combo_first", "combos", "same_as", "trades"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    if "qualifies" in frame:
        frame["qualifies"] = frame["qualifies"].astype("boolean")
    return frame


def _iso(value: Any) -> str | None:
    return None if value is None else value.astimezone().isoformat()


def optimize_summary(s: Setup, search: Search, trials: list[Any], records: list[dict]) -> dict:
    """The ``optimize`` block of the metadata: the provenance of the search and its counts
    (the study's, whichever process evaluated; this folder's rows)."""
    from backtest.search.loop import KEY, OUTCOME, ROWS

    outcomes = [t.user_attrs.get(OUTCOME, "other") for t in trials]
    # each distinct evaluated trial's combinations (its exit sub-grid with --trial entry-rule)
    evaluated = {
        t.user_attrs.get(KEY): int(t.user_attrs.get(ROWS, 1))
        for t, o in zip(trials, outcomes)
        if o == "evaluated"
    }
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    header = s.header["optimize"]
    best = _best_trials(trials, s)
    return {
        "trial": s.options.trial,
        "sampler": s.options.sampler,
        "sampler_settings": s.sampler,
        "seed": s.sampler["seed"],
        "n_trials": s.n_trials,
        "batch": s.batch,
        "objectives": header["objectives"],
        "directions": header["directions"],
        "min_trades": header["min_trades"],
        "require_prop_ok": header["require_prop_ok"],
        "space": header["space"],
        "study_name": s.study_name,
        "storage": header["storage"],
        "trials": len(trials),
        "states": states,
        "outcomes": {k: outcomes.count(k) for k in OUTCOMES},
        # N of the deflated Sharpe ratio: the distinct combinations the study evaluated
        "evaluated": sum(evaluated.values()),
        "evaluated_trials": len(evaluated),
        "evaluated_here": sum(int(r["combos_count"]) for r in records),
        "best": best,
        "this_run": {
            **search.counts,
            "workers": search.evaluator.workers if search.evaluator else 0,
            "evaluation_seconds": round(search.evaluator.seconds, 3) if search.evaluator else 0,
        },
    }


def _best_trials(trials: list[Any], s: Setup) -> list[dict[str, Any]]:
    """The best qualifying evaluated trial (one objective) or the Pareto front (several),
    as ``{trial, values, group_id, combo}``."""
    from backtest.search.loop import COMBO, GROUP, OUTCOME

    directions = s.objectives.directions
    done = [
        t
        for t in trials
        if t.user_attrs.get(OUTCOME) == "evaluated"
        and t.user_attrs.get("ibsweep:qualifies")
        and t.values is not None
    ]
    if not done:
        return []
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
    values = np.array([t.values for t in done]) * signs
    if len(directions) == 1:
        chosen = [int(np.argmax(values[:, 0]))]  # ties: the lower trial number
    else:
        dominated = np.array(
            [bool(np.any(np.all(values >= v, axis=1) & np.any(values > v, axis=1))) for v in values]
        )
        chosen = np.flatnonzero(~dominated).tolist()
    return [
        {
            "trial": done[i].number,
            "values": [float(v) for v in done[i].values],
            "group_id": done[i].user_attrs.get(GROUP),
            "combo": done[i].user_attrs.get(COMBO),
        }
        for i in chosen
    ]


def write_outputs(
    s: Setup,
    search: Search,
    storage: Any,
    study: Any,
    records: list[dict[str, Any]],
    workers: int,
    started: str,
    seconds: float,
) -> tuple[dict[str, Path], dict[str, Any]]:
    """Every file of the run (module doc); their paths and the ``optimize`` block."""
    from backtest.search.page import write_page

    plan = s.plan
    out_dir, symbol = plan.out_dir, plan.symbol
    begun = time.perf_counter()
    trials = search.trials()
    summary = optimize_summary(s, search, trials, records)
    summary["this_run"]["seconds"] = round(seconds, 3)
    metadata = run_metadata(plan, workers, started)
    # the search's own: the fast kernel, no trades kept, its daily R with --save-daily
    metadata.update(
        engine="fast",
        save_trades=False,
        save_daily=bool(plan.options.save_daily),
        groups_file=s.space.source,
    )
    metadata["optimize"] = summary
    files = write_results(out_dir, symbol, metadata, records, [])
    paths = trials_paths(out_dir, symbol)
    frame = trials_frame(trials, s.objectives.names)
    atomic_write(paths["trials_parquet"], lambda tmp: frame.to_parquet(tmp, index=False))
    atomic_write(paths["trials_csv"], lambda tmp: frame.to_csv(tmp, index=False))
    files.update({k: v for k, v in paths.items() if k != "page"})
    try:
        files["page"] = write_page(paths["page"], s, trials, summary, metadata)
    except Exception as exc:  # the page is a by-product: the results are written
        log.warning(f"{paths['page']}: not written: {type(exc).__name__}: {exc}")
    if not plan.options.no_report and records:
        from backtest.analysis.report import write_report
        from backtest.runner.rundir import report_path

        try:
            files["report"] = write_report(out_dir, symbol)
        except Exception as exc:
            log.warning(f"{report_path(out_dir, symbol)}: not written: {type(exc).__name__}: {exc}")
    log.info(
        f"results: {summary['trials']} trials in the study, {summary['evaluated']} evaluated "
        f"({summary['evaluated_here']} here), written in {time.perf_counter() - begun:.1f}s "
        f"-> {out_dir}"
    )
    return files, summary
