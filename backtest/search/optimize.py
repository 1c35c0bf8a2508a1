"""``invoke optimize``: an Optuna search over the fast kernel, in batches, resumable.

The run (docs/ANALYSIS.md, "Optimize"):

1. Every input is validated before anything runs: the space (:mod:`.space`), the sampler
   and objectives, the storage URL, and the run's options, data and output folder by the
   runner's own :func:`backtest.runner.plan.prepare` (the data loaded, the clock checked,
   the execution settings of spec section 8 applied), exactly as a sweep's.
2. The study lives in its storage (default ``sqlite:///OUT/optuna.db``); this process
   samples on an in-memory copy of it (:mod:`.storage` says why) and writes each batch
   there in two transactions.
3. A batch: ``--batch`` trials asked of the sampler; each sampled point is a combination
   (or *infeasible*: never run); a combination already evaluated in the study (or earlier
   in the batch) is a *duplicate*: told the earlier values, never run again; the others
   are evaluated at once by the kernel on the local pool (:mod:`.evaluate`). The
   batch's trials are reserved in the storage (``RUNNING``, their numbers), a small
   pending file names them (``OUT/parts/trials_N.pending.json``), the evaluated rows go
   to the batch's part file (the runner's format: ``OUT/parts/trials_N.parquet``, group
   ``trials_N`` = the batch whose first trial is number N), the trials are finished in
   the storage, and the batch's record goes to the runner's checkpoint. A batch cut by a
   crash is finished on the next start from its part, or failed when it has none: no
   trial is evaluated twice, none is lost once its part is written.
4. When the study has ``--trials`` trials (or on Ctrl-C), the results are written as a
   sweep's (:func:`backtest.runner.outputs.write_results`: every evaluated trial a row of
   ``results_combos_{SYMBOL}``), with ``optimize_trials_{SYMBOL}.parquet/.csv`` (every
   trial of the study: number, outcome, values, its row), the page
   ``optimize_{SYMBOL}.html`` (:mod:`.page`) and the run's HTML report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from backtest.analysis.make_groups import GridError
from backtest.core.atomic import atomic_write
from backtest.runner import rundir, store
from backtest.runner.checkpoint import Checkpoint
from backtest.runner.execute import crash_edge, lock_output, sample_notice
from backtest.runner.group_run import json_ready
from backtest.runner.options import RunOptions
from backtest.runner.plan import RunError, RunPlan, default_output_dir, input_errors, prepare
from backtest.runner.run_log import RunLogging, Signals, log
from backtest.runner.rundir import RUN_LOG
from backtest.search.objectives import ObjectiveError, Objectives, objectives_option
from backtest.search.samplers import SAMPLERS, SamplerError, make_sampler, sampler_settings
from backtest.search.space import SearchSpace, SpaceError, combination_key, load_space
from backtest.search.storage import (
    BatchWriter,
    StorageError,
    default_url,
    open_storage,
    read_trials,
    shown_url,
)
from backtest.strategy.metrics_nb import metrics_dict

BATCH = 256
PENDING = ".pending.json"
# Trial user attributes (what optuna-dashboard shows of each trial).
OUTCOME, GROUP, COMBO, KEY, SAME_AS, REASON = (
    "ibsweep:outcome",
    "ibsweep:group",
    "ibsweep:combo",
    "ibsweep:key",
    "ibsweep:same_as",
    "ibsweep:reason",
)
NUMBER = "ibsweep:number"  # a trial's number in the storage (the in-memory copy's differ)
FAULT_ENV = "IBSWEEP_OPTIMIZE_FAULT"
AWAIT_S = 600.0  # the longest a duplicate waits for another process's evaluation of it
STUDY_ATTR = "ibsweep"  # the study's settings, which every process joining it must share
SHOWN_METRICS = ("total_r", "trades", "sharpe", "max_dd_r")


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
    run: dict[str, Any] = field(default_factory=dict)  # RunOptions names -> values


@dataclass
class OptimizeReport:
    """What an optimize run did."""

    output_dir: Path
    symbol: str
    files: dict[str, Path]
    exit_code: int
    summary: dict[str, Any]
    interrupted: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


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
    cfg = config_mod.load_config(run.get("config"))
    space = load_space(opts.space, opts.groups_file, run.get("symbol"), cfg)
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
    return (
        *input_errors(),
        OptimizeError,
        SpaceError,
        SamplerError,
        ObjectiveError,
        StorageError,
        GridError,
    )


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


def _open_study(s: Setup, fresh: bool) -> tuple[Any, Any]:
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


# --------------------------------------------------------------------------- the search


def _key_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(repr(combination_key(params)).encode()).hexdigest()[:20]


def _durable_json(path: Path, value: Any) -> None:
    """``value`` as JSON at ``path``, on disk before this returns (fsync, rename)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(value, handle)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_write(path, write)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class Search:
    """The search loop of one process: its in-memory study, the storage, the pool."""

    def __init__(self, s: Setup, storage: Any, study: Any, checkpoint: Checkpoint) -> None:
        import optuna

        self.s, self.storage, self.study, self.checkpoint = s, storage, study, checkpoint
        self.out_dir = s.plan.out_dir
        self.parts = self.out_dir / rundir.PARTS_DIR
        self.writer = BatchWriter(storage, study._study_id)
        self.sampler: Any = None  # made by start(), seeded for where the study is
        self.memory = optuna.create_study(directions=s.objectives.study_directions)
        self.known: dict[str, tuple[int, list[float] | None]] = {}  # key hash -> (number, values)
        self.seen_id = -1  # the storage's trials up to this id are read (or ours)
        self.unfinished: set[int] = set()  # others' trials read while running
        self.mine: set[int] = set()  # trial ids this process wrote
        self.attrs: dict[int, dict[str, Any]] = {}  # in-memory trial id -> its user attributes
        self.counts = dict.fromkeys(("evaluated", "duplicate", "infeasible", "interrupted"), 0)
        self.counts["batches"] = 0
        self.save_daily = bool(s.plan.options.save_daily)
        self.evaluator: Any = None
        self.run_id = f"{socket.gethostname()}:{os.getpid()}:{self.out_dir}"

    def start(self) -> int:
        """Read the study into the in-memory copy and make the sampler, seeded with
        ``--seed`` plus the trials the study has (a resumed study does not draw its first
        points again); the number of trials read."""
        read = self.sync()
        settings = dict(self.s.sampler)
        settings["seed"] = int(settings["seed"]) + self.writer.count()
        self.sampler = make_sampler(settings)
        self.memory.sampler = self.sampler
        return read

    # -- the storage's trials into the sampler's copy ------------------------------------

    def sync(self) -> int:
        """Bring the storage's new finished trials (other processes', earlier runs') into
        the in-memory study; how many."""
        from optuna.trial import TrialState

        wanted = set()
        for tid, state in self.writer.states_after(self.seen_id, self.unfinished):
            self.seen_id = max(self.seen_id, tid)
            if tid in self.mine:
                continue
            if state in (TrialState.RUNNING, TrialState.WAITING):
                self.unfinished.add(tid)
            else:
                self.unfinished.discard(tid)
                wanted.add(tid)
        trials = read_trials(self.storage, self.study._study_id, only=wanted)
        for trial in sorted(trials, key=lambda t: t.number):
            self._learn(trial)
            trial.user_attrs[NUMBER] = trial.number  # the copy numbers its trials anew
            self.memory.add_trial(trial)
        return len(trials)

    def trials(self) -> list[Any]:
        """Every finished trial of the study (this process's and those it read), numbered
        as in the storage, in number order."""
        import copy

        self.sync()
        out = []
        for trial in self.memory.get_trials(deepcopy=False):
            attrs = {**trial.user_attrs, **self.attrs.get(trial._trial_id, {})}
            number = attrs.get(NUMBER)  # none: asked once the study was full
            if trial.state.is_finished() and number is not None:
                renumbered = copy.copy(trial)
                renumbered.number = number
                renumbered.user_attrs = attrs
                out.append(renumbered)
        return sorted(out, key=lambda t: t.number)

    def _learn(self, trial: Any) -> None:
        """Remember an evaluated combination of the storage (never evaluated again)."""
        attrs = trial.user_attrs
        if attrs.get(OUTCOME) == "evaluated" and isinstance(attrs.get(KEY), str):
            self.known.setdefault(attrs[KEY], (trial.number, list(trial.values or [])))

    # -- a batch -------------------------------------------------------------------------

    def batch(self, size: int) -> dict[str, Any]:
        """Ask, evaluate and record ``size`` trials; the batch's summary."""
        import optuna

        started = time.perf_counter()
        if hasattr(self.sampler, "new_batch"):
            self.sampler.new_batch(size)
        asked, combos, reasons = [], [], []
        for _ in range(size):
            trial = self.memory.ask()
            combo, reason, _block = self.s.space.sample(trial)
            asked.append(trial)
            combos.append(combo)
            reasons.append(reason)
        frozen = [self.memory._storage.get_trial(t._trial_id) for t in asked]
        keys = [None if c is None else _key_hash(c) for c in combos]
        reserved, earlier = self.writer.reserve(frozen, self.s.n_trials, keys, KEY)
        for trial in asked[len(reserved) :]:  # others filled the study meanwhile
            self.memory.tell(trial, state=optuna.trial.TrialState.FAIL)
        asked, combos, reasons = (
            asked[: len(reserved)],
            combos[: len(reserved)],
            reasons[: len(reserved)],
        )
        if not reserved:
            return {"group_id": None, "numbers": [], "outcomes": [], "values": []}
        ids = [tid for tid, _ in reserved]
        numbers = [n for _, n in reserved]
        self.mine.update(ids)
        gid = f"trials_{numbers[0]:07d}"
        plan = self._plan_batch(gid, numbers, keys[: len(reserved)], reasons, earlier)
        plan["trial_ids"] = ids
        _durable_json(self.parts / f"{gid}{PENDING}", plan)
        rows = [combos[i] for i in plan["rows"]]
        if rows:
            metrics, compact = self.evaluator.evaluate(rows)
            _fault("before-part", self.counts["batches"] + 1)
            if self.save_daily:
                assert compact is not None, "compact trades are kept with --save-daily"
                path = rundir.daily_path(self.out_dir, gid)
                rundir.write_daily(path, compact, self.s.plan.bars.trading_days())
            part = rundir.write_part(self.out_dir, gid, [store.batch_table(gid, 0, rows, metrics)])
            _fault("after-part", self.counts["batches"] + 1)
        self._await_earlier(plan)
        states, values, attrs = self._outcomes(plan, metrics if rows else None)
        for trial, state, value, attr, number, key in zip(
            asked, states, values, attrs, numbers, plan["keys"]
        ):
            # the storage's attributes of this process's trials, beside the in-memory copy
            # (setting them there one by one costs as much as the kernel's evaluation)
            self.attrs[trial._trial_id] = {**attr, KEY: key, NUMBER: number}
            if state == "COMPLETE":
                self.memory.tell(trial, value)
            else:
                self.memory.tell(trial, state=optuna.trial.TrialState[state])
        system = [self.memory._storage.get_trial(t._trial_id).system_attrs for t in asked]
        self.writer.finish(ids, [_state(s) for s in states], values, attrs, system)
        if rows:
            record = _record(gid, rows, metrics, part, plan, started)
            self.checkpoint.add(record)
        (self.parts / f"{gid}{PENDING}").unlink(missing_ok=True)
        kinds = plan["outcomes"]
        for kind in ("evaluated", "duplicate", "infeasible", "interrupted"):
            self.counts[kind] += kinds.count(kind)
        self.counts["batches"] += 1
        return {"group_id": gid, "numbers": numbers, "outcomes": kinds, "values": values}

    def _plan_batch(
        self,
        gid: str,
        numbers: list[int],
        keys: list[str | None],
        reasons: list[str | None],
        earlier: dict[str, int],
    ) -> dict[str, Any]:
        """What happens to each trial of a batch (the pending file: enough to finish the
        batch from its part after a crash). ``earlier``: keys another process reserved
        before (their trial numbers; their values are awaited, :meth:`_await_earlier`)."""
        outcomes: list[str] = []
        row_of: list[int | None] = []
        same_as: list[int | None] = []
        known_values: list[list[float] | None] = []
        rows: list[int] = []
        first: dict[str, int] = {}  # key -> its row in this batch
        for i, key in enumerate(keys):
            if key is None:
                outcomes.append("infeasible")
                row_of.append(None)
                same_as.append(None)
                known_values.append(None)
                continue
            if key in self.known:
                number, values = self.known[key]
                outcomes.append("duplicate")
                row_of.append(None)
                same_as.append(number)
                known_values.append(values)
            elif key in earlier:  # another process is evaluating it
                outcomes.append("duplicate")
                row_of.append(None)
                same_as.append(earlier[key])
                known_values.append(None)
            elif key in first:
                outcomes.append("duplicate")
                row_of.append(first[key])
                same_as.append(numbers[rows[first[key]]])
                known_values.append(None)
            else:
                first[key] = len(rows)
                rows.append(i)
                outcomes.append("evaluated")
                row_of.append(first[key])
                same_as.append(None)
                known_values.append(None)
        return {
            "group_id": gid,
            "numbers": numbers,
            "rows": rows,
            "outcomes": outcomes,
            "row_of": row_of,
            "same_as": same_as,
            "keys": keys,
            "known_values": known_values,
            "reasons": reasons,
            "run": self.run_id,
        }

    def _outcomes(
        self, plan: dict[str, Any], metrics: dict[str, np.ndarray] | None
    ) -> tuple[list[str], list[list[float] | None], list[dict[str, Any]]]:
        """Each trial's state, values and user attributes (evaluated trials learnt)."""
        values_of = qualifies = None
        if metrics is not None:
            values_of, qualifies = self.s.objectives.values(metrics)
        states: list[str] = []
        values: list[list[float] | None] = []
        attrs: list[dict[str, Any]] = []
        gid = plan["group_id"]
        for i, outcome in enumerate(plan["outcomes"]):
            attr: dict[str, Any] = {OUTCOME: outcome, "ibsweep:run": plan["run"]}
            row = plan["row_of"][i]
            if outcome == "infeasible":
                states.append("PRUNED")
                values.append(None)
                attr[REASON] = plan["reasons"][i]
            elif outcome == "interrupted":  # its first evaluation, elsewhere, was cut
                states.append("FAIL")
                values.append(None)
                attr.update({SAME_AS: plan["same_as"][i], REASON: plan["reasons"][i]})
            elif row is None:  # a duplicate of an earlier batch's trial
                states.append("COMPLETE")
                values.append(list(plan["known_values"][i]))
                attr[SAME_AS] = plan["same_as"][i]
            else:
                assert values_of is not None and qualifies is not None and metrics is not None
                states.append("COMPLETE")
                values.append([float(v) for v in values_of[row]])
                if outcome == "evaluated":
                    attr.update({GROUP: gid, COMBO: row, "ibsweep:qualifies": bool(qualifies[row])})
                    for name in SHOWN_METRICS:
                        value = float(metrics[name][row])
                        attr[name] = value if np.isfinite(value) else None
                    self.known.setdefault(plan["keys"][i], (plan["numbers"][i], values[-1]))
                else:
                    attr[SAME_AS] = plan["same_as"][i]
            attrs.append(attr)
        return states, values, attrs

    def _await_earlier(self, plan: dict[str, Any], timeout: float = AWAIT_S) -> None:
        """The values of the batch's duplicates whose first evaluation another process
        was running when this one reserved them: waited for (that process finishes its
        batch); one that failed, or is not finished within ``timeout`` seconds, leaves its
        duplicate failed too (outcome ``interrupted``; the point can be sampled again)."""
        waiting = [
            i
            for i, (outcome, row, values) in enumerate(
                zip(plan["outcomes"], plan["row_of"], plan["known_values"])
            )
            if outcome == "duplicate" and row is None and values is None
        ]
        deadline = time.monotonic() + timeout
        while waiting:
            found = self.writer.results([plan["same_as"][i] for i in waiting])
            left = []
            for i in waiting:
                state, values = found.get(plan["same_as"][i], (None, None))
                if state is not None and state.name == "COMPLETE" and values is not None:
                    plan["known_values"][i] = values
                elif state is not None and state.name == "RUNNING":
                    left.append(i)
                else:
                    plan["outcomes"][i] = "interrupted"
                    plan["reasons"][i] = f"its first evaluation, trial {plan['same_as'][i]}, failed"
            if left and time.monotonic() > deadline:
                for i in left:
                    plan["outcomes"][i] = "interrupted"
                    plan["reasons"][i] = (
                        f"its first evaluation, trial {plan['same_as'][i]}, did not finish "
                        f"within {timeout:.0f} s"
                    )
                left = []
            waiting = left
            if waiting:
                time.sleep(0.2)

    # -- a batch cut by a crash ----------------------------------------------------------

    def recover(self) -> list[str]:
        """Finish the batches a crash cut (their pending files): from their part when it
        was written (no trial evaluated twice), else their trials failed (never
        evaluated). The messages said."""
        said = []
        for pending in sorted(self.parts.glob(f"*{PENDING}")):
            plan = json.loads(pending.read_text(encoding="utf-8"))
            gid = plan["group_id"]
            if gid in self.checkpoint.done():
                pending.unlink()
                continue
            part = self.parts / f"{gid}.parquet"
            if plan["rows"] and part.is_file():
                said.append(self._finish_from_part(plan, part))
            elif not plan["rows"] and self._finish_without_rows(plan):
                said.append(f"{gid}: batch of duplicates and infeasible points finished")
            else:
                self._fail(plan)
                said.append(
                    f"{gid}: {len(plan['numbers'])} trials were cut before their part was "
                    "written: failed in the study (never evaluated), sampled anew"
                )
            pending.unlink()
        return said

    def _finish_from_part(self, plan: dict[str, Any], part: Path) -> str:
        import pyarrow.parquet as pq

        gid = plan["group_id"]
        table = pq.read_table(part, schema=store.combos_schema())
        if table.num_rows != len(plan["rows"]):
            self._fail(plan)
            return f"{gid}: its part holds {table.num_rows} rows, not {len(plan['rows'])}: failed"
        metrics = {
            name: table.column(name).to_numpy(zero_copy_only=False) for name in store.METRIC_TYPES
        }
        for name in ("total_r", "avg_r", "sharpe", "max_dd_r", "profit_factor", "winrate"):
            metrics[name] = np.asarray(metrics[name], dtype=np.float64)
        self._await_earlier(plan)
        states, values, attrs = self._outcomes(plan, metrics)
        self.writer.finish(plan["trial_ids"], [_state(s) for s in states], values, attrs)
        record = _record(
            gid,
            [r["params"] for r in store.table_records(table)],
            metrics,
            {"file": f"{rundir.PARTS_DIR}/{part.name}", "rows": table.num_rows, "sha256": None},
            plan,
            time.perf_counter(),
            part,
        )
        self.checkpoint.add(record)
        return f"{gid}: finished from its part ({table.num_rows} rows, not evaluated again)"

    def _finish_without_rows(self, plan: dict[str, Any]) -> bool:
        """A batch of duplicates of earlier batches and infeasible points: nothing was
        evaluated, everything is in its pending file."""
        self._await_earlier(plan)
        states, values, attrs = self._outcomes(plan, None)
        self.writer.finish(plan["trial_ids"], [_state(s) for s in states], values, attrs)
        return True

    def _fail(self, plan: dict[str, Any]) -> None:
        from optuna.trial import TrialState

        n = len(plan["trial_ids"])
        attrs = [{OUTCOME: "interrupted", "ibsweep:run": plan["run"]}] * n
        self.writer.finish(plan["trial_ids"], [TrialState.FAIL] * n, [None] * n, attrs)


