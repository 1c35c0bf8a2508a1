"""The study's storage: Optuna's RDB storage (SQLite in the run folder, PostgreSQL, ...),
written a batch at a time.

Optuna's own API writes a trial in several transactions (create, each parameter, each
value, the state), and asking reads back every unfinished trial: on SQLite a few hundred
trials per second at best, and a batch of hundreds of unfinished trials makes each ask
slower. A batch of trials here is two transactions whatever its size:

1. :meth:`BatchWriter.reserve`: the batch's trials inserted ``RUNNING`` with their
   parameters and the sampler's attributes, numbered under a lock on the study's row
   (the numbers Optuna itself gives: the count of the study's earlier trials), so that
   several processes and hosts can share one study;
2. :meth:`BatchWriter.finish`: their state, values and attributes, once evaluated.

Both go through Optuna's own table definitions (``optuna.storages._rdb.models``, pinned
with Optuna in requirements.txt; tests/search/test_storage_rows.py holds the rows equal,
read back by Optuna, to what ``study.add_trial`` writes). The sampler works on an
in-memory copy of the study (:func:`read_trials` brings the storage's new trials into it);
Optuna, ``optuna-dashboard`` and any other client read the storage as an ordinary study.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RUNNING_TIMEOUT_S = 120  # how long a process waits for SQLite's write lock


class StorageError(ValueError):
    """A storage that cannot be opened or used (exit code 2 at the edge)."""


def shown_url(url: str) -> str:
    """The URL as logged and recorded: the password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unreadable URL>"


def default_url(out_dir: Path) -> str:
    """``sqlite:///OUT/optuna.db`` (absolute)."""
    return f"sqlite:///{(Path(out_dir) / 'optuna.db').resolve()}"


def open_storage(url: str) -> Any:
    """Optuna's RDB storage at ``url``: its tables made when new, SQLite in WAL mode (a
    reader such as optuna-dashboard does not block the writers); StorageError when it
    cannot be opened, one line."""
    import optuna

    shown = shown_url(url)
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception as exc:
        raise StorageError(f"--storage {url!r}: not a database URL ({exc})") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise StorageError(f"--storage {shown}: an SQLite storage needs a file path")
        folder = Path(database).parent
        if not folder.is_dir():
            raise StorageError(f"--storage {shown}: cannot be opened: {folder} is not a folder")
        kwargs["connect_args"] = {"timeout": RUNNING_TIMEOUT_S}
    else:
        kwargs["pool_pre_ping"] = True
    for attempt in range(5):
        try:
            with _creating(parsed):
                storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
                if parsed.get_backend_name() == "sqlite":
                    with storage.engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            return storage
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            # processes creating one new database at once: one made the tables (and
            # Optuna's schema version row) first; the others find them on another try
            raced = "IntegrityError" in reason or "already exists" in reason
            if not raced or attempt == 4:
                raise StorageError(f"--storage {shown}: cannot be opened: {reason}") from None
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


