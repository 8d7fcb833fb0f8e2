"""When to refit the GP hyperparameters, and how hard: the refit options and their schedule.

Refitting the hyperparameters (MAP by L-BFGS-B, :func:`~mfbench.searchers.gp.fit.fit_map`)
is the dominant cost of a model-based proposal, so the searcher may skip it: between
refits the posterior is still recomputed exactly on all current data with the current
hyperparameters (docs/methods/model_based.md; docs/methods/model_based.md for the measured effect
of each option). The defaults are the reference's behaviour (refit on every data change,
always from the initial values); the method YAMLs turn the speed options on
(``conf/method/searcher/gp.yaml``).

:class:`RefitOptions` holds the ``opt_*`` options, named as the searcher's keywords (and
the YAML keys), and validates them; :class:`RefitSchedule` applies them: given the data
version and size, it answers "refit now? cold or warm? how many starts and iterations?"
with a :class:`FitPlan`, and is told by :meth:`RefitSchedule.record` that the fit was made.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RefitOptions:
    """The refit options of the GP searcher (the speed options), validated.

    Attributes:
        opt_nstarts: L-BFGS-B starts of a (cold) hyperparameter fit, ``>= 1``.
        opt_maxiter: L-BFGS-B iterations per start of a (cold) fit, ``>= 1``.
        opt_tol: L-BFGS-B tolerance.
        opt_skip_init_length: below this many observations every data change refits
            (neither ``opt_skip_period`` nor ``opt_refit_growth`` applies), ``>= 0``.
        opt_skip_period: beyond it, refit only every this many data changes, ``>= 1``.
        opt_refit_growth: beyond it, refit only once the number of observations exceeds
            ``(1 + opt_refit_growth)`` times the number at the last fit (0: always), ``>= 0``.
        opt_warmstart: start a fit from the previous estimate instead of the initial
            values (the random restarts then perturb around it).
        opt_warmstart_nstarts: starts of a warm-started fit (``None``: ``opt_nstarts``).
        opt_warmstart_maxiter: iterations per start of a warm-started fit (``None``:
            ``opt_maxiter``).
        opt_cold_refit_growth: with ``opt_warmstart``, a full fit from the initial values
            (``opt_nstarts`` x ``opt_maxiter``) is still made once the number of
            observations exceeds ``(1 + opt_cold_refit_growth)`` times the number at the
            last such fit, so a poor early estimate is not carried forever (``None``: only
            the first fit is cold), ``>= 0``.

    Raises:
        ValueError: an option out of range, named as the YAML key (``searcher.opt_*``).
    """

    opt_nstarts: int = 2
    opt_maxiter: int = 50
    opt_tol: float = 1e-6
    opt_skip_init_length: int = 150
    opt_skip_period: int = 1
    opt_refit_growth: float = 0.0
    opt_warmstart: bool = False
    opt_warmstart_nstarts: int | None = None
    opt_warmstart_maxiter: int | None = None
    opt_cold_refit_growth: float | None = None

    def __post_init__(self) -> None:
        for name in ("opt_nstarts", "opt_maxiter", "opt_skip_period"):
            if getattr(self, name) < 1:
                raise ValueError(f"searcher.{name} must be >= 1, got {getattr(self, name)}")
        cold_growth = 0 if self.opt_cold_refit_growth is None else self.opt_cold_refit_growth
        for name, value in [("opt_skip_init_length", self.opt_skip_init_length),
                            ("opt_refit_growth", self.opt_refit_growth),
                            ("opt_cold_refit_growth", cold_growth)]:
            if value < 0:
                raise ValueError(f"searcher.{name} must be >= 0, got {value}")

    @property
    def warm_nstarts(self) -> int:
        """Starts of a warm-started fit (``opt_warmstart_nstarts``, defaulting to ``opt_nstarts``)."""
        return self.opt_nstarts if self.opt_warmstart_nstarts is None else self.opt_warmstart_nstarts

    @property
    def warm_maxiter(self) -> int:
        """Iterations per start of a warm-started fit (defaulting to ``opt_maxiter``)."""
        return self.opt_maxiter if self.opt_warmstart_maxiter is None else self.opt_warmstart_maxiter


@dataclass(frozen=True)
class FitPlan:
    """A hyperparameter fit to make now.

    Attributes:
        warm: start from the current estimate (else reset the model to its initial
            values first: a cold fit).
        num_starts: L-BFGS-B starts.
        max_iterations: L-BFGS-B iterations per start.
        tolerance: L-BFGS-B tolerance.
        num_observations: observations the decision was made for (all of the searcher's
            observations, not only those the data cap lets the model see).
    """

    warm: bool
    num_starts: int
    max_iterations: int
    tolerance: float
    num_observations: int


class RefitSchedule:
    """Decides, per model-based proposal, whether and how to refit the hyperparameters.

    Args:
        options: the refit options.

    The schedule remembers the data version it last decided for (a proposal on unchanged
    data never refits), the number of data changes seen beyond ``opt_skip_init_length``
    (for ``opt_skip_period``), and the number of observations at the last fit and at
    the last cold fit (for ``opt_refit_growth`` and ``opt_cold_refit_growth``).
    """

    def __init__(self, options: RefitOptions) -> None:
        self.options = options
        self._decided_version = -1  # data version the last decision was made for
        self._num_changes = 0  # data changes seen at or beyond opt_skip_init_length
        self._has_fit = False
        self._num_obs_at_fit = 0
        self._num_obs_at_cold_fit = 0

    def plan(self, data_version: int, num_observations: int) -> FitPlan | None:
        """The fit to make on data of ``data_version`` with ``num_observations``, or None.

        Call once per model-based proposal (a call counts a data change towards
        ``opt_skip_period`` when the version is new), and :meth:`record` the fit once made.
        """
        if data_version == self._decided_version:
            return None
        self._decided_version = data_version
        options = self.options
        if self._has_fit and num_observations >= options.opt_skip_init_length:
            self._num_changes += 1
            if (self._num_changes - 1) % options.opt_skip_period != 0:
                return None
            if num_observations < (1.0 + options.opt_refit_growth) * self._num_obs_at_fit:
                return None
        warm = options.opt_warmstart and self._has_fit
        if warm and options.opt_cold_refit_growth is not None:
            warm = num_observations < (1.0 + options.opt_cold_refit_growth) * self._num_obs_at_cold_fit
        return FitPlan(
            warm=warm,
            num_starts=options.warm_nstarts if warm else options.opt_nstarts,
            max_iterations=options.warm_maxiter if warm else options.opt_maxiter,
            tolerance=options.opt_tol,
            num_observations=num_observations,
        )

    def record(self, plan: FitPlan) -> None:
        """The fit of ``plan`` was made: the growth thresholds now count from its data size."""
        self._has_fit = True
        self._num_obs_at_fit = plan.num_observations
        if not plan.warm:
            self._num_obs_at_cold_fit = plan.num_observations
