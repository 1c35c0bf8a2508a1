"""An optimize run's inputs, validated, and its study (docs/ANALYSIS.md, "Optimize").

Every input is validated before anything runs: the space (:mod:`.space`), the sampler and
objectives, the storage URL, and the run's options, data and output folder by the runner's
own :func:`backtest.runner.plan.prepare` (the data loaded, the clock checked, the execution
settings of spec section 8 applied), exactly as a sweep's. The study is created in its
storage, or joined when it was made with the same settings (:func:`open_study`).
"""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backtest.analysis.make_groups import GridError
from backtest.runner.options import RunOptions
from backtest.runner.plan import RunPlan, default_output_dir, input_errors, prepare
from backtest.runner.run_log import log
from backtest.search.objectives import ObjectiveError, Objectives, objectives_option
from backtest.search.samplers import SAMPLERS, SamplerError, sampler_settings
from backtest.search.space import SearchSpace, SpaceError, load_space
from backtest.search.storage import StorageError, default_url, open_storage, shown_url

BATCH = 256
# What one trial is: a sampled combination, or a sampled entry rule run with every value
# of the space's exit parameters (its exit sub-grid, one kernel call; docs/ANALYSIS.md)
TRIALS = ("combination", "entry-rule")
STUDY_ATTR = "ibsweep"  # the study's settings, which every process joining it must share


class OptimizeError(ValueError):
    """An optimize option that cannot be used; the message names it."""


@dataclass
class OptimizeOptions:
    """``invoke optimize``'s options: its own, then the run options it shares."""

    space: str | Path | None = None
    groups_file: str | Path | None = None
    sampler: str = "tpe"
    trials: int | str | None = None
    objective: str = "total_r"
    objectives: str | None = None
    min_trades: int | str = 0
    require_prop_ok: bool = False
    seed: int | str = 0
    storage: str | None = None
    study_name: str | None = None
    batch: int | str = BATCH
    trial: str = "combination"
    run: dict[str, Any] = field(default_factory=dict)  # RunOptions names -> values


# --------------------------------------------------------------------------- options


def _whole(value: Any, option: str, low: int = 1) -> int:
    try:
        number = int(str(value).replace("_", ""))
    except (TypeError, ValueError):
        number = low - 1
    if number < low:
        raise OptimizeError(f"{option}: {value} must be a whole number >= {low}")
    return number


def _uses_news(space: SearchSpace) -> bool:
    """Whether some combination of the space can have the news filter on."""
    default = bool(space.resolver.defaults["news_filter"])
    for block in space.blocks:
        axis = next((a for a in block.axes if a.name == "news_filter"), None)
        if axis is not None and True in axis.choices:
            return True
        if block.fixed.get("news_filter", default if axis is None else False):
            return True
    return False


@contextmanager
def _one_group_file(space: SearchSpace) -> Any:
    """A groups file of one group (the symbol's defaults, the news filter as the space can
    have it), for :func:`prepare`: the runner validates the run options and loads the
    data as for any sweep."""
    group = {"group_id": "optimize", "params": {"news_filter": _uses_news(space)}}
    with tempfile.TemporaryDirectory(prefix="ibsweep-optimize-") as folder:
        path = Path(folder) / "optimize.json"
        path.write_text(json.dumps({"symbol": space.symbol, "groups": [group]}))
        yield path


@dataclass
class Setup:
    """A validated optimize run, ready to search."""

    options: OptimizeOptions
    space: SearchSpace
    objectives: Objectives
    sampler: dict[str, Any]
    n_trials: int
    batch: int
    plan: RunPlan
    url: str
    study_name: str
    header: dict[str, Any]
    storage: Any = None  # opened when given (the default one lives in OUT)