def _fault(where: str, batch: int) -> None:
    """Test hook (drills): ``IBSWEEP_OPTIMIZE_FAULT=kill-before-part:N`` or
    ``kill-after-part:N`` SIGKILLs this process there in its N-th batch."""
    wanted = os.environ.get(FAULT_ENV, "")
    if wanted == f"kill-{where}:{batch}":
        os.kill(os.getpid(), signal.SIGKILL)


def _state(name: str) -> Any:
    from optuna.trial import TrialState

    return TrialState[name]


def _record(
    gid: str,
    rows: list[dict[str, Any]],  # the resolved combinations, in row order
    metrics: dict[str, np.ndarray],
    part: dict[str, Any],
    plan: dict[str, Any],
    started: float,
    part_file: Path | None = None,
) -> dict[str, Any]:
    """The batch's checkpoint record: the runner's group record (its best row by
    ``total_r``, ties to the lower index) and the trial number of each row."""
    params = rows
    total = np.asarray(metrics["total_r"], dtype=np.float64)
    best = int(np.argmax(total))
    digest = store.ParamsDigest()
    digest.update(params)
    if part_file is not None:
        from backtest.core.checksum import file_checksum

        part = {**part, "sha256": file_checksum(part_file)}
    return {
        "group_id": gid,
        "status": "ok",
        "elapsed_s": round(time.perf_counter() - started, 3),
        "combos_count": len(params),
        "best": best,
        "best_combo": {
            "params": json_ready(params[best]),
            "metrics": json_ready(metrics_dict(metrics, best)),
        },
        "params_sha256": digest.hexdigest(),
        "part": part,
        "trials": [plan["numbers"][i] for i in plan["rows"]],
    }


