"""Exact GP inference with dense Cholesky factors: likelihood, posterior, samples, fantasies.

Works for any :class:`~mfbench.searchers.gp.models.GPModel` (its mean, covariance and
noise variance). Targets may be a matrix ``(n, m)``: the columns share inputs and
hyperparameters and differ only in the fantasy values of pending evaluations, so the
Cholesky factor is computed once for all columns (reference: ``GaussProcPosteriorState``).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from mfbench.searchers.gp.models import GPModel

#: smallest posterior variance returned by :meth:`GPPosterior.predict` (reference value)
MIN_POSTERIOR_VARIANCE = 1e-12
#: jitter on the diagonal of the posterior covariance when sampling jointly (reference value)
SAMPLE_JITTER = 1e-5
_MAX_JITTER_TRIES = 12


def robust_cholesky(matrix: torch.Tensor) -> torch.Tensor:
    """Lower Cholesky factor of a symmetric PSD matrix, adding diagonal jitter if needed.

    The jitter starts at ``1e-9`` times the mean diagonal and grows tenfold per failed
    try (as the reference's ``AddJitterOp``); RuntimeError if it never succeeds.
    """
    factor, info = torch.linalg.cholesky_ex(matrix)
    if int(info) == 0:
        return factor
    n = matrix.shape[-1]
    scale = float(matrix.diagonal().mean().abs()) or 1.0
    eye = torch.eye(n, dtype=matrix.dtype)
    jitter = 1e-9 * scale
    for _ in range(_MAX_JITTER_TRIES):
        factor, info = torch.linalg.cholesky_ex(matrix + jitter * eye)
        if int(info) == 0:
            return factor
        jitter *= 10.0
    raise RuntimeError(f"Cholesky factorisation failed even with jitter {jitter:.3g} on a {n}x{n} matrix")


def _solve_lower(factor: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    return torch.linalg.solve_triangular(factor, rhs, upper=False)


class GPPosterior:
    """The posterior of a GP model given data ``(z, Y)``, for fixed hyperparameters.

    Args:
        model: the GP model (its current parameters are used).
        z: extended inputs, shape ``(n, d + 1)``.
        targets: shape ``(n,)`` or ``(n, m)`` (``m`` fantasy columns).

    Attributes:
        factor: lower Cholesky factor ``L`` of ``K + noise * I``, shape ``(n, n)``.
        weights: ``L^{-1} (Y - mean)``, shape ``(n, m)``.
    """

    def __init__(self, model: GPModel, z: torch.Tensor, targets: torch.Tensor,
                 factor: torch.Tensor | None = None, weights: torch.Tensor | None = None) -> None:
        self.model = model
        self.z = z
        self.targets = targets.reshape(len(z), -1)
        if factor is None:
            kernel = model.covariance(z, z)
            kernel = kernel + model.noise_variance * torch.eye(len(z), dtype=z.dtype)
            factor = robust_cholesky(kernel)
        self.factor = factor
        if weights is None:
            weights = _solve_lower(factor, self.targets - model.mean(z).unsqueeze(-1))
        self.weights = weights

    @property
    def num_fantasies(self) -> int:
        return self.weights.shape[1]

    def neg_log_likelihood(self) -> torch.Tensor:
        """``-log p(y)`` of a single target column (differentiable in the model parameters)."""
        if self.num_fantasies != 1:
            raise ValueError("the marginal likelihood is defined for one target column")
        n = len(self.z)
        return (
            0.5 * (self.weights**2).sum()
            + torch.log(self.factor.diagonal()).sum()
            + 0.5 * n * math.log(2.0 * math.pi)
        )

    def _cross(self, z_test: torch.Tensor) -> torch.Tensor:
        return _solve_lower(self.factor, self.model.covariance(self.z, z_test))

    def predict(self, z_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means ``(n_test, m)`` and variances ``(n_test,)`` of the latent function."""
        v = self._cross(z_test)
        means = self.model.mean(z_test).unsqueeze(-1) + v.transpose(0, 1) @ self.weights
        variances = self.model.variance(z_test) - (v * v).sum(0)
        return means, variances.clamp_min(MIN_POSTERIOR_VARIANCE)

    def joint(self, z_test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means ``(n_test, m)`` and covariance ``(n_test, n_test)``."""
        v = self._cross(z_test)
        means = self.model.mean(z_test).unsqueeze(-1) + v.transpose(0, 1) @ self.weights
        covariance = self.model.covariance(z_test, z_test) - v.transpose(0, 1) @ v
        return means, covariance

    def sample_joint(self, z_test: torch.Tensor, num_samples: int, rng: np.random.Generator) -> torch.Tensor:
        """Joint samples of the latent function, shape ``(n_test, m, num_samples)``.

        The covariance gets :data:`SAMPLE_JITTER` on its diagonal (as the reference); the
        standard normal draws come from ``rng`` (numpy), shape ``(n_test, m * num_samples)``.
        """
        means, covariance = self.joint(z_test)
        n_test = len(z_test)
        covariance = covariance + SAMPLE_JITTER * torch.eye(n_test, dtype=covariance.dtype)
        factor = robust_cholesky(covariance)
        m = means.shape[1]
        normals = torch.from_numpy(rng.standard_normal((n_test, m * num_samples)))
        samples = (factor @ normals).reshape(n_test, m, num_samples)
        return samples + means.unsqueeze(-1)

    def extend(self, z_new: torch.Tensor, targets_new: torch.Tensor) -> "GPPosterior":
        """The posterior with data ``(z_new, targets_new)`` appended, by a block Cholesky update.

        Args:
            z_new: shape ``(p, d + 1)``.
            targets_new: shape ``(p, m')``; if this posterior has one column it is
                broadcast to ``m'`` columns (fantasies), else ``m'`` must equal ``m``.
        """
        targets_new = targets_new.reshape(len(z_new), -1)
        m = targets_new.shape[1]
        if self.num_fantasies not in (1, m):
            raise ValueError(f"cannot extend a posterior with {self.num_fantasies} columns by {m} columns")
        a = self._cross(z_new)  # (n, p)
        schur = self.model.covariance(z_new, z_new) - a.transpose(0, 1) @ a
        schur = schur + self.model.noise_variance * torch.eye(len(z_new), dtype=schur.dtype)
        lower = robust_cholesky(schur)
        top = self.weights.expand(-1, m)
        bottom = _solve_lower(lower, targets_new - self.model.mean(z_new).unsqueeze(-1) - a.transpose(0, 1) @ top)
        n, p = len(self.z), len(z_new)
        factor = torch.zeros((n + p, n + p), dtype=self.factor.dtype)
        factor[:n, :n] = self.factor
        factor[n:, :n] = a.transpose(0, 1)
        factor[n:, n:] = lower
        targets = torch.cat([self.targets.expand(-1, m), targets_new], dim=0)
        return GPPosterior(self.model, torch.cat([self.z, z_new], dim=0), targets,
                           factor=factor, weights=torch.cat([top, bottom], dim=0))