@contextmanager
def _creating(parsed: Any) -> Iterator[None]:
    """For an SQLite file, an exclusive lock on ``FILE.lock`` while Optuna opens it (and
    makes its tables when new): processes of one machine starting together do not race."""
    if parsed.get_backend_name() != "sqlite":
        yield
        return
    fd = os.open(f"{parsed.database}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _utc_now() -> dt.datetime:
    """Now as Optuna's RDB storage keeps it: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _models() -> Any:
    from optuna.storages._rdb import models

    return models


class BatchWriter:
    """Whole batches of trials into one study of an RDB storage."""

    def __init__(self, storage: Any, study_id: int) -> None:
        self.storage, self.study_id = storage, study_id
        models = _models()
        self.trials = models.TrialModel.__table__
        self.params = models.TrialParamModel.__table__
        self.values = models.TrialValueModel.__table__
        self.user_attrs = models.TrialUserAttributeModel.__table__
        self.system_attrs = models.TrialSystemAttributeModel.__table__
        self.studies = models.StudyModel.__table__

    def reserve(
        self,
        trials: Sequence[Any],
        limit: int | None = None,
        keys: Sequence[str | None] | None = None,
        key_attr: str = "key",
    ) -> tuple[list[tuple[int, int]], dict[str, int]]:
        """Insert ``trials`` (Optuna FrozenTrials: their params, distributions, system
        attributes) as ``RUNNING``, numbered after the study's trials under a lock on
        its row; their ``(trial_id, number)``, in order. With ``limit``, only as many as
        keep the study at ``limit`` trials (the first ones; maybe none): processes sharing
        a study stop at exactly its number of trials. ``keys`` (one per trial, None for
        none) are written as the user attribute ``key_attr`` in the same transaction; also
        returned: for each key some earlier trial of the study already holds (one not
        failed, of any process, maybe still running), the lowest such trial number. So
        of two processes that sample one combination, the second to reserve knows it."""
        from optuna.distributions import distribution_to_json
        from optuna.trial import TrialState
        from sqlalchemy import func, insert, select, update

        now = _utc_now()
        with self.storage.engine.begin() as conn:
            # The study's row locked (SQLite: the database's write lock) before counting:
            # two writers never give the same numbers.
            conn.execute(
                update(self.studies)
                .where(self.studies.c.study_id == self.study_id)
                .values(study_name=self.studies.c.study_name)
            )
            count = conn.execute(
                select(func.count())
                .select_from(self.trials)
                .where(self.trials.c.study_id == self.study_id)
            ).scalar_one()
            if limit is not None:
                trials = trials[: max(0, limit - count)]
            if not trials:
                return [], {}
            rows = [
                {
                    "number": count + i,
                    "study_id": self.study_id,
                    "state": TrialState.RUNNING,
                    "datetime_start": now,
                }
                for i in range(len(trials))
            ]
            result = conn.execute(
                insert(self.trials).returning(self.trials.c.trial_id, sort_by_parameter_order=True),
                rows,
            )
            ids = [int(r[0]) for r in result.all()]
            params = [
                {
                    "trial_id": tid,
                    "param_name": name,
                    "param_value": trial.distributions[name].to_internal_repr(value),
                    "distribution_json": distribution_to_json(trial.distributions[name]),
                }
                for tid, trial in zip(ids, trials)
                for name, value in trial.params.items()
            ]
            if params:
                conn.execute(insert(self.params), params)
            self._attrs(conn, self.system_attrs, ids, [t.system_attrs for t in trials])
            earlier = {}
            if keys is not None:
                mine = list(keys[: len(ids)])
                earlier = self._holding(conn, key_attr, {k for k in mine if k}, set(ids))
                self._attrs(conn, self.user_attrs, ids, [{key_attr: k} if k else {} for k in mine])
        return [(tid, count + i) for i, tid in enumerate(ids)], earlier

    def _holding(self, conn: Any, key_attr: str, keys: set[str], own: set[int]) -> dict[str, int]:
        """Key -> the lowest number of the study's trials (not failed, not ``own``) whose
        ``key_attr`` is that key."""
        from optuna.trial import TrialState
        from sqlalchemy import select

        if not keys:
            return {}
        attrs, trials = self.user_attrs, self.trials
        rows = conn.execute(
            select(trials.c.number, trials.c.trial_id, attrs.c.value_json)
            .join(trials, trials.c.trial_id == attrs.c.trial_id)
            .where(
                trials.c.study_id == self.study_id,
                trials.c.state != TrialState.FAIL,
                attrs.c.key == key_attr,
                attrs.c.value_json.in_([json.dumps(k) for k in sorted(keys)]),
            )
        ).all()
        out: dict[str, int] = {}
        for number, tid, value in rows:
            if tid not in own:
                key = json.loads(value)
                out[key] = min(out.get(key, number), number)
        return out

    def results(self, numbers: Sequence[int]) -> dict[int, tuple[Any, list[float] | None]]:
        """``number -> (state, values)`` of the study's trials ``numbers``."""
        from sqlalchemy import select

        if not numbers:
            return {}
        trials, values = self.trials, self.values
        models = _models()
        with self.storage.engine.connect() as conn:
            states = conn.execute(
                select(trials.c.number, trials.c.trial_id, trials.c.state).where(
                    trials.c.study_id == self.study_id, trials.c.number.in_(list(numbers))
                )
            ).all()
            by_id = {int(tid): int(n) for n, tid, _ in states}
            found = conn.execute(
                select(values.c.trial_id, values.c.objective, values.c.value, values.c.value_type)
                .where(values.c.trial_id.in_(list(by_id)))
                .order_by(values.c.trial_id, values.c.objective)
            ).all()
        got: dict[int, list[float]] = {}
        for tid, _, value, kind in found:
            stored = models.TrialValueModel.stored_repr_to_value(value, kind)
            got.setdefault(by_id[int(tid)], []).append(float(stored))
        return {int(n): (state, got.get(int(n))) for n, _, state in states}

    def finish(
        self,
        trial_ids: Sequence[int],
        states: Sequence[Any],
        values: Sequence[Sequence[float] | None],
        user_attrs: Sequence[dict[str, Any]],
        system_attrs: Sequence[dict[str, Any]] | None = None,
    ) -> int:
        """Finish reserved trials: state, values, user attributes (and the sampler's
        system attributes as they now are). Trials no longer ``RUNNING`` are left as they
        are (a resume finishing a batch twice changes nothing); how many were finished."""
        from optuna.trial import TrialState
        from sqlalchemy import bindparam, delete, insert, select, update

        models = _models()
        now = _utc_now()
        with self.storage.engine.begin() as conn:
            running = {
                int(r[0])
                for r in conn.execute(
                    select(self.trials.c.trial_id).where(
                        self.trials.c.trial_id.in_(list(trial_ids)),
                        self.trials.c.state == TrialState.RUNNING,
                    )
                )
            }
            todo = [i for i, tid in enumerate(trial_ids) if tid in running]
            if not todo:
                return 0
            ids = [trial_ids[i] for i in todo]
            conn.execute(
                update(self.trials)
                .where(self.trials.c.trial_id == bindparam("tid"))
                .values(state=bindparam("st"), datetime_complete=bindparam("done")),
                [{"tid": trial_ids[i], "st": states[i], "done": now} for i in todo],
            )
            rows = []
            for i in todo:
                for objective, value in enumerate(values[i] or ()):
                    stored, kind = models.TrialValueModel.value_to_stored_repr(float(value))
                    rows.append(
                        {
                            "trial_id": trial_ids[i],
                            "objective": objective,
                            "value": stored,
                            "value_type": kind,
                        }
                    )
            if rows:
                conn.execute(insert(self.values), rows)
            self._attrs(conn, self.user_attrs, ids, [user_attrs[i] for i in todo])
            if system_attrs is not None:
                conn.execute(delete(self.system_attrs).where(self.system_attrs.c.trial_id.in_(ids)))
                self._attrs(conn, self.system_attrs, ids, [system_attrs[i] for i in todo])
        return len(todo)

    @staticmethod
    def _attrs(conn: Any, table: Any, ids: Sequence[int], attrs: Sequence[dict[str, Any]]) -> None:
        from sqlalchemy import insert

        rows = [
            {"trial_id": tid, "key": key, "value_json": json.dumps(value)}
            for tid, items in zip(ids, attrs)
            for key, value in items.items()
        ]
        if rows:
            conn.execute(insert(table), rows)

    def trial_ids(self, numbers: Sequence[int]) -> dict[int, tuple[int, Any]]:
        """``number -> (trial_id, state)`` of the study's trials ``numbers``."""
        from sqlalchemy import select

        with self.storage.engine.connect() as conn:
            rows = conn.execute(
                select(self.trials.c.number, self.trials.c.trial_id, self.trials.c.state).where(
                    self.trials.c.study_id == self.study_id,
                    self.trials.c.number.in_(list(numbers)),
                )
            ).all()
        return {int(n): (int(tid), state) for n, tid, state in rows}

    def states_after(self, after_id: int, recheck: set[int]) -> list[tuple[int, Any]]:
        """``(trial_id, state)`` of the study's trials above ``after_id`` and of
        ``recheck``: one light query, so that a process reads in full only the trials it
        does not have (not its own batches back)."""
        from sqlalchemy import or_, select

        ids = self.trials.c.trial_id
        where = ids > after_id
        if recheck:
            where = or_(where, ids.in_(sorted(recheck)))
        with self.storage.engine.connect() as conn:
            rows = conn.execute(
                select(ids, self.trials.c.state).where(
                    self.trials.c.study_id == self.study_id, where
                )
            ).all()
        return [(int(tid), state) for tid, state in rows]

    def count(self) -> int:
        """The study's trials, every state."""
        from sqlalchemy import func, select

        with self.storage.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(self.trials)
                    .where(self.trials.c.study_id == self.study_id)
                ).scalar_one()
            )


def read_trials(
    storage: Any, study_id: int, after_id: int = -1, only: set[int] | None = None
) -> list[Any]:
    """The study's trials whose id is above ``after_id`` (every trial by default), or
    exactly those of ``only``, as Optuna's FrozenTrials (Optuna's own reader)."""
    if only is not None:
        if not only:
            return []
        found = storage._get_trials(study_id, None, set(only), max(only))
        return [t for t in found if t._trial_id in only]  # (and those above max(only))
    return list(storage._get_trials(study_id, None, set(), after_id))
