"""Candidate search: random unseen candidates and local optimisation of the acquisition.

Reference ``BayesianOptimizationAlgorithm`` (docs/methods/model_based.md): draw
``num_init_candidates`` random configurations that were not proposed before, rank them
by a cheap score, then locally optimise the acquisition from the best one over the
relaxed encoding ``[0, 1]^d`` and decode (one-hot by argmax); if the result is not a new
configuration of the space, the original candidate is used.

What was proposed before is asked of a :class:`SeenConfigurations` (the searcher).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from mfbench.space import Config, ConfigSpace

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from mfbench.searchers.gp.posterior import BlockPosterior


class SeenConfigurations(Protocol):
    """The configurations a searcher has proposed (the interface candidate search needs)."""

    space: ConfigSpace
    allow_duplicates: bool

    def is_seen(self, config: Config) -> bool:
        """Whether ``config`` was proposed before."""

    def unseen_rows(self) -> np.ndarray | None:
        """On a space restricted to a table, the indices of the rows not proposed yet,
        ascending, shape ``(num_unseen,)``; None on other spaces."""


#: extra draws per wanted candidate when rejection-sampling an infinite space
_OVERSAMPLE = 3


def draw_candidates(
    searcher: SeenConfigurations, num: int, rng: np.random.Generator
) -> tuple[Candidates, np.ndarray]:
    """Up to ``num`` distinct configurations not seen by ``searcher``, and their encodings.

    On a space restricted to a table the rows are drawn without replacement among the
    unseen ones (their encodings come from the space's cached table encoding, and the
    configurations are only built when asked for); otherwise by rejection sampling.
    Returns ``(candidates, encoded)`` with ``encoded`` of shape ``(len(candidates), d)``
    (fewer than ``num`` if fewer are left).
    """
    space = searcher.space
    unseen = searcher.unseen_rows()
    if space.table is not None and unseen is not None:
        chosen = unseen[rng.choice(len(unseen), size=min(num, len(unseen)), replace=False)] if len(unseen) else unseen
        return Candidates(space, rows=chosen), space.encode_table()[chosen]
    out: list[Config] = []
    keys: set[tuple] = set()
    for _ in range(num * _OVERSAMPLE):
        config = space.sample(rng)
        key = space.key(config)
        if key in keys or searcher.is_seen(config):
            continue
        keys.add(key)
        out.append(config)
        if len(out) == num:
            break
    return Candidates(space, configs=out), space.encode_many(out)


class Candidates:
    """A sequence of candidate configurations: table rows (built on access) or configs."""

    def __init__(self, space: ConfigSpace, rows: np.ndarray | None = None, configs: list[Config] | None = None) -> None:
        self.space = space
        self.rows = rows
        self.configs = configs

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.configs or [])

    def __getitem__(self, i: int) -> Config:
        if self.rows is not None:
            return self.space.config_at(int(self.rows[i]))
        return (self.configs or [])[i]


def minimize_in_box(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, max_iterations: int
) -> np.ndarray:
    """L-BFGS-B minimum of ``objective`` (value and gradient) over ``[0, 1]^d`` from ``x0``.

    Returns ``x0`` if the optimiser fails (e.g. a non-finite value).
    """
    from mfbench.searchers.gp.lbfgsb import FMIN_L_BFGS_B_FTOL, FMIN_L_BFGS_B_GTOL, minimize_lbfgsb

    try:  # SciPy's fmin_l_bfgs_b with its default tolerances
        x = minimize_lbfgsb(objective, x0, np.zeros(len(x0)), np.ones(len(x0)), ftol=FMIN_L_BFGS_B_FTOL,
                            gtol=FMIN_L_BFGS_B_GTOL, max_iterations=max_iterations).x
    except (FloatingPointError, ValueError, RuntimeError):
        return x0
    if not np.all(np.isfinite(x)):
        return x0
    return np.clip(x, 0.0, 1.0)


def first_new(searcher: SeenConfigurations, proposals: list[Config]) -> Config | None:
    """The first proposal that is a configuration of the space and was not seen yet."""
    for config in proposals:
        if searcher.space.contains(config) and (searcher.allow_duplicates or not searcher.is_seen(config)):
            return config
    return None


def locally_optimize(
    searcher: SeenConfigurations,
    posterior: BlockPosterior,
    weights: dict[int, float],
    start: Config,
    best: torch.Tensor,
    jitter: float,
    max_iterations: int,
) -> Config:
    """L-BFGS-B on ``-EI`` from ``start`` over the relaxed encoding (numpy value and gradient).

    Args:
        searcher: what was proposed before (the result must be new).
        posterior: the posterior the acquisition is computed with.
        weights: ``{level: weight}`` of the predictive mixture (one level with weight 1,
            or Hyper-Tune's ensemble).
        start: the best-ranked candidate.
        best: the incumbent per fantasy column, shape ``(m,)`` (normalised units).
        jitter: EI's margin ``xi`` in normalised units.
        max_iterations: L-BFGS-B iterations.

    Returns:
        The decoded optimum if it is a new configuration of the space, else ``start``.
    """
    from mfbench.searchers.gp.local_ei import NegativeEI

    space = searcher.space
    dim = space.encoded_dim
    # the mixture's mean is sum w_r mean_r and its variance sum w_r^2 var_r
    components = [(weight, weight * weight, posterior.level_predictor(r, dim).numpy_terms())
                  for r, weight in weights.items()]
    objective = NegativeEI(components, best.numpy(), jitter)  # value and gradient at one configuration
    optimised = space.decode(minimize_in_box(objective, space.encode(start), max_iterations))
    return first_new(searcher, [optimised, start]) or start