# --------------------------------------------------------------------------- the run


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_optimize(opts: OptimizeOptions) -> OptimizeReport:
    """Validate, search until the study has ``--trials`` trials (or Ctrl-C), write the
    results. Bad input raises one of :func:`optimize_errors` before anything is written;
    any other error is :class:`~backtest.runner.execute.RunCrashed` (its traceback in
    run.log)."""
    with RunLogging() as logging_setup, crash_edge(logging_setup), _as_bad_input():
        s = setup(opts)
        out_dir = s.plan.out_dir
        lock = lock_output(out_dir)
        logging_setup.claimed = out_dir / RUN_LOG
        try:
            fresh = bool(s.plan.options.fresh)
            checkpoint = Checkpoint.open(out_dir, s.header, fresh=fresh, log=log.warning)
            logging_setup.to_file(out_dir / RUN_LOG)
            storage, study = _open_study(s, fresh)
            return _run(s, storage, study, checkpoint)
        finally:
            os.close(lock)


@contextmanager
def _as_bad_input() -> Any:
    """This package's bad-input errors as the runner's (:class:`RunError`), so that the
    run's edge (:func:`crash_edge`) lets them through as bad input (exit code 2) rather
    than logging a crash."""
    try:
        yield
    except (
        OptimizeError,
        SpaceError,
        SamplerError,
        ObjectiveError,
        StorageError,
        GridError,
    ) as exc:
        raise RunError(str(exc)) from None


