"""Item 1 of the checklist: the backtests. One small function per line, each taking the
whole :class:`Evidence` and returning one :class:`Check`; :data:`BACKTEST_CHECKS` lists
them in the order of docs/PRODUCTION.md (a new line is one more function there)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from backtest.core.config import SymbolSpec, symbol_spec
from backtest.promotion.candidate import SCORING_SETTINGS
from backtest.promotion.checklist import FAIL, MISSING, PASS, Check, Config
from backtest.promotion.control import CONTROL_FIGURES
from backtest.promotion.evidence import Evidence

# Recorded by the runs only (compared between in-sample and control).
RUN_SETTINGS = ("news_file", "server_tz", "engine", "drop_invalid")


def control_command(evidence: Evidence) -> str:
    """The command that makes the control evidence of the candidate's run."""
    return f"invoke control --from {evidence.candidate.directory}"


def robustness_command(evidence: Evidence) -> str:
    """The command that makes the robustness file (the run needs its compact trades)."""
    from backtest.runner.rundir import DAILY_DIR

    folder = evidence.candidate.directory
    command = f"invoke robustness --from {folder}"
    if (folder / DAILY_DIR).is_dir():
        return command
    return f"the sweep again with --save-daily, then {command}"


def check_positive(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both periods gain after costs (spread and commission are in every trade's R)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
    losing = [
        name
        for name, m in (("in-sample", in_sample), ("control", control))
        if not (m["total_r"] > 0 and m["total_pnl"] > 0)
    ]
    reason = (
        f"in-sample total_r {in_sample['total_r']:+.2f}, pnl {in_sample['total_pnl']:+.2f}; "
        f"control total_r {control['total_r']:+.2f}, pnl {control['total_pnl']:+.2f}"
    )
    if losing:
        return Check(
            "1", "positive after costs", FAIL, f"{' and '.join(losing)} not positive: {reason}"
        )
    return Check("1", "positive after costs", PASS, reason)


def check_trades(evidence: Evidence, cfg: Config) -> Check:
    """(1) At least N trades in each period (promote.min_trades_in_sample / _control)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
    min_in_sample = int(cfg["promote"]["min_trades_in_sample"])
    min_control = int(cfg["promote"]["min_trades_control"])
    reason = (
        f"in-sample {in_sample['trades']} (>= {min_in_sample} needed), "
        f"control {control['trades']} (>= {min_control} needed)"
    )
    few = in_sample["trades"] < min_in_sample or control["trades"] < min_control
    return Check(
        "1", "enough trades", FAIL if few else PASS, f"too few: {reason}" if few else reason
    )


def check_prop_view(evidence: Evidence, cfg: Config) -> Check:
    """(1) The prop-firm view is OK in both periods (spec section 6)."""
    in_sample, control = evidence.candidate.metrics, evidence.control.metrics
    settings = evidence.candidate.settings

    def text(name: str, m: dict[str, Any]) -> str:
        return (
            f"{name} daily loss {m['max_daily_loss_pct']:.2f}% / drawdown "
            f"{m['max_drawdown_pct']:.2f}% {'ok' if m['prop_ok'] else 'BROKEN'}"
        )

    reason = (
        f"{text('in-sample', in_sample)}; {text('control', control)} (limits "
        f"{settings['daily_loss_limit_pct']:g}% / {settings['max_loss_limit_pct']:g}%)"
    )
    ok = bool(in_sample["prop_ok"]) and bool(control["prop_ok"])
    return Check("1", "prop view OK", PASS if ok else FAIL, reason)


def _same_figure(recorded: Any, recomputed: Any) -> bool:
    if isinstance(recorded, bool) or isinstance(recomputed, bool):
        return recorded is recomputed
    try:
        return bool(np.isclose(float(recorded), float(recomputed), rtol=1e-9, atol=1e-9))
    except (TypeError, ValueError):
        return False


def check_control_figures(evidence: Evidence, cfg: Config) -> Check:
    """(1) The control figures judged are its trades': recomputed from the ``.npz``, and
    the comparison's row says the same (an edited summary is caught, not believed)."""
    name, ctl = "control figures", evidence.control
    where = ctl.path.name
    if ctl.trades is None:
        return Check("1", name, MISSING, f"{where}: {ctl.problem}: run {control_command(evidence)}")
    trades = ctl.trades
    if trades.recorded_sha256 != trades.sha256:
        return Check(
            "1",
            name,
            FAIL,
            f"{trades.path.name} is not the trades file {where} was written with "
            f"(sha256 {trades.sha256[:12]}, recorded {str(trades.recorded_sha256)[:12]}): "
            f"run {control_command(evidence)}",
        )
    differ = [
        f"{key} {ctl.recorded.get(key)!r} but its trades give {trades.figures[key]!r}"
        for key in CONTROL_FIGURES
        if not _same_figure(ctl.recorded.get(key), trades.figures[key])
    ]
    if differ:
        return Check("1", name, FAIL, f"{where} says {'; '.join(differ)} (edited?)")
    return Check(
        "1",
        name,
        PASS,
        f"{where}: recomputed from its {trades.figures['trades']} trades in {trades.path.name}",
    )


def check_control_period(evidence: Evidence, cfg: Config) -> Check:
    """(1) The control trading days lie outside the in-sample period (whatever the data
    files: a control inside it is in-sample data)."""
    from backtest.analysis.control import in_sample_days, overlap_text
    from backtest.data.bars import day_date

    name, ctl, meta = "control out of sample", evidence.control, evidence.candidate.metadata
    if ctl.trades is None:
        return Check(
            "1",
            name,
            MISSING,
            f"{ctl.path.name}: {ctl.problem} (its trading days): run {control_command(evidence)}",
        )
    days = ctl.trades.days
    if not len(days):
        return Check("1", name, FAIL, f"{ctl.trades.path.name}: no control trading day")
    inside = in_sample_days(meta, days)
    if len(inside):
        return Check("1", name, FAIL, f"{ctl.path}: {overlap_text(meta, inside)}")
    return Check(
        "1",
        name,
        PASS,
        f"{ctl.path}: {len(days)} trading days {day_date(int(days[0]))}.."
        f"{day_date(int(days[-1]))}, in-sample {meta['start_date']}..{meta['end_date']}",
    )


def setting_values(
    symbol: str, scoring: Any, symbol_settings: Any, run: dict[str, Any] | None
) -> dict[str, Any]:
    """Every setting that changes a number, by name, as one source records it: risk,
    account and limits (``scoring``), the symbol's costs and execution model, and for a
    run (``run``) its news file, server time zone, engine and ``drop_invalid``. A name
    left out: not recorded."""
    scoring = scoring if isinstance(scoring, dict) else {}
    values: dict[str, Any] = {k: float(scoring[k]) for k in SCORING_SETTINGS if k in scoring}
    if isinstance(symbol_settings, dict):
        try:
            values.update(SymbolSpec.from_dict(symbol, symbol_settings).as_dict())
        except (KeyError, TypeError, ValueError):
            pass  # not a readable record: every cost is then "not recorded"
    if run is not None:
        values.update({k: run[k] for k in RUN_SETTINGS if k in run})
        values["drop_invalid"] = bool(values.get("drop_invalid"))
    return values


def settings_by_source(evidence: Evidence, cfg: Config) -> dict[str, dict[str, Any]]:
    """:func:`setting_values` of the in-sample run, the control run and the deployment
    (its risk settings and the configured symbol the bot trades)."""
    cand, meta = evidence.candidate, evidence.control.metadata
    control = meta.get("control") or {}
    deployed = symbol_spec(cand.symbol, cfg).as_dict()
    return {
        "in-sample": setting_values(
            cand.symbol, cand.metadata, cand.metadata.get("symbol_settings"), cand.metadata
        ),
        "control": setting_values(
            cand.symbol, meta.get("settings"), meta.get("symbol_settings"), control
        ),
        "deployment": setting_values(cand.symbol, cand.settings, deployed, None),
    }


def check_same_settings(evidence: Evidence, cfg: Config) -> Check:
    """(1) The in-sample run, the control run and the deployment have the same settings
    wherever a setting changes a number (the news file only with the news filter on; the
    run-only settings are compared between the two runs)."""
    name = "same settings"
    sources = settings_by_source(evidence, cfg)
    news = bool(evidence.candidate.params.get("news_filter"))
    names = [*sources["deployment"], *(k for k in RUN_SETTINGS if k != "news_file" or news)]
    differ, unrecorded = [], []
    for key in names:
        holders = [s for s in sources if s != "deployment" or key not in RUN_SETTINGS]
        unrecorded += [f"{s} {key}" for s in holders if key not in sources[s]]
        values = {s: sources[s][key] for s in holders if key in sources[s]}
        if len({json.dumps(v, sort_keys=True, default=str) for v in values.values()}) > 1:
            differ.append(f"{key}: " + ", ".join(f"{s} {v!r}" for s, v in values.items()))
    if differ:
        return Check("1", name, FAIL, "; ".join(differ))
    if unrecorded:
        return Check(
            "1",
            name,
            MISSING,
            f"not recorded: {', '.join(unrecorded[:3])}{', ...' if len(unrecorded) > 3 else ''}"
            f": run {control_command(evidence)}",
        )
    deployed = sources["deployment"]
    return Check(
        "1",
        name,
        PASS,
        f"{len(names)} settings equal in-sample, control and deployment (risk "
        f"{deployed['risk']:g}, spread {deployed['spread']:g} {deployed['spread_model']}, "
        f"engine {sources['in-sample'].get('engine')})",
    )


def judged_another_run(evidence: Evidence) -> str | None:
    """Why the robustness file is not about the candidate's run (its data checksum and
    code version), None when it is."""
    assert evidence.robustness is not None
    cand, path = evidence.candidate, evidence.robustness_path
    run = (evidence.robustness.get("metadata") or {}).get("run") or {}
    other = [k for k in ("data_checksum", "code_version") if run.get(k) != cand.metadata.get(k)]
    if not other:
        return None
    return (
        f"{path.name} judged another run ({other[0]} {run.get(other[0])!r}, "
        f"this run's {cand.metadata.get(other[0])!r}): run {robustness_command(evidence)}"
    )


def check_robustness(evidence: Evidence, cfg: Config) -> Check:
    """(1) The run's robustness verdict is "distinguishable from luck", about this
    combination and this run; MISSING without a robustness file."""
    name, robustness, path = "robustness verdict", evidence.robustness, evidence.robustness_path
    cand = evidence.candidate
    if robustness is None:
        return Check(
            "1",
            name,
            MISSING,
            f"no {path.name} in the run folder: run {robustness_command(evidence)}",
        )
    other_run = judged_another_run(evidence)
    if other_run:
        return Check("1", name, FAIL, other_run)
    selected = robustness.get("selected") or {}
    about = f"{selected.get('group_id')} combo {selected.get('combo')}"
    verdict = robustness["verdict"]
    other = (selected.get("group_id"), selected.get("combo")) != (cand.group_id, cand.combo)
    note = (
        f"; the promoted {cand.group_id} combo {cand.combo} is not the combination it judged"
        if other
        else ""
    )
    text = f"{path.name}: {about}: {verdict.get('text')} ({verdict.get('rule')}){note}"
    ok = bool(verdict.get("distinguishable_from_luck")) and not other
    return Check("1", name, PASS if ok else FAIL, text)


def _stressed_figures(levels: list[Any], factor: float) -> str:
    """`` (N trades, total R, R per trade at spread X, slippage Y)`` of the level of every
    cost x ``factor`` (empty when the file does not hold them: the verdict decides)."""
    for row in levels:
        try:
            if row["factor"] != factor or row.get("extra_slippage_points"):
                continue
            sel = row["selected"]
            return (
                f" ({sel['trades']} trades, total R {sel['total_r']:+.2f}, R per trade "
                f"{sel['avg_r']:+.3f} at spread {row['spread']:g}, slippage {row['slippage']:g})"
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return ""


def check_cost_stress(evidence: Evidence, cfg: Config) -> Check:
    """(1) The promoted combination survives 1.5x costs: R per trade and total R above 0
    with every cost x 1.5 (the robustness file's ``cost_stress``, docs/ANALYSIS.md "Cost
    stress"). MISSING when there is no such evidence about this combination of this run:
    no robustness file, one made before the cost stress existed, one whose cost stress
    could not be made (the run's data was not there), or one about another run or
    combination."""
    from backtest.analysis.stress import SURVIVAL_FACTOR
    from backtest.core.config import execution_text

    name, robustness, path = "survives 1.5x costs", evidence.robustness, evidence.robustness_path
    cand = evidence.candidate
    command = robustness_command(evidence)
    if robustness is None:
        return Check("1", name, MISSING, f"no {path.name} in the run folder: run {command}")
    stress = robustness.get("cost_stress")
    if stress is None:
        return Check(
            "1", name, MISSING, f"{path.name} has no cost stress (made before it): run {command}"
        )
    if "missing" in stress:
        return Check(
            "1",
            name,
            MISSING,
            f"{path.name}: the cost stress could not be made ({stress['missing']}): run "
            f"{stress.get('command') or command}",
        )
    other_run = judged_another_run(evidence)
    if other_run:
        return Check("1", name, MISSING, other_run)
    first = (stress["combinations"] or [{}])[0]
    if (first.get("group_id"), first.get("combo")) != (cand.group_id, cand.combo):
        return Check(
            "1",
            name,
            MISSING,
            f"{path.name} stressed {first.get('group_id')} combo {first.get('combo')}, not the "
            f"promoted {cand.label}: run invoke robustness with the ranking that selects it",
        )
    figures = _stressed_figures(stress["levels"], SURVIVAL_FACTOR)
    execution = stress.get("execution")
    model = f"; {execution_text(execution)}" if isinstance(execution, dict) else ""
    text = f"{path.name}: {cand.label}: {stress['text']}{figures}{model}"
    return Check("1", name, PASS if stress["survives_1_5x"] else FAIL, text)


def check_real_data(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both runs on real data, never the built-in sample data."""
    from backtest.analysis.control import in_sample_was_sample

    cand, ctl = evidence.candidate, evidence.control
    ctl_data = (ctl.metadata.get("control") or {}).get("data") or {}
    in_data = cand.metadata.get("data") or {}
    sample = [
        n
        for n, s in (
            ("in-sample", in_sample_was_sample(cand.metadata, cfg)),
            ("control", ctl_data.get("source") == "sample"),
        )
        if s
    ]
    reason = (
        f"in-sample {in_data.get('path') or cand.metadata.get('data_file')}; "
        f"control {ctl_data.get('path')}"
    )
    if sample:
        return Check(
            "1",
            "real data",
            FAIL,
            f"{' and '.join(sample)} ran on built-in SAMPLE data (a random walk): {reason}",
        )
    return Check("1", "real data", PASS, reason)


def check_code_version(evidence: Evidence, cfg: Config) -> Check:
    """(1) Both runs by the same code version."""
    in_sample = evidence.candidate.metadata.get("code_version")
    control = evidence.control.metadata.get("code_version")
    if in_sample and in_sample == control:
        return Check("1", "same code version", PASS, f"{in_sample}")
    return Check(
        "1",
        "same code version",
        FAIL,
        f"in-sample {in_sample}, control {control}: re-run both with one version",
    )


# Item 1, in the order of docs/PRODUCTION.md: a new line is one more function here.
BACKTEST_CHECKS: tuple[Callable[[Evidence, Config], Check], ...] = (
    check_positive,
    check_trades,
    check_prop_view,
    check_control_figures,
    check_control_period,
    check_same_settings,
    check_robustness,
    check_cost_stress,
    check_real_data,
    check_code_version,
)


def backtest_checks(evidence: Evidence, cfg: Config) -> list[Check]:
    """Item 1: the in-sample and control results, robustness, settings, data, code."""
    return [check(evidence, cfg) for check in BACKTEST_CHECKS]
