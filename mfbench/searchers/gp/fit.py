"""MAP fitting of a GP model's hyperparameters with SciPy L-BFGS-B (docs/methods/model_based.md).

The criterion is the negative log marginal likelihood plus the negative log priors,
minimised over the raw (log) parameters inside the model's box bounds. Start 1 is the
current parameter values (the reference initial values unless warm-starting); every
further start adds ``N(0, 1)`` noise to them in raw coordinates, clipped to the bounds.
The best criterion value seen over all starts wins; a start that fails (e.g. a Cholesky
error) is ignored, and if all fail the parameters are left at the start values.

The criterion and its gradient are computed in NumPy in closed form for the two shipped
models (:mod:`mfbench.searchers.gp.map_numpy`: no autograd bookkeeping, which dominated
the cost of an evaluation on the few dozen observations of a run's first hour); other
:class:`~mfbench.searchers.gp.models.GPModel` subclasses use the torch path below.
The model's parameters are written once, at the end of the fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from mfbench.searchers.gp.map_numpy import NumpyMAPCriterion, supports
from mfbench.searchers.gp.models import GPModel
from mfbench.searchers.gp.posterior import GPPosterior, robust_cholesky


@dataclass
class FitResult:
    """What a fit did: criterion value, number of criterion evaluations, failed starts."""

    criterion: float
    num_evaluations: int
    num_failed_starts: int


#: blocks of a block-diagonal prior smaller than this are factorised together (fewer small ops)
MERGE_BLOCKS_BELOW = 128


def group_blocks(ids: torch.Tensor, merge_below: int = MERGE_BLOCKS_BELOW) -> list[torch.Tensor]:
    """Index sets to factorise separately: the blocks of ``ids`` ``(n,)``, small ones merged.

    Merging blocks of a block-diagonal prior into one dense factorisation is exact (the
    cross-block covariances are zero); it saves per-block overhead where blocks are small.
    Blocks are merged greedily, smallest first, while the merged size stays below
    ``merge_below``; the result is sorted by the smallest index of each set.
    """
    blocks = sorted((torch.nonzero(ids == b).reshape(-1) for b in torch.unique(ids).tolist()), key=len)
    groups: list[torch.Tensor] = []
    merged: list[torch.Tensor] = []
    size = 0
    for block in blocks:
        if size + len(block) <= merge_below:
            merged.append(block)
            size += len(block)
        else:
            groups.append(block)
    if merged:
        groups.append(torch.sort(torch.cat(merged)).values)
    return sorted(groups, key=lambda g: int(g[0]))


class _Criterion:
    """The MAP criterion as a function of the flat raw-parameter vector (with gradient).

    Args:
        model: the model (its parameters are only written by :meth:`set`).
        z: extended inputs ``(n, d + 1)``; y: targets ``(n,)``.
        use_numpy: evaluate with :class:`~mfbench.searchers.gp.map_numpy.NumpyMAPCriterion`
            (``None``: where it supports the model); ``False``: the torch path.
    """

    def __init__(self, model: GPModel, z: torch.Tensor, y: torch.Tensor, use_numpy: bool | None = None) -> None:
        bounds = model.raw_bounds()
        self.model = model
        self.z = z
        self.y = y
        self.parameters = [(name, p) for name, p in model.named_parameters() if name in bounds]
        unknown = {name for name, _ in model.named_parameters()} - set(bounds)
        if unknown:
            raise ValueError(f"model parameters without bounds: {sorted(unknown)}")
        lower, upper = [], []
        for name, p in self.parameters:
            lo, hi = bounds[name]
            lower += [-np.inf if lo is None else lo] * p.numel()
            upper += [np.inf if hi is None else hi] * p.numel()
        self.lower = np.asarray(lower)
        self.upper = np.asarray(upper)
        ids = model.block_ids(z)
        self.blocks = group_blocks(ids)
        # a group that is one block of a block-diagonal prior is evaluated with the block's own model
        self.block_models = [model.block_model(int(ids[g[0]])) if bool((ids[g] == ids[g[0]]).all()) else model
                             for g in self.blocks]
        self.block_data = [(z[g], y[g]) for g in self.blocks]
        if use_numpy is None:
            use_numpy = supports(model)
        layout, offset = [], 0
        for name, p in self.parameters:
            layout.append((name, offset, offset + p.numel()))
            offset += p.numel()
        self.numpy = NumpyMAPCriterion(model, self.block_data, layout) if use_numpy else None
        self.num_evaluations = 0
        self.best_value = np.inf
        self.best_vector: np.ndarray | None = None

    def get(self) -> np.ndarray:
        return np.concatenate([p.detach().reshape(-1).numpy() for _, p in self.parameters])

    def set(self, vector: np.ndarray) -> None:
        offset = 0
        with torch.no_grad():
            for _, p in self.parameters:
                size = p.numel()
                p.copy_(torch.from_numpy(vector[offset : offset + size]).reshape(p.shape))
                offset += size

    def value(self) -> torch.Tensor:
        """The criterion with autograd through the Cholesky factor (slow; for checks)."""
        return GPPosterior(self.model, self.z, self.y).neg_log_likelihood() - self.model.log_prior()

    def __call__(self, vector: np.ndarray) -> tuple[float, np.ndarray]:
        """Criterion and gradient at ``vector``.

        The gradient of ``-log p(y)`` with respect to the kernel matrix ``K`` (noise
        included) and the mean vector ``m`` is known in closed form,
        ``0.5 (K^-1 - a a^T)`` and ``-a`` with ``a = K^-1 (y - m)``; back-propagating
        only these through the kernel and mean (not through the Cholesky factorisation)
        gives the exact gradient faster. Blocks of a block-diagonal prior (the
        independent model's levels) are factorised separately.
        """
        if self.numpy is not None:
            result, grad = self.numpy(vector)
        else:
            result, grad = self._torch_value_and_grad(vector)
        self.num_evaluations += 1
        if not np.isfinite(result) or not np.all(np.isfinite(grad)):
            raise FloatingPointError("non-finite MAP criterion or gradient")
        if result < self.best_value:
            self.best_value = result
            self.best_vector = vector.copy()
        return result, grad

    def _torch_value_and_grad(self, vector: np.ndarray) -> tuple[float, np.ndarray]:
        """:meth:`__call__`'s value and gradient through torch (sets the model's parameters)."""
        self.set(vector)
        for _, p in self.parameters:
            p.grad = None
        model = self.model
        log_prior = model.log_prior()
        nll = torch.zeros((), dtype=self.z.dtype)
        surrogate = -log_prior
        noise_variance = model.noise_variance
        for (z, y), block_model in zip(self.block_data, self.block_models):
            n = len(z)
            kernel, contract = block_model.gram(z)
            mean = block_model.mean(z)
            with torch.no_grad():
                factor = robust_cholesky(kernel + noise_variance.detach() * torch.eye(n, dtype=z.dtype))
                residual = (y - mean.detach()).unsqueeze(-1)
                alpha = torch.cholesky_solve(residual, factor)
                grad_kernel = 0.5 * (torch.cholesky_inverse(factor) - alpha @ alpha.transpose(0, 1))
                nll = nll + (0.5 * (residual * alpha).sum() + torch.log(factor.diagonal()).sum()
                             + 0.5 * n * math.log(2.0 * math.pi))
            surrogate = (surrogate + contract(grad_kernel) + noise_variance * grad_kernel.diagonal().sum()
                         - (mean * alpha.squeeze(-1)).sum())
        surrogate.backward()
        grad = np.concatenate([
            (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).numpy() for _, p in self.parameters
        ])
        return float(nll - log_prior.detach()), grad


def fit_map(
    model: GPModel,
    z: torch.Tensor,
    y: torch.Tensor,
    rng: np.random.Generator,
    num_starts: int = 2,
    max_iterations: int = 50,
    tolerance: float = 1e-6,
) -> FitResult:
    """Fit ``model``'s hyperparameters to data ``(z, y)`` by MAP, in place.

    Args:
        model: the model; its current parameters are the first start.
        z: extended inputs, shape ``(n, d + 1)``.
        y: targets, shape ``(n,)``.
        rng: draws the perturbations of the further starts.
        num_starts: L-BFGS-B starts (reference ``opt_nstarts=2``).
        max_iterations: L-BFGS-B iterations per start (reference ``opt_maxiter=50``).
        tolerance: SciPy ``tol`` (reference 1e-6).
    """
    from mfbench.searchers.gp.lbfgsb import minimize_lbfgsb

    criterion = _Criterion(model, z, y)
    start = criterion.get()
    failed = 0
    for i in range(num_starts):
        x0 = start if i == 0 else np.clip(start + rng.standard_normal(len(start)), criterion.lower, criterion.upper)
        try:
            # SciPy's L-BFGS-B with ``tol``: ftol = gtol = tolerance
            minimize_lbfgsb(criterion, x0, criterion.lower, criterion.upper, ftol=tolerance, gtol=tolerance,
                            max_iterations=max_iterations)
        except (RuntimeError, FloatingPointError, ValueError, torch.linalg.LinAlgError):
            failed += 1
    criterion.set(criterion.best_vector if criterion.best_vector is not None else start)
    return FitResult(float(criterion.best_value), criterion.num_evaluations, failed)