def _kept_records(checkpoint: Checkpoint, out_dir: Path) -> list[dict[str, Any]]:
    """The finished batches whose rows are there, in trial order; a batch whose part was
    lost is said (its trials stay in the study: they are not evaluated again)."""
    out = []
    for gid, record in sorted(checkpoint.done().items()):
        problem = rundir.part_problem(out_dir, record)
        if problem is not None:
            log.warning(f"{gid}: {problem}; its rows are lost (its trials stay in the study)")
            continue
        out.append(record)
    return out


def _run(s: Setup, storage: Any, study: Any, checkpoint: Checkpoint) -> OptimizeReport:
    from backtest.runner.pool import resolve_workers
    from backtest.search.evaluate import Evaluator
    from backtest.search.results import write_outputs

    started = _now()
    search = Search(s, storage, study, checkpoint)
    search.parts.mkdir(parents=True, exist_ok=True)
    for line in search.recover():
        log.info(f"resuming: {line}")
    read = search.start()
    count = search.writer.count()
    plan = s.plan
    log.info(
        f"study {s.study_name} in {shown_url(s.url)}: {count} trials ({read} read), "
        f"{s.n_trials} wanted; sampler {s.options.sampler} (seed {s.sampler['seed']}"
        f"{f' + {count} trials so far' if count else ''}), "
        f"batches of {s.batch}, objective {', '.join(s.objectives.names)}; space "
        f"{s.space.source}: {_size_text(s.space)}"
    )
    log.info(
        f"{plan.symbol} {plan.period} {plan.start_date}..{plan.end_date}: {len(plan.bars)} bars "
        f"from {plan.bars.source}"
    )
    interrupted = None
    workers = 1
    clock = time.perf_counter()
    if count < s.n_trials:
        workers, why = resolve_workers(plan.workers, 1 << 30, len(plan.bars))
        log.info(why)
        search.evaluator = Evaluator(
            plan.bars,
            plan.settings,
            workers,
            compact=bool(plan.options.save_daily),
            tables=s.space.table_points(),
        )
        log.info(f"sweep kernels ready in {search.evaluator.compile_s:.1f}s; {workers} workers")
        clock = time.perf_counter()
        try:
            with Signals(on_second=search.evaluator.close) as signals:
                while signals.received is None:
                    search.sync()
                    count = search.writer.count()
                    if count >= s.n_trials:
                        break
                    done = search.batch(min(s.batch, s.n_trials - count))
                    if done["group_id"] is not None:
                        _progress(search, done, count, clock)
                interrupted = signals.received
        finally:
            search.evaluator.close()
    else:
        log.info("nothing left to search: the study has its trials; the results are written")
    seconds = time.perf_counter() - clock
    if interrupted is not None:
        log.warning(
            f"interrupted ({signal.Signals(interrupted).name}): the batches finished are kept; "
            "the same command resumes"
        )
    records = _kept_records(checkpoint, plan.out_dir)
    files, summary = write_outputs(s, search, storage, study, records, workers, started, seconds)
    folded = checkpoint.fold(files["parquet"].name, [r["group_id"] for r in records])
    for part in folded:
        part.unlink(missing_ok=True)
    exit_code = 128 + interrupted if interrupted is not None else 0
    notice = sample_notice(plan.data)
    if notice:
        log.warning(notice)
    return OptimizeReport(
        plan.out_dir,
        plan.symbol,
        files,
        exit_code,
        summary,
        signal.Signals(interrupted).name if interrupted is not None else None,
        plan.data,
    )


