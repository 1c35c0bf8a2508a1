"""The samplers of ``invoke optimize`` (Optuna's), set up for batches.

A batch of ``B`` trials is asked at once, evaluated at once by the fast kernel and told at
once, so each sampler is configured for that:

- ``tpe``: :class:`BatchTPESampler`, Optuna's multivariate TPE (``group=True`` on a space
  of several blocks) whose Parzen estimators are fitted once per batch and shared by the
  batch's asks. The asks of one batch see the same finished trials, so each would fit
  the same estimators: this is what ``B`` asks of ``TPESampler(constant_liar=False)``
  compute (tests/search/test_batch_tpe.py holds them equal), ``B`` times cheaper. Each
  ask still draws its own candidates, so a batch spreads over the promising region; of
  its candidates it takes the best one no trial holds yet (``avoid_duplicates``): on a
  grid, TPE without the constant liar otherwise proposes the points it has again.
- ``cmaes``: ``CmaEsSampler(popsize=B)``: one batch is one generation (with a smaller
  population the rest of a batch would be wasted: CMA-ES updates on the first ``popsize``
  finished trials of a generation); ``with_margin`` on a space of steps (mixed-integer
  CMA-ES); categorical parameters are sampled at random (CMA-ES has no categories).
- ``nsga2``: ``NSGAIISampler(population_size=B)``: a batch is a generation.
- ``random``: :class:`UniformBatch`: a whole batch drawn at once with numpy
  (:meth:`backtest.search.space.SearchSpace.draw`: a block, then each parameter uniformly over
  its grid or interval, as Optuna's ``RandomSampler`` draws them one parameter at a time),
  its trials made in the in-memory study without Optuna's per-parameter ``suggest`` path
  (which costs more than the kernel's evaluation of the point).

TPE and random sampling ask ahead (:data:`ASK_AHEAD`): batch ``k + 1`` is sampled while the
workers evaluate batch ``k`` (TPE's estimators then fitted on the trials up to batch
``k - 1``).

Every sampler is seeded (``--seed`` plus the trials the study has when a process starts):
a study interrupted and resumed continues with the same sampler settings, not the same
random stream.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

SAMPLERS = ("tpe", "cmaes", "nsga2", "random")
# The samplers whose next batch is sampled while the current one is evaluated (their
# settings say ``ask_ahead``): TPE (its model then one batch old) and random sampling.
# Not CMA-ES nor NSGA-II: a batch is their generation, sampled from the one before it.
ASK_AHEAD = ("tpe", "random")


class SamplerError(ValueError):
    """A sampler that cannot search this space or these objectives."""


def _tpe_class() -> type:
    from optuna.samplers import TPESampler
    from optuna.samplers._tpe.sampler import _split_trials
    from optuna.trial import TrialState

    class BatchTPESampler(TPESampler):
        """TPE whose estimators are fitted once per batch (:meth:`new_batch`) and whose
        batch of proposals is drawn at once: ``size × n_ei_candidates`` candidates from
        the "good" estimator, the acquisition (log l(x) - log g(x)) computed for all of them
        in a few calls (discrete candidates repeat across a batch: the truncated-normal
        masses are computed once per distinct value), each ask then takes the best of its
        own ``n_ei_candidates``, as one ask of Optuna's TPE does; with
        ``avoid_duplicates`` the best of them that no trial of the study (nor an earlier
        ask of the batch) holds, when there is one."""

        def __init__(self, avoid_duplicates: bool = True, **kwargs: Any) -> None:
            super().__init__(constant_liar=False, **kwargs)
            self._avoid = avoid_duplicates
            self._taken: dict[Any, set[tuple[float, ...]]] = {}
            self._fitted: dict[Any, Any] = {}
            self._queues: dict[Any, list[dict[str, Any]]] = {}
            self._size = 1

        def new_batch(self, size: int = 1) -> None:
            """The study has new finished trials and ``size`` asks follow: the next ask
            fits again and draws the batch's proposals."""
            self._fitted.clear()
            self._queues.clear()
            self._taken.clear()
            self._size = max(1, size)

        def _fit(self, study: Any, search_space: dict[str, Any], key: Any) -> Any:
            fitted = self._fitted.get(key)
            if fitted is None:
                states = [TrialState.COMPLETE, TrialState.PRUNED]
                trials = study._get_trials(deepcopy=False, states=states, use_cache=True)
                if self._gamma is None:
                    from optuna.samplers._tpe.sampler import (
                        default_gamma,
                        default_gamma_multiobjective,
                    )

                    multi = len(study.directions) > 1
                    self._gamma = default_gamma_multiobjective if multi else default_gamma
                below, above = _split_trials(study, trials, self._gamma(len(trials)))
                fitted = self._fitted[key] = (
                    self._build_parzen_estimator(study, search_space, below, handle_below=True),
                    self._build_parzen_estimator(study, search_space, above, handle_below=False),
                )
            return fitted

        def _sample(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
            key = tuple((name, repr(dist)) for name, dist in search_space.items())
            queue = self._queues.get(key)
            if not queue:
                mpe_below, mpe_above = self._fit(study, search_space, key)
                taken = self._taken_points(study, search_space, key) if self._avoid else None
                queue = self._queues[key] = self._proposals(
                    mpe_below, mpe_above, search_space, max(self._size, 1), taken
                )
            return queue.pop(0)

        @staticmethod
        def _point(samples: dict[str, Any], names: list[str], c: int) -> tuple[float, ...]:
            return tuple(float(samples[n][c]) for n in names)

        def _taken_points(
            self, study: Any, search_space: dict[str, Any], key: Any
        ) -> set[tuple[float, ...]]:
            """The points of ``search_space`` the study's trials hold (internal values)."""
            taken = self._taken.get(key)
            if taken is None:
                names = list(search_space)
                taken = self._taken[key] = {
                    tuple(search_space[n].to_internal_repr(t.params[n]) for n in names)
                    for t in study._get_trials(deepcopy=False, use_cache=True)
                    if all(n in t.params for n in names)
                }
            return taken

        def _proposals(
            self,
            mpe_below: Any,
            mpe_above: Any,
            search_space: dict[str, Any],
            asks: int,
            taken: set[tuple[float, ...]] | None = None,
        ) -> list[dict[str, Any]]:
            k = self._n_ei_candidates
            samples = mpe_below.sample(self._rng.rng, k * asks)
            # the acquisition in chunks of whole asks, a bounded (chunk x trials) matrix
            components = max(1, len(mpe_above._mixture_distribution.weights))
            per_chunk = max(1, (1 << 22) // (k * components)) * k
            acquisition = np.concatenate(
                [
                    self._compute_acquisition_func(
                        {p: v[at : at + per_chunk] for p, v in samples.items()},
                        mpe_below,
                        mpe_above,
                    )
                    for at in range(0, k * asks, per_chunk)
                ]
            )
            out = []
            names = list(search_space)
            pool = np.argsort(-acquisition, kind="stable")  # every candidate, best first
            at = 0
            for j in range(asks):
                own = slice(j * k, (j + 1) * k)
                if taken is None:
                    values = {p: v[own] for p, v in samples.items()}
                    chosen = TPESampler._compare(values, acquisition[own])
                else:
                    # the best of its own candidates that no trial holds yet; all held: the
                    # batch's best candidate no trial holds; none: its own best
                    order = j * k + np.argsort(-acquisition[own], kind="stable")
                    pick = next(
                        (c for c in order if self._point(samples, names, c) not in taken), None
                    )
                    while pick is None and at < len(pool):
                        if self._point(samples, names, pool[at]) not in taken:
                            pick = pool[at]
                        at += 1
                    pick = order[0] if pick is None else pick
                    chosen = {p: v[pick].item() for p, v in samples.items()}
                    taken.add(self._point(samples, names, pick))
                out.append(
                    {
                        name: dist.to_external_repr(chosen[name])
                        for name, dist in search_space.items()
                    }
                )
            return out

    return BatchTPESampler


class UniformBatch:
    """Random sampling of whole batches (see the module doc), seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)


def batch_tpe(**kwargs: Any) -> Any:
    """A :class:`BatchTPESampler` (Optuna imported only when used)."""
    return _tpe_class()(**kwargs)


def sampler_settings(
    name: str, seed: int, batch: int, n_objectives: int, blocks: int, stepped: bool
) -> dict[str, Any]:
    """The sampler's constructor arguments, as recorded in the provenance and the study."""
    if name not in SAMPLERS:
        raise SamplerError(f"--sampler: {name!r} is not one of {', '.join(SAMPLERS)}")
    if name == "cmaes" and n_objectives > 1:
        raise SamplerError(
            "--sampler cmaes: CMA-ES optimises one objective; use tpe or nsga2 for --objectives"
        )
    if name == "tpe":
        return {
            "class": "BatchTPESampler(TPESampler)",
            "seed": seed,
            "multivariate": True,
            "group": blocks > 1,
            "constant_liar": False,
            "avoid_duplicates": True,
            "n_startup_trials": 10,
            "n_ei_candidates": 24,
            "fitted": "once per batch",
            "ask_ahead": True,
        }
    if name == "cmaes":
        return {
            "class": "CmaEsSampler",
            "seed": seed,
            "popsize": batch,
            "with_margin": stepped,
            "n_startup_trials": 0,
            "independent_sampler": "RandomSampler (categorical parameters)",
        }
    if name == "nsga2":
        return {"class": "NSGAIISampler", "seed": seed, "population_size": batch}
    return {"class": "UniformBatch", "seed": seed, "ask_ahead": True}


def make_sampler(settings: dict[str, Any]) -> Any:
    """The Optuna sampler of :func:`sampler_settings`' ``settings``."""
    import optuna

    seed = settings["seed"]
    kind = settings["class"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if kind.startswith("BatchTPESampler"):
            return batch_tpe(
                avoid_duplicates=settings["avoid_duplicates"],
                seed=seed,
                multivariate=True,
                group=settings["group"],
                n_startup_trials=settings["n_startup_trials"],
                n_ei_candidates=settings["n_ei_candidates"],
            )
        if kind == "CmaEsSampler":
            return optuna.samplers.CmaEsSampler(
                seed=seed,
                popsize=settings["popsize"],
                with_margin=settings["with_margin"],
                n_startup_trials=0,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                warn_independent_sampling=False,
            )
        if kind == "NSGAIISampler":
            return optuna.samplers.NSGAIISampler(
                seed=seed, population_size=settings["population_size"]
            )
        return UniformBatch(seed)
