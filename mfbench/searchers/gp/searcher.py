"""The GP searcher behind MOBSTER, Hyper-Tune and SyncMOBSTER (reference-methods.md §5-7).

A multi-fidelity Bayesian-optimisation searcher for a Hyperband-type scheduler: the
scheduler decides what runs and tells the searcher about results at rung levels
(:meth:`observe`) and about running evaluations (:meth:`register_pending`); the searcher
proposes new configurations by expected improvement under a GP model of the loss over
configuration and fidelity.

Importing this module does not import torch: the model is built, and torch imported, on
the first model-based proposal. Every model computation runs single-threaded and
deterministically (:func:`~mfbench.searchers.gp.runtime.torch_session`) with random
numbers from the run's seeded streams, so a run is bit-reproducible by seed.

Speed options (off by default in this class, i.e. the reference's behaviour; the method
YAMLs turn them on; see docs/gp_methods.md for their measured effect):
``opt_refit_growth`` (refit the hyperparameters only once the data grew by a fraction),
``opt_warmstart`` with ``opt_warmstart_maxiter`` / ``opt_warmstart_nstarts`` (cheaper fits
from the previous estimate), ``opt_cold_refit_growth`` (a full fit now and then) and the
reference's ``opt_skip_init_length`` / ``opt_skip_period``. Between refits the posterior
is still recomputed exactly on all current data with the current hyperparameters.

Scheduler hooks (optional; ASHA calls them, the synchronous scheduler needs neither):
``configure_levels(levels, num_brackets)`` tells the searcher the fidelity levels at
which it will observe data (rung levels plus the maximum fidelity), and
``bracket_distribution(default)`` returns the distribution over brackets a new trial
draws from (Hyper-Tune adapts it; otherwise ``default`` is returned unchanged).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

from mfbench.problem import Problem
from mfbench.searchers.base import Searcher
from mfbench.space import Config

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from mfbench.searchers.gp.models import GPModel
    from mfbench.searchers.gp.posterior import BlockPosterior

_MODELS = ("gp_multitask", "gp_independent")
_SCORINGS = ("auto", "thompson_indep", "acq_func")


def _restricted_to_table(space: Any) -> bool:
    """True if the space is a table that is not the complete grid of categorical values."""
    from mfbench.space import Categorical

    if space.table is None:
        return False
    hps = space.hyperparameters
    if not all(isinstance(hp, Categorical) for hp in hps):
        return True
    return len(space.table) != int(np.prod([len(hp.choices) for hp in hps]))


class GPSearcher(Searcher):
    """Gaussian-process searcher (MOBSTER; Hyper-Tune with ``hypertune=True``).

    Args:
        problem: the run's problem.
        model: ``"gp_multitask"`` (joint GP over configuration and fidelity with the
            exp-decay resource kernel) or ``"gp_independent"`` (one GP per level).
        hypertune: use the Hyper-Tune ensemble predictive distribution for the
            acquisition and adapt the bracket distribution (reference §6).
        points_to_evaluate: configurations tried first (``None``: the midpoint).
        allow_duplicates: allow proposing a configuration again.
        num_init_random: the first this many distinct configurations (the initial
            points included) are drawn at random.
        num_init_candidates: random candidates scored per proposal.
        initial_scoring: ``"thompson_indep"`` (rank candidates by one independent
            posterior draw, then locally optimise EI from the best), ``"acq_func"``
            (rank by EI itself) or ``"auto"``: ``"acq_func"`` on a space restricted to
            a table that is not a complete grid of categorical values (the reference
            launcher's ``restrict_configurations``), else ``"thompson_indep"``.
        local_optimization: locally optimise EI (L-BFGS-B on the relaxed encoding)
            from the best-ranked candidate; ``None``: only where ``"auto"`` scoring
            picks ``"thompson_indep"``. A result that is not a new configuration of
            the space (e.g. off the table) falls back to the candidate.
        local_opt_maxiter: L-BFGS-B iterations of the local optimisation.
        acq_jitter: EI improvement margin ``xi``, in the units of the metric.
        resource_acq_threshold: MOBSTER evaluates EI at the largest level with at least
            this many observations (else the smallest observed level).
        num_fantasy_samples: fantasy samples per pending evaluation.
        normalize_targets: standardise the losses before fitting.
        max_size_data_for_model: cap on the observations the model sees (subsampled,
            keeping the trials that went furthest); ``None``: no cap.
        opt_nstarts: L-BFGS-B starts of a hyperparameter fit.
        opt_maxiter: L-BFGS-B iterations per start.
        opt_tol: L-BFGS-B tolerance.
        opt_skip_init_length: below this many observations every data change refits
            (neither ``opt_skip_period`` nor ``opt_refit_growth`` applies).
        opt_skip_period: beyond it, refit only every this many data changes.
        opt_refit_growth: beyond it, refit only once the number of observations exceeds
            ``(1 + opt_refit_growth)`` times the number at the last fit (0: always).
        opt_warmstart: start a fit from the previous estimate instead of the initial
            values (the random restarts then perturb around it).
        opt_warmstart_nstarts: starts of a warm-started fit (``None``: ``opt_nstarts``).
        opt_warmstart_maxiter: iterations per start of a warm-started fit (``None``:
            ``opt_maxiter``).
        opt_cold_refit_growth: with ``opt_warmstart``, a full fit from the initial values
            (``opt_nstarts`` x ``opt_maxiter``) is still made once the number of
            observations exceeds ``(1 + opt_cold_refit_growth)`` times the number at
            the last such fit, so a poor early estimate is not carried forever
            (``None``: only the first fit is cold).
        hypertune_distribution_num_samples: samples of the ranking losses.
        levels: the fidelity levels observed (rung levels and the maximum fidelity);
            normally set by the scheduler through :meth:`configure_levels`.
    """

    def __init__(
        self,
        problem: Problem,
        model: Literal["gp_multitask", "gp_independent"] = "gp_multitask",
        hypertune: bool = False,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        allow_duplicates: bool = False,
        num_init_random: int = 6,
        num_init_candidates: int = 250,
        initial_scoring: Literal["auto", "thompson_indep", "acq_func"] = "auto",
        local_optimization: bool | None = None,
        local_opt_maxiter: int = 1000,
        acq_jitter: float = 0.01,
        resource_acq_threshold: int = 3,
        num_fantasy_samples: int = 20,
        normalize_targets: bool = True,
        max_size_data_for_model: int | None = 500,
        opt_nstarts: int = 2,
        opt_maxiter: int = 50,
        opt_tol: float = 1e-6,
        opt_skip_init_length: int = 150,
        opt_skip_period: int = 1,
        opt_refit_growth: float = 0.0,
        opt_warmstart: bool = False,
        opt_warmstart_nstarts: int | None = None,
        opt_warmstart_maxiter: int | None = None,
        opt_cold_refit_growth: float | None = None,
        hypertune_distribution_num_samples: int = 50,
        levels: Sequence[int] | None = None,
    ) -> None:
        super().__init__(problem, points_to_evaluate=points_to_evaluate, allow_duplicates=allow_duplicates)
        if model not in _MODELS:
            raise ValueError(f"searcher.model must be one of {_MODELS}, got {model!r}")
        if initial_scoring not in _SCORINGS:
            raise ValueError(f"searcher.initial_scoring must be one of {_SCORINGS}, got {initial_scoring!r}")
        positive = {
            "num_init_candidates": num_init_candidates, "local_opt_maxiter": local_opt_maxiter,
            "resource_acq_threshold": resource_acq_threshold, "num_fantasy_samples": num_fantasy_samples,
            "opt_nstarts": opt_nstarts, "opt_maxiter": opt_maxiter, "opt_skip_period": opt_skip_period,
            "hypertune_distribution_num_samples": hypertune_distribution_num_samples,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"searcher.{name} must be >= 1, got {value}")
        for name, value in [("num_init_random", num_init_random), ("opt_skip_init_length", opt_skip_init_length),
                            ("opt_refit_growth", opt_refit_growth), ("acq_jitter", acq_jitter),
                            ("opt_cold_refit_growth", 0 if opt_cold_refit_growth is None else opt_cold_refit_growth)]:
            if value < 0:
                raise ValueError(f"searcher.{name} must be >= 0, got {value}")
        if max_size_data_for_model is not None and max_size_data_for_model < 2:
            raise ValueError(f"searcher.max_size_data_for_model must be >= 2 or null, got {max_size_data_for_model}")
        self.model_name = model
        self.hypertune = hypertune
        self.num_init_random = num_init_random
        self.num_init_candidates = num_init_candidates
        restricted = _restricted_to_table(self.space)
        if initial_scoring == "auto":
            initial_scoring = "acq_func" if restricted else "thompson_indep"
        self.initial_scoring = initial_scoring
        self.local_optimization = (not restricted) if local_optimization is None else bool(local_optimization)
        self.local_opt_maxiter = local_opt_maxiter
        self.acq_jitter = acq_jitter
        self.resource_acq_threshold = resource_acq_threshold
        self.num_fantasy_samples = num_fantasy_samples
        self.normalize_targets = normalize_targets
        self.max_size_data_for_model = max_size_data_for_model
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self.opt_tol = opt_tol
        self.opt_skip_init_length = opt_skip_init_length
        self.opt_skip_period = opt_skip_period
        self.opt_refit_growth = opt_refit_growth
        self.opt_warmstart = opt_warmstart
        self.opt_warmstart_nstarts = opt_nstarts if opt_warmstart_nstarts is None else opt_warmstart_nstarts
        self.opt_warmstart_maxiter = opt_maxiter if opt_warmstart_maxiter is None else opt_warmstart_maxiter
        self.opt_cold_refit_growth = opt_cold_refit_growth
        self.hypertune_num_samples = hypertune_distribution_num_samples
        self.levels: list[int] = sorted({int(r) for r in levels}) if levels else []
        self.num_brackets = 1

        from mfbench.searchers.gp.state import SearchState

        self.state = SearchState()
        self._model_rng = problem.rng("searcher.gp.model")
        self._cap_rng = problem.rng("searcher.gp.data_cap")
        self._torch_seed = int(problem.rng("searcher.gp.torch").integers(2**31 - 1))
        self._model: GPModel | None = None
        self._fitted_version = -1  # state.version of the data the hyperparameters were last updated for
        self._num_obs_at_fit = 0
        self._num_obs_at_cold_fit = 0
        self._skip_counter = 0
        self._has_fit = False
        self._ensemble: dict[int, float] | None = None
        self._bracket_head: np.ndarray | None = None
        self._hypertune_signature: tuple[int, int] | None = None
        self.stats = {"proposals": 0, "model_proposals": 0, "fits": 0, "cold_fits": 0, "fit_evaluations": 0}

    # --------------------------------------------------------- scheduler hooks
    def configure_levels(self, levels: Sequence[int], num_brackets: int = 1) -> None:
        """The fidelity levels data arrives at (ascending, max fidelity last) and the brackets."""
        self.levels = sorted({int(r) for r in levels} | set(self.levels))
        self.num_brackets = int(num_brackets)

    def bracket_distribution(self, default: np.ndarray) -> np.ndarray:
        """Distribution over brackets for a new trial (Hyper-Tune's, else ``default``)."""
        if not self.hypertune:
            return default
        from mfbench.searchers.gp.hypertune import combine_bracket_distribution

        return combine_bracket_distribution(default, self._bracket_head)

    # -------------------------------------------------------- searcher events
    def observe(self, trial_id: int, config: Config, fidelity: int, loss: float) -> None:
        self.state.observe(trial_id, self._encoded(trial_id, config), int(fidelity), loss)

    def register_pending(self, trial_id: int, config: Config, fidelity: int) -> None:
        self.state.add_pending(trial_id, self._encoded(trial_id, config), int(fidelity))

    def _encoded(self, trial_id: int, config: Config) -> np.ndarray:
        """The encoding of a trial's configuration (a trial keeps its configuration)."""
        encoded = self.state.encoded.get(trial_id)
        return self.space.encode(config) if encoded is None else encoded

    def remove_pending(self, trial_id: int) -> None:
        self.state.remove_pending(trial_id)

    def describe(self) -> dict[str, Any]:
        return {
            "searcher": "gp",
            "model": self.model_name,
            "hypertune": self.hypertune,
            "initial_scoring": self.initial_scoring,
            "local_optimization": self.local_optimization,
            "opt_refit_growth": self.opt_refit_growth,
            "opt_warmstart": self.opt_warmstart,
            "opt_cold_refit_growth": self.opt_cold_refit_growth,
            "stats": dict(self.stats),
            **({"hypertune_ensemble": {str(r): round(t, 6) for r, t in (self._ensemble or {}).items()},
                "hypertune_bracket_head": [round(float(w), 6) for w in self._bracket_head]
                if self._bracket_head is not None else None} if self.hypertune else {}),
        }

    # --------------------------------------------------------------- proposals
    def _propose(self) -> Config | None:
        self.stats["proposals"] += 1
        if len(self._seen) < self.num_init_random or self.state.num_observations == 0:
            return self.sample_unseen()
        from mfbench.searchers.gp.runtime import torch_session

        with torch_session(self._torch_seed + self.stats["proposals"]):
            config = self._propose_with_model()
        self.stats["model_proposals"] += 1
        return config if config is not None else self.sample_unseen()

    def _all_levels(self) -> list[int]:
        levels = set(self.levels) | {self.problem.max_fidelity}
        levels |= {r for obs in self.state.observed.values() for r in obs}
        levels |= set(self.state.pending.values())
        return sorted(levels)

    def _ensure_model(self) -> GPModel:
        import torch

        from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP

        dim = self.space.encoded_dim
        if self.model_name == "gp_multitask":
            if self._model is None:
                self._model = MultiTaskGP(dim, self.problem.max_fidelity).double()
            return self._model
        levels = self._all_levels()
        old = self._model
        if old is None or old.levels != levels:  # type: ignore[union-attr]
            model = IndependentGP(dim, levels).double()
            if old is not None:  # carry over the estimate (warm start), new levels at initial values
                with torch.no_grad():
                    model.kernel_x.raw_lengthscale.copy_(old.kernel_x.raw_lengthscale)
                    model.raw_noise.copy_(old.raw_noise)
                    for i, level in enumerate(levels):
                        if level in old.levels:  # type: ignore[union-attr]
                            j = old.levels.index(level)  # type: ignore[union-attr]
                            model.raw_outputscales[i] = old.raw_outputscales[j]
                            model.constants[i] = old.constants[j]
            self._model = model
        return self._model

    def _model_data(self) -> tuple[list[tuple[int, int, float]], float, float]:
        from mfbench.searchers.gp.state import cap_observations

        data = self.state.observations()
        if self.max_size_data_for_model is not None:
            data = cap_observations(data, self.max_size_data_for_model, self._cap_rng)
        losses = np.array([y for _, _, y in data])
        if self.normalize_targets:
            mean, std = float(losses.mean()), max(float(losses.std()), 1e-9)
        else:
            mean, std = 0.0, 1.0
        return data, mean, std

    def _inputs(self, pairs: Sequence[tuple[int, int]]) -> "torch.Tensor":
        """Extended inputs ``[x, r]`` of ``(trial_id, level)`` pairs, shape ``(len(pairs), d + 1)``."""
        import torch

        out = np.empty((len(pairs), self.space.encoded_dim + 1), dtype=np.float64)
        if pairs:
            encoded = self.state.encoded
            out[:, :-1] = [encoded[t] for t, _ in pairs]
            out[:, -1] = [r for _, r in pairs]
        return torch.from_numpy(out)

    def _maybe_fit(self, model: GPModel, z: "torch.Tensor", y: "torch.Tensor") -> None:
        """Refit the hyperparameters if the data changed (subject to the skip options)."""
        from mfbench.searchers.gp.fit import fit_map

        if self._fitted_version == self.state.version:
            return
        self._fitted_version = self.state.version
        num_obs = self.state.num_observations
        if self._has_fit and num_obs >= self.opt_skip_init_length:
            self._skip_counter += 1
            if (self._skip_counter - 1) % self.opt_skip_period != 0:
                return
            if num_obs < (1.0 + self.opt_refit_growth) * self._num_obs_at_fit:
                return
        warm = self.opt_warmstart and self._has_fit
        if warm and self.opt_cold_refit_growth is not None:
            warm = num_obs < (1.0 + self.opt_cold_refit_growth) * self._num_obs_at_cold_fit
        if not warm:
            model.reset_parameters(y)
            self._num_obs_at_cold_fit = num_obs
        result = fit_map(
            model, z, y, self._model_rng,
            num_starts=self.opt_warmstart_nstarts if warm else self.opt_nstarts,
            max_iterations=self.opt_warmstart_maxiter if warm else self.opt_maxiter,
            tolerance=self.opt_tol,
        )
        self._has_fit = True
        self._num_obs_at_fit = num_obs
        self.stats["fits"] += 1
        self.stats["cold_fits"] += int(not warm)
        self.stats["fit_evaluations"] += result.num_evaluations

    def _propose_with_model(self) -> Config | None:
        import torch

        from mfbench.searchers.gp.candidates import draw_candidates
        from mfbench.searchers.gp.posterior import BlockPosterior

        model = self._ensure_model()
        data, mean, std = self._model_data()
        z = self._inputs([(t, r) for t, r, _ in data])
        y = torch.tensor([(loss - mean) / std for _, _, loss in data], dtype=torch.float64)
        self._maybe_fit(model, z, y)
        with torch.no_grad():
            if self.hypertune:
                self._update_hypertune(model, BlockPosterior(model, z, y), data, y)
            pending = self.state.pending_list()
            posterior = BlockPosterior(model, z, y, self._inputs(pending), self.num_fantasy_samples, self._model_rng)
            acquisition_level, incumbents = self._incumbent_inputs(data, pending)
            best = self._predict(posterior, incumbents, acquisition_level, means_only=True)[0].min(dim=0).values
            candidates, encoded = draw_candidates(self, self.num_init_candidates, self.rng)
            if not candidates:
                return None
            x = torch.from_numpy(encoded)
            means, variances = self._predict(posterior, x, acquisition_level)
            stds = variances.sqrt()
            jitter = self.acq_jitter / std
            if self.initial_scoring == "acq_func":
                from mfbench.searchers.gp.acquisition import expected_improvement

                scores = -expected_improvement(means, stds, best, jitter).numpy()
            else:
                from mfbench.searchers.gp.acquisition import independent_thompson

                scores = independent_thompson(means.numpy(), stds.numpy(), self._model_rng)
        order = np.argsort(scores, kind="stable")
        first = candidates[int(order[0])]
        if not self.local_optimization:
            return first
        return self._locally_optimize(posterior, first, best, jitter, acquisition_level)

    def _incumbent_inputs(
        self, data: list[tuple[int, int, float]], pending: list[tuple[int, int]]
    ) -> tuple[int | None, "torch.Tensor"]:
        """The level EI is computed at (None: Hyper-Tune ensemble) and the incumbents' configs."""
        import torch

        trials = [t for t, _, _ in data] + [t for t, _ in pending]
        if self.hypertune:
            level = None
            chosen = sorted(set(trials))
        else:
            counts: dict[int, int] = {}
            for _, r, _ in data:
                counts[r] = counts.get(r, 0) + 1
            supported = [r for r, c in counts.items() if c >= self.resource_acq_threshold]
            level = max(supported) if supported else min(counts)
            chosen = sorted({t for t, r, _ in data if r == level} | {t for t, r in pending if r == level})
        x = np.asarray([self.state.encoded[t] for t in chosen], dtype=np.float64)
        return level, torch.from_numpy(x.reshape(len(chosen), self.space.encoded_dim))

    def _predict(
        self, posterior: BlockPosterior, x: "torch.Tensor", level: int | None, means_only: bool = False
    ) -> tuple["torch.Tensor", "torch.Tensor"]:
        """Predictive means ``(n, m)`` and variances ``(n,)`` (``None`` if ``means_only``) at level
        ``level`` or of the Hyper-Tune ensemble."""
        return posterior.predict_mixture(x, self._level_weights(level), means_only)  # type: ignore[return-value]

    def _level_weights(self, level: int | None) -> dict[int, float]:
        """The levels the acquisition predicts at, with weights: ``level`` alone, or (``None``)
        the Hyper-Tune ensemble (the smallest level before the ensemble exists)."""
        if level is not None:
            return {level: 1.0}
        return self._ensemble or {min(self._all_levels()): 1.0}

    def _locally_optimize(
        self, posterior: BlockPosterior, start: Config, best: "torch.Tensor", jitter: float, level: int | None
    ) -> Config:
        """L-BFGS-B on ``-EI`` from ``start`` over the relaxed encoding (numpy value and gradient)."""
        from mfbench.searchers.gp.candidates import first_new, minimize_in_box
        from mfbench.searchers.gp.local_ei import negative_ei_and_grad

        dim = self.space.encoded_dim
        components = [(weight, weight * weight, posterior.level_predictor(r, dim).numpy_terms())
                      for r, weight in self._level_weights(level).items()]
        best_np = best.numpy()

        def objective(vector: np.ndarray) -> tuple[float, np.ndarray]:
            return negative_ei_and_grad(vector, components, best_np, jitter)

        x0 = self.space.encode(start)
        optimised = self.space.decode(minimize_in_box(objective, x0, self.local_opt_maxiter))
        return first_new(self, [optimised, start]) or start

    # --------------------------------------------------------------- Hyper-Tune
    def _update_hypertune(self, model: GPModel, posterior: BlockPosterior,
                          data: list[tuple[int, int, float]], y: "torch.Tensor") -> None:
        """Recompute theta and the bracket head when (L, |D|) changed (reference §6)."""
        import torch

        from mfbench.searchers.gp import hypertune as ht

        levels = self._all_levels()
        counts: dict[int, int] = {}
        for _, r, _ in data:
            counts[r] = counts.get(r, 0) + 1
        num_levels = ht.num_supported_levels(levels, counts)
        if num_levels < 2:
            return
        top = levels[num_levels - 1]
        rows = [i for i, (_, r, _) in enumerate(data) if r == top]
        signature = (num_levels, len(rows))
        if signature == self._hypertune_signature:
            return
        self._hypertune_signature = signature
        x_top = torch.from_numpy(np.asarray([self.state.encoded[data[i][0]] for i in rows], dtype=np.float64))
        losses = ht.hypertune_losses(model, posterior, x_top, y[rows], levels, num_levels,
                                     self.hypertune_num_samples, self._model_rng)
        theta = ht.level_weights(losses)
        self._ensemble = ht.ensemble_distribution(levels, theta)
        self._bracket_head = ht.bracket_weights(levels, theta, self.num_brackets)

