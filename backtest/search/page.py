"""``OUT/optimize_{SYMBOL}.html``: the search's own page, self-contained and offline.

What it shows: the provenance (sampler, its settings, seed, trials wanted and run, the
space, the storage and study, the data), the counts (evaluated, duplicates, infeasible:
the number of trials the deflated Sharpe ratio counts), the optimisation history (every
finished trial's value by trial number, the best so far; one chart per objective, and the
Pareto front of the first two objectives of a multi-objective search) and the parameter
importances (Optuna's PED-ANOVA evaluator over the qualifying evaluated trials).

It follows the report's conventions (:mod:`backtest.analysis.report`): jinja2 renders the
template autoescaped, the data goes in as one JSON block (:func:`script_json`), plotly.js
and the page's own script and styles are inlined by :func:`page_assets`, whose
Content-Security-Policy allows exactly those: nothing is fetched, nothing leaves the file.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backtest.analysis.pages import page_assets, script_json
from backtest.core.atomic import atomic_write_text

if TYPE_CHECKING:
    from backtest.search.setup import Setup

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "optimize.html.j2"
SCRIPT = "optimize.js"
STYLE = "optimize.css"
OUTCOME_CODES = {"evaluated": 0, "duplicate": 1, "infeasible": 2, "interrupted": 3}


def _number(value: Any) -> float | None:
    """A finite float, else None (JSON has no NaN or infinity)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def importances(trials: list[Any], names: tuple[str, ...], directions: list[str]) -> dict:
    """Per objective, each parameter's importance (PED-ANOVA, normalised to 1) over the
    qualifying evaluated trials; ``{"error": why}`` where it cannot be computed."""
    import optuna

    from backtest.search.loop import OUTCOME

    usable = [
        t
        for t in trials
        if t.user_attrs.get(OUTCOME) == "evaluated"
        and t.user_attrs.get("ibsweep:qualifies")
        and t.values is not None
        and all(math.isfinite(v) for v in t.values)
    ]
    out: dict[str, Any] = {}
    for k, name in enumerate(names):
        if len(usable) < 2:
            out[name] = {"error": f"{len(usable)} qualifying evaluated trials: too few"}
            continue
        try:
            study = optuna.create_study(
                direction=optuna.study.StudyDirection[directions[k].upper()]
            )
            study.add_trials(
                [
                    optuna.trial.create_trial(
                        params=t.params, distributions=t.distributions, value=t.values[k]
                    )
                    for t in usable
                ]
            )
            found = optuna.importance.get_param_importances(study)
            out[name] = {p: float(v) for p, v in found.items()}
        except Exception as exc:  # a study too small or too uniform for the evaluator
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def page_data(s: Setup, trials: list[Any], summary: dict, metadata: dict) -> dict[str, Any]:
    """What the page's script draws (plain numbers and text)."""
    from backtest.search.loop import OUTCOME

    names = s.objectives.names
    finished = [t for t in trials if t.values is not None]
    data = {
        "objectives": list(names),
        "directions": s.objectives.directions,
        "trial": [t.number for t in finished],
        "outcome": [OUTCOME_CODES.get(t.user_attrs.get(OUTCOME), 3) for t in finished],
        "qualifies": [bool(t.user_attrs.get("ibsweep:qualifies", True)) for t in finished],
        "values": [[_number(t.values[k]) for t in finished] for k in range(len(names))],
        "infeasible": [t.number for t in trials if t.user_attrs.get(OUTCOME) == "infeasible"],
        "importances": importances(trials, names, s.objectives.directions),
        "best": summary["best"],
    }
    return data


def render(s: Setup, trials: list[Any], summary: dict, metadata: dict) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    data = page_data(s, trials, summary, metadata)
    source = metadata.get("data") or {}
    return env.get_template(TEMPLATE).render(
        data_json=jinja2.utils.markupsafe.Markup(script_json(data)),
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        m=metadata,
        o=summary,
        data=source,
        sample=source.get("source") == "sample",
        settings=sorted(summary["sampler_settings"].items()),
        **page_assets(TEMPLATES, SCRIPT, [STYLE]),
    )


def write_page(path: Path, s: Setup, trials: list[Any], summary: dict, metadata: dict) -> Path:
    """Write the page atomically; its path."""
    return atomic_write_text(path, render(s, trials, summary, metadata))
