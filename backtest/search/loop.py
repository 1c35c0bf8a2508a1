"""The search loop of one process: ask a batch, reserve it, evaluate it, record it.

A batch: ``--batch`` trials asked of the sampler; each sampled point is a combination (or
*infeasible*: never run); a combination already evaluated in the study (or earlier in the
batch) is a *duplicate*: told the earlier values, never run again; the others are
evaluated at once by the kernel (:mod:`.evaluate`: the local pool or the Dask cluster).
The batch's trials are reserved in the storage (``RUNNING``, their numbers), a small
pending file names them (``OUT/parts/trials_N.pending.json``), the evaluated rows go to
the batch's part file (the runner's format: ``OUT/parts/trials_N.parquet``, group
``trials_N`` = the batch whose first trial is number N), the trials are finished in the
storage, and the batch's record goes to the runner's checkpoint. A batch cut by a crash
is finished on the next start from its part, or failed when it has none: no trial is
evaluated twice, none is lost once its part is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from backtest.core.atomic import atomic_write
from backtest.runner import rundir, store
from backtest.runner.checkpoint import Checkpoint
from backtest.runner.group_run import json_ready
from backtest.search.samplers import UniformBatch, make_sampler
from backtest.search.setup import Setup
from backtest.search.space import EXIT_PARAMS, combination_key
from backtest.search.storage import BatchWriter, read_trials
from backtest.strategy.metrics_nb import metrics_dict

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
# An evaluated trial's rows in its group: ``combo_first`` and ``combos`` of them (its exit
# sub-grid with --trial entry-rule; ``combo`` is then its best row)
FIRST, ROWS = "ibsweep:combo_first", "ibsweep:combos"
NUMBER = "ibsweep:number"  # a trial's number in the storage (the in-memory copy's differ)
FAULT_ENV = "IBSWEEP_OPTIMIZE_FAULT"
AWAIT_S = 600.0  # the longest a duplicate waits for another process's evaluation of it
SHOWN_METRICS = ("total_r", "trades", "sharpe", "max_dd_r")


def _key_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(repr(combination_key(params)).encode()).hexdigest()[:20]


def unit_key(rows: list[dict[str, Any]], entry_rule: bool) -> str:
    """A trial's key: its combination's, or with ``--trial entry-rule`` its sub-grid's
    (the first combination and every row's exit values): the same entry rule sampled
    twice has the same key, and is evaluated once."""
    if not entry_rule:
        return _key_hash(rows[0])
    exits = [tuple(float(r[n]) for n in EXIT_PARAMS) for r in rows]
    return hashlib.sha256(repr((combination_key(rows[0]), exits)).encode()).hexdigest()[:20]


def spans(sizes: list[int]) -> list[tuple[int, int]]:
    """The rows ``[a, b)`` of each evaluated trial in its batch's part, from their sizes
    (one row each with ``--trial combination``)."""
    ends = np.cumsum(sizes, dtype=np.int64).tolist()
    return list(zip([0, *ends[:-1]], ends))


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
        self.counts["combinations"] = 0  # rows this process evaluated (a sub-grid's each)
        self.save_daily = bool(s.plan.options.save_daily)
        self.entry_rule = s.options.trial == "entry-rule"
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
        if not isinstance(self.sampler, UniformBatch):
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

    def prepare(self, size: int) -> dict[str, Any] | None:
        """Ask ``size`` trials, reserve them in the storage, write the batch's pending file
        and start evaluating its new combinations (returns at once: the next batch can be
        sampled meanwhile); None when other processes filled the study."""
        import optuna

        started = time.perf_counter()
        if hasattr(self.sampler, "new_batch"):
            self.sampler.new_batch(size)
        asked, units, reasons = self._ask(size)
        frozen = [self.memory._storage.get_trial(t._trial_id) for t in asked]
        keys = [None if u is None else unit_key(u, self.entry_rule) for u in units]
        reserved, earlier = self.writer.reserve(frozen, self.s.n_trials, keys, KEY)
        for trial in asked[len(reserved) :]:  # others filled the study meanwhile
            self.memory.tell(trial, state=optuna.trial.TrialState.FAIL)
        if not reserved:
            return None
        ids = [tid for tid, _ in reserved]
        numbers = [n for _, n in reserved]
        self.mine.update(ids)
        gid = f"trials_{numbers[0]:07d}"
        plan = self._plan_batch(gid, numbers, keys[: len(reserved)], reasons, earlier)
        plan["trial_ids"] = ids
        plan["sizes"] = [len(units[i] or ()) for i in plan["rows"]]
        _durable_json(self.parts / f"{gid}{PENDING}", plan)
        rows = [combo for i in plan["rows"] for combo in units[i] or ()]
        return {
            "plan": plan,
            "asked": asked[: len(reserved)],
            "rows": rows,
            "evaluation": self._submit(rows, plan) if rows else None,
            "started": started,
        }

    def _submit(self, rows: list[dict[str, Any]], plan: dict[str, Any]) -> Any:
        """Start the evaluation of a batch's rows; with ``--trial entry-rule`` the rows come
        as whole sub-grids (each one entry rule, cut only between them), and the workers
        make the part's table and digest as a sweep's workers do."""
        if not self.entry_rule:
            return self.evaluator.submit(rows)
        return self.evaluator.submit(rows, plan["sizes"], plan["group_id"])

    def _ask(
        self, size: int
    ) -> tuple[list[Any], list[list[dict[str, Any]] | None], list[str | None]]:
        """``size`` trials of the in-memory study, the combinations each is evaluated as
        (None: infeasible) and reasons: asked of an Optuna sampler, or drawn at once
        (:class:`UniformBatch`) and made as trials directly."""
        asked: list[Any] = []
        units: list[list[dict[str, Any]] | None] = []
        reasons: list[str | None] = []
        if isinstance(self.sampler, UniformBatch):
            from optuna.trial import Trial, TrialState, create_trial

            storage, study_id = self.memory._storage, self.memory._study_id
            for point in self.s.space.draw(self.sampler.rng, size):
                template = create_trial(
                    state=TrialState.RUNNING, params=point.params, distributions=point.distributions
                )
                asked.append(Trial(self.memory, storage.create_new_trial(study_id, template)))
                units.append(point.rows)
                reasons.append(point.reason)
            return asked, units, reasons
        for _ in range(size):
            trial = self.memory.ask()
            rows, reason, _block = self.s.space.sample(trial)
            asked.append(trial)
            units.append(rows)
            reasons.append(reason)
        return asked, units, reasons

    def complete(self, prepared: dict[str, Any]) -> dict[str, Any]:
        """Wait for a prepared batch's evaluation and record it: its part, its trials told
        and finished in the storage, its checkpoint record; the batch's summary."""
        import optuna

        plan, asked, rows = prepared["plan"], prepared["asked"], prepared["rows"]
        gid, ids, numbers = plan["group_id"], plan["trial_ids"], plan["numbers"]
        metrics = None
        if prepared["evaluation"] is not None:
            evaluation = prepared["evaluation"]
            metrics, compact = evaluation.result()
            made = evaluation.rows  # (tables, digest) when the workers made them
            _fault("before-part", self.counts["batches"] + 1)
            if self.save_daily:
                assert compact is not None, "compact trades are kept with --save-daily"
                path = rundir.daily_path(self.out_dir, gid)
                rundir.write_daily(path, compact, self.s.plan.bars.trading_days())
            tables = made[0] if made else [store.batch_table(gid, 0, rows, metrics)]
            part = rundir.write_part(self.out_dir, gid, tables)
            _fault("after-part", self.counts["batches"] + 1)
        self._await_earlier(plan)
        states, values, attrs = self._outcomes(plan, metrics)
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
        if metrics is not None:
            digest = made[1] if made else None
            record = _record(gid, rows, metrics, part, plan, prepared["started"], digest=digest)
            self.checkpoint.add(record)
            self.counts["combinations"] += len(rows)
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
        sizes = _sizes(plan)
        span = spans(sizes)
        best = [a for a, _ in span]
        if metrics is not None:
            values_of, qualifies = self.s.objectives.values(metrics)
            best = best_rows(values_of, span, self.s.objectives.directions)
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
                at = best[row]  # its row (the best of its sub-grid)
                values.append([float(v) for v in values_of[at]])
                if outcome == "evaluated":
                    attr.update({GROUP: gid, COMBO: at, "ibsweep:qualifies": bool(qualifies[at])})
                    attr.update({FIRST: span[row][0], ROWS: sizes[row]})
                    for name in SHOWN_METRICS:
                        value = float(metrics[name][at])
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
        wanted = sum(_sizes(plan))
        if table.num_rows != wanted:
            self._fail(plan)
            return f"{gid}: its part holds {table.num_rows} rows, not {wanted}: failed"
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


def best_rows(values: np.ndarray, span: list[tuple[int, int]], directions: list[str]) -> list[int]:
    """Each trial's row: the best of its rows ``[a, b)`` by the (one) objective, ties to
    the lower row; a non-qualifying row holds the worst value, so a trial none of whose
    rows qualifies gets its first row (and the worst value). One row each: that row."""
    signed = values[:, 0] * (1.0 if directions[0] == "maximize" else -1.0)
    return [a if b - a == 1 else a + int(np.argmax(signed[a:b])) for a, b in span]


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
    digest: str | None = None,
) -> dict[str, Any]:
    """The batch's checkpoint record: the runner's group record (its best row by
    ``total_r``, ties to the lower index) and the trial number of each row (a trial's
    sub-grid: its rows, each with its number)."""
    params = rows
    total = np.asarray(metrics["total_r"], dtype=np.float64)
    best = int(np.argmax(total))
    if digest is None:
        hashed = store.ParamsDigest()
        hashed.update(params)
        digest = hashed.hexdigest()
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
        "params_sha256": digest,
        "part": part,
        "trials": [
            plan["numbers"][i] for i, size in zip(plan["rows"], _sizes(plan)) for _ in range(size)
        ],
    }


def _sizes(plan: dict[str, Any]) -> list[int]:
    """The combinations each of a batch plan's rows stands for (a trial's sub-grid with
    ``--trial entry-rule``, else one each)."""
    return plan.get("sizes") or [1] * len(plan["rows"])