def _size_text(space: SearchSpace) -> str:
    size = space.size()
    blocks = f" in {len(space.blocks)} blocks" if len(space.blocks) > 1 else ""
    if size is None:
        return f"continuous{blocks}"
    return f"{size:,} grid points before constraints{blocks}"


def _progress(search: Search, done: dict[str, Any], before: int, clock: float) -> None:
    """One log line per batch: where the study is, what the batch did, the best so far."""
    s = search.s
    outcomes = done["outcomes"]
    total = before + len(outcomes)
    elapsed = time.perf_counter() - clock
    rate = search.counts["evaluated"] / elapsed if elapsed > 0 else 0.0
    left = max(s.n_trials - total, 0)
    per_trial = elapsed / max(
        sum(search.counts[k] for k in ("evaluated", "duplicate", "infeasible")), 1
    )
    best = _best_text(search)
    log.info(
        f"[{total}/{s.n_trials}] {done['group_id']}: {outcomes.count('evaluated')} evaluated, "
        f"{outcomes.count('duplicate')} duplicates, {outcomes.count('infeasible')} infeasible; "
        f"{best}; {rate:,.0f} evaluated/s, ETA: {left * per_trial / 60:.1f}min"
    )


def _best_text(search: Search) -> str:
    """The best trial so far of a single objective (the Pareto front's size otherwise)."""
    study = search.memory
    name = search.s.objectives.names
    try:
        if len(name) == 1:
            best = study.best_trial
            value = best.values[0]
            if not np.isfinite(value):
                return f"no qualifying {name[0]} yet"
            return f"best {name[0]} {value:.4g}"
        return f"Pareto front of {len(study.best_trials)} trials"
    except ValueError:
        return "no trial finished yet"