def setup(opts: OptimizeOptions) -> Setup:
    """Validate every input (bad input raises before anything is written)."""
    from backtest.core import config as config_mod

    run = dict(opts.run)
    if opts.trials is None:
        raise OptimizeError("--trials is required: how many trials the study runs in all")
    n_trials = _whole(opts.trials, "--trials")
    batch = _whole(opts.batch, "--batch")
    seed = _whole(opts.seed, "--seed", 0)
    if opts.sampler not in SAMPLERS:
        raise SamplerError(f"--sampler: {opts.sampler!r} is not one of {', '.join(SAMPLERS)}")
    objectives = objectives_option(
        opts.objective, opts.objectives, opts.min_trades, opts.require_prop_ok
    )
    if opts.trial not in TRIALS:
        raise OptimizeError(f"--trial: {opts.trial!r} is not one of {', '.join(TRIALS)}")
    if opts.trial == "entry-rule" and len(objectives.names) > 1:
        raise OptimizeError(
            "--trial entry-rule: a trial reports the best of its exit sub-grid, one value: "
            "give one --objective, or --trial combination for --objectives"
        )
    cfg = config_mod.load_config(run.get("config"))
    space = load_space(opts.space, opts.groups_file, run.get("symbol"), cfg)
    if opts.trial == "entry-rule":
        space = space.by_entry_rule()
    stepped = all(a.kind != "continuous" for b in space.blocks for a in b.axes)
    sampler = sampler_settings(
        opts.sampler, seed, batch, len(objectives.names), len(space.blocks), stepped
    )
    source = Path(space.source)
    storage = open_storage(opts.storage) if opts.storage else None  # bad URL: before any data
    period = run.get("period") or "in_sample"
    out_dir = Path(
        run.get("output_dir") or default_output_dir(f"{source.stem}_optimize", period, cfg)
    )
    with _one_group_file(space) as groups:
        options = RunOptions(**{**run, "groups_file": groups, "output_dir": out_dir})
        plan = prepare(replace(options, symbol=space.symbol))
    url = opts.storage or default_url(plan.out_dir)
    study_name = opts.study_name or f"{source.stem}_{space.symbol}_{plan.period}"
    header = {k: v for k, v in plan.header.items() if k != "group_ids"}
    header["optimize"] = {
        "space": space.describe(),
        "trial": opts.trial,
        "sampler": opts.sampler,
        "sampler_settings": sampler,
        **objectives.describe(),
        "batch": batch,
        "study_name": study_name,
        "storage": shown_url(url),
    }
    return Setup(
        opts, space, objectives, sampler, n_trials, batch, plan, url, study_name, header, storage
    )


def optimize_errors() -> tuple[type[BaseException], ...]:
    """Bad input of ``invoke optimize`` (exit code 2, one line)."""
    return (*input_errors(), *SEARCH_ERRORS)


# this package's bad input (the runner's own, input_errors(), besides)
SEARCH_ERRORS = (OptimizeError, SpaceError, SamplerError, ObjectiveError, StorageError, GridError)


# --------------------------------------------------------------------------- the study


def _study_attrs(s: Setup) -> dict[str, Any]:
    """What every process sharing the study must share (the data, the code, the space,
    the sampler, the objectives, the execution and money settings)."""
    keep = ("symbol", "period", "start_date", "end_date", "data_checksum", "code_version")
    attrs = {k: s.header[k] for k in keep}
    attrs["settings"] = {
        k: v
        for k, v in s.header["settings"].items()
        if k not in ("save_trades", "save_daily", "drop_invalid", "server_tz")
    }
    attrs["execution"] = {
        k: s.header["symbol_settings"].get(k)
        for k in ("spread_model", "spread_source", "spread_unit", "slippage", "spread")
    }
    optimize = s.header["optimize"]
    attrs["optimize"] = {k: optimize[k] for k in optimize if k not in ("storage", "batch")}
    attrs["optimize"]["space"] = {k: v for k, v in optimize["space"].items() if k != "source"}
    # each process its own seed (hosts sharing a study give different --seed values)
    attrs["optimize"]["sampler_settings"] = {
        k: v for k, v in optimize["sampler_settings"].items() if k != "seed"
    }
    return json.loads(json.dumps(attrs, default=str))


def open_study(s: Setup, fresh: bool) -> tuple[Any, Any]:
    """The storage and the study (created, or joined when its settings are these)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # this run's log says what it does

    storage = s.storage or open_storage(s.url)
    if fresh:
        try:
            optuna.delete_study(study_name=s.study_name, storage=storage)
            log.info(f"--fresh: study {s.study_name} deleted from {shown_url(s.url)}")
        except KeyError:
            pass
    study = optuna.create_study(
        storage=storage,
        study_name=s.study_name,
        directions=s.objectives.study_directions,
        load_if_exists=True,
    )
    if [d.name.lower() for d in study.directions] != s.objectives.directions:
        raise OptimizeError(
            f"--study-name {s.study_name}: the study in {shown_url(s.url)} has other "
            f"directions ({', '.join(d.name.lower() for d in study.directions)}); "
            "choose another --study-name or --fresh"
        )
    mine = _study_attrs(s)
    theirs = study.user_attrs.get(STUDY_ATTR)
    if theirs is None:
        study.set_user_attr(STUDY_ATTR, mine)
    elif theirs != mine:
        diff = _first_difference(theirs, mine, "")
        raise OptimizeError(
            f"--study-name {s.study_name}: the study in {shown_url(s.url)} was made with other "
            f"settings ({diff}); a study is searched with one space, sampler, data and code: "
            "choose another --study-name, or --fresh to start it over"
        )
    return storage, study


def _first_difference(old: Any, new: Any, where: str) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _first_difference(old.get(key), new.get(key), f"{where}.{key}".strip("."))
            if found:
                return found
        return ""
    return "" if old == new else f"{where}: study {old!r}, now {new!r}"
