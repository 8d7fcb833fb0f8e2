"""The GP searcher behind MOBSTER, Hyper-Tune and SyncMOBSTER (docs/methods/model_based.md).

A multi-fidelity Bayesian-optimisation searcher for a Hyperband-type scheduler: the
scheduler decides what runs and tells the searcher about results at rung levels
(:meth:`GPSearcher.observe`) and about running evaluations
(:meth:`GPSearcher.register_pending`); the searcher proposes new configurations by
expected improvement under a GP model of the loss over configuration and fidelity.

The searcher orchestrates one proposal from parts that each own one concept:

1. observations: :class:`~mfbench.searchers.gp.state.SearchState`;
2. the data the model sees (cap, normalisation):
   :mod:`~mfbench.searchers.gp.training_data`;
3. the model kept between proposals: :mod:`~mfbench.searchers.gp.model_store`;
4. (maybe) a hyperparameter fit: :mod:`~mfbench.searchers.gp.refit` decides,
   :mod:`~mfbench.searchers.gp.fit` fits;
5. the posterior with fantasies for the pending evaluations:
   :mod:`~mfbench.searchers.gp.posterior`; with Hyper-Tune, the ensemble over levels:
   :mod:`~mfbench.searchers.gp.hypertune_state`;
6. random unseen candidates, ranked (:mod:`~mfbench.searchers.gp.candidates`,
   :mod:`~mfbench.searchers.gp.acquisition`), then EI locally optimised from the best.

Importing this module does not import torch; building the searcher does (timed as
``import_seconds``, before the simulation starts, so it is not a decision's time). Every model computation runs single-threaded and
deterministically (:func:`~mfbench.searchers.gp.runtime.torch_session`) with random
numbers from the run's seeded streams, so a run is bit-reproducible by seed.

Speed options (off by default in this class, i.e. the reference's behaviour; the method
YAMLs turn them on through ``conf/method/searcher/gp.yaml``; see docs/methods/model_based.md for
their measured effect): the ``opt_*`` keywords, see
:class:`~mfbench.searchers.gp.refit.RefitOptions`. Between refits the posterior is still
recomputed exactly on all current data with the current hyperparameters.

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
from mfbench.searchers.gp.hypertune_state import HyperTuneState
from mfbench.searchers.gp.model_store import ModelStore
from mfbench.searchers.gp.proposal_options import ProposalOptions
from mfbench.searchers.gp.refit import RefitOptions, RefitSchedule
from mfbench.searchers.gp.state import SearchState
from mfbench.searchers.gp.training_data import TrainingData, TrainingDataBuilder
from mfbench.space import Config

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from mfbench.searchers.gp.models import GPModel


class GPSearcher(Searcher):
    """Gaussian-process searcher (MOBSTER; Hyper-Tune with ``hypertune=True``).

    The keywords are the YAML keys of ``method.searcher``; they are grouped internally
    (:class:`ProposalOptions`, :class:`RefitOptions`, the data cap, Hyper-Tune), and each
    group validates its own, naming the key in the error.

    Args:
        problem: the run's problem.
        model: ``"gp_multitask"`` (joint GP over configuration and fidelity with the
            exp-decay resource kernel) or ``"gp_independent"`` (one GP per level).
        hypertune: use the Hyper-Tune ensemble predictive distribution for the
            acquisition and adapt the bracket distribution (docs/methods/model_based.md).
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
        opt_nstarts, opt_maxiter, opt_tol, opt_skip_init_length, opt_skip_period,
        opt_refit_growth, opt_warmstart, opt_warmstart_nstarts, opt_warmstart_maxiter,
        opt_cold_refit_growth: the hyperparameter fit and when to refit, see
            :class:`~mfbench.searchers.gp.refit.RefitOptions`.
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
        self.models = ModelStore(model, self.space.encoded_dim, problem.max_fidelity)
        self.proposal = ProposalOptions(
            num_init_random=num_init_random, num_init_candidates=num_init_candidates,
            initial_scoring=initial_scoring, local_optimization=local_optimization,
            local_opt_maxiter=local_opt_maxiter, acq_jitter=acq_jitter,
            resource_acq_threshold=resource_acq_threshold, num_fantasy_samples=num_fantasy_samples,
        ).for_space(self.space)
        self.refit = RefitSchedule(RefitOptions(
            opt_nstarts=opt_nstarts, opt_maxiter=opt_maxiter, opt_tol=opt_tol,
            opt_skip_init_length=opt_skip_init_length, opt_skip_period=opt_skip_period,
            opt_refit_growth=opt_refit_growth, opt_warmstart=opt_warmstart,
            opt_warmstart_nstarts=opt_warmstart_nstarts, opt_warmstart_maxiter=opt_warmstart_maxiter,
            opt_cold_refit_growth=opt_cold_refit_growth,
        ))
        self.hypertune = hypertune
        self.hypertune_state = HyperTuneState(hypertune_distribution_num_samples)
        self.levels: list[int] = sorted({int(r) for r in levels}) if levels else []
        self.num_brackets = 1
        self.state = SearchState()
        # the named streams are created in this order since the first version (keep it)
        self._model_rng = problem.rng("searcher.gp.model")  # fits, fantasies, Thompson and Hyper-Tune draws
        self.training_data = TrainingDataBuilder(max_size_data_for_model, normalize_targets,
                                                 problem.rng("searcher.gp.data_cap"))
        self._torch_seed = int(problem.rng("searcher.gp.torch").integers(2**31 - 1))
        self.stats = {"proposals": 0, "model_proposals": 0, "fits": 0, "cold_fits": 0, "fit_evaluations": 0}
        # The one-off import of the model stack (torch, SciPy's optimiser; ~1.3 s in a fresh process)
        # happens here, before the simulation, as the reference's GP searchers import theirs when
        # they are built: done at the first model-based proposal, it would count as decision time
        # and, with the decision-time charge on, move that proposal's simulated time.
        from mfbench.searchers.gp.runtime import load_model_stack

        self.import_seconds = load_model_stack()

    # --------------------------------------------------------- scheduler hooks
    def configure_levels(self, levels: Sequence[int], num_brackets: int = 1) -> None:
        """The fidelity levels data arrives at (ascending, max fidelity last) and the brackets."""
        self.levels = sorted({int(r) for r in levels} | set(self.levels))
        self.num_brackets = int(num_brackets)

    def bracket_distribution(self, default: np.ndarray) -> np.ndarray:
        """Distribution over brackets ``(num_brackets,)`` for a new trial (Hyper-Tune's, else ``default``)."""
        return self.hypertune_state.bracket_distribution(default) if self.hypertune else default

    # -------------------------------------------------------- searcher events
    def observe(self, trial_id: int, config: Config, fidelity: int, loss: float) -> None:
        self.state.observe(trial_id, self._encoded(trial_id, config), int(fidelity), loss)

    def register_pending(self, trial_id: int, config: Config, fidelity: int) -> None:
        self.state.add_pending(trial_id, self._encoded(trial_id, config), int(fidelity))

    def remove_pending(self, trial_id: int) -> None:
        self.state.remove_pending(trial_id)

    def _encoded(self, trial_id: int, config: Config) -> np.ndarray:
        """The encoding ``(d,)`` of a trial's configuration (a trial keeps its configuration)."""
        encoded = self.state.encoded.get(trial_id)
        return self.space.encode(config) if encoded is None else encoded

    def unseen_rows(self) -> np.ndarray | None:
        """On a space restricted to a table, the rows not proposed yet (ascending indices,
        shape ``(num_unseen,)``); None on other spaces. For candidate search."""
        return None if self._seen_rows is None else np.flatnonzero(~self._seen_rows)

    def describe(self) -> dict[str, Any]:
        refit = self.refit.options
        return {
            "searcher": "gp",
            "model": self.models.model_name,
            "hypertune": self.hypertune,
            "initial_scoring": self.proposal.initial_scoring,
            "local_optimization": self.proposal.local_optimization,
            "opt_refit_growth": refit.opt_refit_growth,
            "opt_warmstart": refit.opt_warmstart,
            "opt_cold_refit_growth": refit.opt_cold_refit_growth,
            "stats": dict(self.stats),
            "import_seconds": self.import_seconds,
            **(self.hypertune_state.describe() if self.hypertune else {}),
        }

    # --------------------------------------------------------------- proposals
    def _propose(self) -> Config | None:
        self.stats["proposals"] += 1
        if len(self._seen) < self.proposal.num_init_random or self.state.num_observations == 0:
            return self.sample_unseen()
        from mfbench.searchers.gp.runtime import torch_session

        with torch_session(self._torch_seed + self.stats["proposals"]):
            config = self._propose_with_model()
        self.stats["model_proposals"] += 1
        return config if config is not None else self.sample_unseen()

    def _all_levels(self) -> list[int]:
        """Every level the model must cover, ascending: configured, maximum, observed, pending."""
        return sorted(set(self.levels) | {self.problem.max_fidelity} | self.state.levels())

    def _propose_with_model(self) -> Config | None:
        """Observations -> (maybe) fit -> posterior -> candidates -> EI -> local search.

        The order of these steps is the order of the draws from the random streams.
        """
        import torch

        from mfbench.searchers.gp.acquisition import score_candidates
        from mfbench.searchers.gp.candidates import draw_candidates, locally_optimize
        from mfbench.searchers.gp.posterior import BlockPosterior

        dim = self.space.encoded_dim
        model = self.models.model_for(self._all_levels())
        data = self.training_data.build(self.state)
        pairs = data.pairs()
        z = torch.from_numpy(self.state.extended_inputs(pairs, dim))
        trial_ids = [t for t, _ in pairs]  # label the configurations: a trial's rows at several levels share one
        y = data.targets()
        self._maybe_fit(model, z, y)
        with torch.no_grad():
            if self.hypertune:
                self.hypertune_state.update(model, BlockPosterior(model, z, y, configuration_ids=trial_ids),
                                            data.observations, y,
                                            self.state.encoded, self._all_levels(), self.num_brackets,
                                            self._model_rng)
            pending = self.state.pending_list()
            z_pending = torch.from_numpy(self.state.extended_inputs(pending, dim))
            posterior = BlockPosterior(model, z, y, z_pending, self.proposal.num_fantasy_samples, self._model_rng,
                                       configuration_ids=trial_ids + [t for t, _ in pending])
            weights, incumbents = self._acquisition_target(data, pending)
            best = posterior.predict_mixture(incumbents, weights, True)[0].min(dim=0).values  # (m,)
            candidates, encoded = draw_candidates(self, self.proposal.num_init_candidates, self.rng)
            if not candidates:
                return None
            means, variances = posterior.predict_mixture(torch.from_numpy(encoded), weights, False)
            jitter = self.proposal.acq_jitter / data.std  # the margin in normalised units
            scores = score_candidates(self.proposal.initial_scoring, means, variances.sqrt(), best, jitter,
                                      self._model_rng)
        first = candidates[int(np.argsort(scores, kind="stable")[0])]
        if not self.proposal.local_optimization:
            return first
        return locally_optimize(self, posterior, weights, first, best, jitter, self.proposal.local_opt_maxiter)

    def _maybe_fit(self, model: GPModel, z: torch.Tensor, y: torch.Tensor) -> None:
        """Refit the hyperparameters on ``z`` ``(n, d + 1)``, ``y`` ``(n,)`` if the schedule says so."""
        plan = self.refit.plan(self.state.version, self.state.num_observations)
        if plan is None:
            return
        from mfbench.searchers.gp.fit import fit_map
        from mfbench.searchers.gp.runtime import release_freed_memory

        if not plan.warm:
            model.reset_parameters(y)
        result = fit_map(model, z, y, self._model_rng, num_starts=plan.num_starts,
                         max_iterations=plan.max_iterations, tolerance=plan.tolerance)
        if not plan.warm:  # a cold fit leaves the heap at its largest; after warm ones it costs more than it saves
            release_freed_memory()
        self.refit.record(plan)
        self.stats["fits"] += 1
        self.stats["cold_fits"] += int(not plan.warm)
        self.stats["fit_evaluations"] += result.num_evaluations

    def _acquisition_target(
        self, data: TrainingData, pending: list[tuple[int, int]]
    ) -> tuple[dict[int, float], torch.Tensor]:
        """What EI is computed on: the level weights of the predictive distribution and the
        incumbents' encoded configurations ``(k, d)``.

        The incumbents are the trials observed or pending at the acquisition level ``r_acq``
        (:func:`~mfbench.searchers.gp.acquisition.acquisition_level`), for both methods. MOBSTER
        predicts at ``r_acq`` alone; Hyper-Tune predicts with its ensemble over levels, but
        still only at ``r_acq``'s configurations: Syne Tune fixes the resource attribute to
        ``r_acq`` before it computes ``current_best``, and its predictor keeps only the
        observed and pending configurations at that value.
        """
        import torch

        from mfbench.searchers.gp.acquisition import acquisition_level

        level = acquisition_level(data.level_counts(), self.proposal.resource_acq_threshold)
        if self.hypertune:
            weights = self.hypertune_state.level_weights(self._all_levels())
        else:
            weights = {level: 1.0}
        chosen = sorted({t for t, r, _ in data.observations if r == level} | {t for t, r in pending if r == level})
        return weights, torch.from_numpy(self.state.encoded_configs(chosen, self.space.encoded_dim))
