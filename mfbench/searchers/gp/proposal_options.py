"""How the GP searcher makes a proposal: the options of the random phase, candidates and EI.

:class:`ProposalOptions` holds the searcher's proposal keywords (named as the YAML keys),
validates them, and resolves the ``"auto"`` choices against the search space
(:meth:`ProposalOptions.for_space`), following the reference launcher
(docs/methods/model_based.md): on a space restricted to a table that is not the complete
grid of categorical values (the reference's ``restrict_configurations``), candidates are
ranked by EI itself and not locally optimised; elsewhere they are ranked by one
independent Thompson draw and EI is then locally optimised from the best.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mfbench.space import Categorical, ConfigSpace

#: the ``initial_scoring`` options
SCORINGS = ("auto", "thompson_indep", "acq_func")


def restricted_to_table(space: ConfigSpace) -> bool:
    """True if the space is a table that is not the complete grid of categorical values."""
    if space.table is None:
        return False
    hps = space.hyperparameters
    if not all(isinstance(hp, Categorical) for hp in hps):
        return True
    return len(space.table) != int(np.prod([len(hp.choices) for hp in hps]))


@dataclass(frozen=True)
class ProposalOptions:
    """The options of a model-based proposal, validated.

    Attributes:
        num_init_random: the first this many distinct configurations (the initial
            points included) are drawn at random, ``>= 0``.
        num_init_candidates: random candidates scored per proposal, ``>= 1``.
        initial_scoring: ``"thompson_indep"`` (rank candidates by one independent
            posterior draw), ``"acq_func"`` (rank by EI itself) or ``"auto"`` (resolved
            by :meth:`for_space`).
        local_optimization: locally optimise EI from the best-ranked candidate; ``None``:
            resolved by :meth:`for_space`.
        local_opt_maxiter: L-BFGS-B iterations of the local optimisation, ``>= 1``.
        acq_jitter: EI improvement margin ``xi``, in the units of the metric, ``>= 0``.
        resource_acq_threshold: MOBSTER evaluates EI at the largest level with at least
            this many observations (else the smallest observed level), ``>= 1``.
        num_fantasy_samples: fantasy samples per pending evaluation, ``>= 1``.

    Raises:
        ValueError: an option out of range, named as the YAML key (``searcher.*``).
    """

    num_init_random: int = 6
    num_init_candidates: int = 250
    initial_scoring: Literal["auto", "thompson_indep", "acq_func"] = "auto"
    local_optimization: bool | None = None
    local_opt_maxiter: int = 1000
    acq_jitter: float = 0.01
    resource_acq_threshold: int = 3
    num_fantasy_samples: int = 20

    def __post_init__(self) -> None:
        if self.initial_scoring not in SCORINGS:
            raise ValueError(f"searcher.initial_scoring must be one of {SCORINGS}, got {self.initial_scoring!r}")
        for name in ("num_init_candidates", "local_opt_maxiter", "resource_acq_threshold", "num_fantasy_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"searcher.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("num_init_random", "acq_jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"searcher.{name} must be >= 0, got {getattr(self, name)}")

    def for_space(self, space: ConfigSpace) -> ProposalOptions:
        """These options with ``"auto"`` scoring and ``None`` local optimisation decided for ``space``."""
        restricted = restricted_to_table(space)
        scoring = self.initial_scoring
        if scoring == "auto":
            scoring = "acq_func" if restricted else "thompson_indep"
        local = (not restricted) if self.local_optimization is None else bool(self.local_optimization)
        return dataclasses.replace(self, initial_scoring=scoring, local_optimization=local)
