"""The MAP criterion of the two GP models and its exact gradient, in NumPy (no autograd).

The MAP fit (:mod:`mfbench.searchers.gp.fit`) evaluates the criterion tens of times per
fit. In the small-data regime (a few dozen observations, the first hour of a run) an
evaluation through torch and autograd costs milliseconds of per-operation bookkeeping
for microseconds of arithmetic; this module computes the same value and gradient with
NumPy and LAPACK directly, in closed form, from the flat vector of raw parameters.
At the data cap (hundreds of observations) the (n, n) work dominates instead: there the
factorisation goes through torch's LAPACK (:func:`solve_and_invert`), and the joint
model's Matern terms and lengthscale gradient are computed once per distinct configuration
(a trial observed at several resources repeats its configuration).

Criterion (per block of the prior, summed; docs/methods/model_based.md):
``-log p(y) - log p(theta)`` with ``-log p(y) = 0.5 r^T K^-1 r + log|L| + n/2 log 2 pi``,
``r = y - m``, ``K = K_f + noise I = L L^T``. Its gradient in ``K`` and ``m`` is
``G = 0.5 (K^-1 - a a^T)`` and ``-a`` with ``a = K^-1 r``; every parameter's gradient is
``sum(G * dK) - a . dm`` plus the prior's. Positive parameters are raw log-values, so
``d/d log v = v d/dv``. The formulas are those of the torch models
(:class:`~mfbench.searchers.gp.models.MultiTaskGP`,
:class:`~mfbench.searchers.gp.models.IndependentGP`); the values agree to rounding
(tests/searchers/gp/test_fit.py compares both paths and finite differences).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

from mfbench.searchers.gp.kernels import MATERN_SQRT_JITTER

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from mfbench.searchers.gp.models import GPModel

#: tries of growing diagonal jitter before a Cholesky factorisation gives up (as robust_cholesky)
_MAX_JITTER_TRIES = 12
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class CholeskyError(RuntimeError):
    """The kernel matrix stayed indefinite with the largest jitter."""


def cholesky_lower(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor ``(n, n)`` of a symmetric PSD matrix, with growing jitter if needed.

    Same rule as :func:`~mfbench.searchers.gp.posterior.robust_cholesky`: jitter
    ``1e-9`` times the mean diagonal, tenfold per failed try.
    """
    factor, info = lapack.dpotrf(matrix, lower=1, clean=1)
    if info == 0:
        return factor
    n = len(matrix)
    scale = abs(float(np.mean(np.diagonal(matrix)))) or 1.0
    jitter = 1e-9 * scale
    for _ in range(_MAX_JITTER_TRIES):
        factor, info = lapack.dpotrf(matrix + jitter * np.eye(n), lower=1, clean=1)
        if info == 0:
            return factor
        jitter *= 10.0
    raise CholeskyError(f"Cholesky factorisation failed even with jitter {jitter:.3g} on a {n}x{n} matrix")


#: from this size on, :func:`solve_and_invert` factorises through torch's LAPACK (MKL in the
#: CPU wheels; potrf, potrs and the full symmetric inverse, one thread: 4.3 ms against
#: OpenBLAS's 6.6 ms at n = 500, 0.68 against 0.87 ms at n = 200); below it through SciPy's,
#: whose calls cost less than torch's per-call overhead (0.17 against 0.22 ms at n = 100)
TORCH_LAPACK_FROM = 150


def solve_and_invert(kernel: np.ndarray, residual: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """``log|L|``, ``K^-1 r`` ``(n,)`` and the full symmetric ``K^-1`` ``(n, n)`` of a PSD ``kernel``
    ``(n, n)`` (``K = L L^T``, with growing diagonal jitter if needed: :func:`cholesky_lower`, or
    :func:`~mfbench.searchers.gp.posterior.robust_cholesky` from :data:`TORCH_LAPACK_FROM` on)."""
    n = len(kernel)
    if n < TORCH_LAPACK_FROM:
        factor = cholesky_lower(kernel)
        weights, _ = lapack.dpotrs(factor, residual, lower=1)
        lower, _ = lapack.dpotri(factor, lower=1)  # K^-1 in the lower triangle, zeros above (clean factor)
        inverse = lower + lower.T
        inverse.flat[:: n + 1] = lower.flat[:: n + 1]
        return float(np.log(np.diagonal(factor)).sum()), weights, inverse
    import torch

    from mfbench.searchers.gp.posterior import robust_cholesky  # the same jitter rule, in torch

    factor = robust_cholesky(torch.from_numpy(kernel))
    weights = torch.cholesky_solve(torch.from_numpy(residual).unsqueeze(-1), factor).squeeze(-1)
    # torch's factors are column-major; the inverse is exactly symmetric (its upper triangle is
    # a copy of the lower one), so its transpose is the same matrix in row-major order, which
    # keeps the elementwise operations that follow on contiguous memory
    inverse = np.ascontiguousarray(torch.cholesky_inverse(factor).numpy().T)  # no copy
    return float(torch.log(factor.diagonal()).sum()), weights.numpy(), inverse


def _matern52_with_slope(squared_distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matern-5/2 of ``d^2`` and its derivative in ``d^2`` (as kernels.matern52_with_slope)."""
    # ``(1 + b + 5 d^2 / 3) e^-b`` and ``(-5/6) e^-b (1 + b - jitter / b)``, computed in place
    # in the order of these expressions (bit for bit): fewer (n, n) temporaries to allocate
    five_d2 = 5.0 * squared_distance
    b = np.add(five_d2, MATERN_SQRT_JITTER)
    np.sqrt(b, out=b)
    decay = np.negative(b)
    np.exp(decay, out=decay)
    slope = np.add(1.0, b)
    slope -= MATERN_SQRT_JITTER / b
    slope *= (-5.0 / 6.0) * decay
    five_d2 /= 3.0
    b += 1.0
    b += five_d2
    b *= decay
    return b, slope


class _Block:
    """One group of observations factorised together: inputs, targets and what does not
    depend on the parameters (level indices, the same-level mask, distinct resources)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, level: np.ndarray, joint: bool) -> None:
        if joint:
            # The joint kernel's Matern factor depends on the configuration only, and a trial
            # observed at several resources repeats it: the Matern terms are computed once per
            # distinct configuration, and (n, n) matrices are summed onto them for the gradient.
            self.configs, config_of = np.unique(x, axis=0, return_inverse=True)
            self.config_of = config_of.reshape(-1)  # (n,) row of each observation's configuration
            #: (c, n) sparse 0/1: ``config_sum @ M`` sums the rows of ``M`` per configuration
            self.config_sum = sparse.csr_matrix(
                (np.ones(len(y)), (self.config_of, np.arange(len(y)))), shape=(len(self.configs), len(y)))
        self.x = np.ascontiguousarray(x)      # (n, d) encoded configurations
        self.y = np.ascontiguousarray(y)      # (n,)
        self.n = len(y)
        self.level = level                    # (n,) encoded resource (joint) or level position (independent)
        self.distinct, inverse = np.unique(level, return_inverse=True)
        self.inverse = inverse                # (n,) position of each observation's level in distinct
        if joint:  # (n, u): sums (n, n) matrices onto the grid of distinct resources
            self.one_hot = (inverse[:, None] == np.arange(len(self.distinct))[None, :]).astype(np.float64)
        else:  # (n, n): 1 where two observations are at the same level (the prior is block diagonal);
            # None for a block of one level (the usual case: blocks are levels), where it is all ones
            # and multiplying by it changes no value
            self.same = None if len(self.distinct) == 1 else (inverse[:, None] == inverse[None, :]).astype(np.float64)


class NumpyMAPCriterion:
    """Value and gradient of the MAP criterion of ``model`` on blocks of data, from raw parameters.

    Args:
        model: a :class:`~mfbench.searchers.gp.models.MultiTaskGP` or
            :class:`~mfbench.searchers.gp.models.IndependentGP` (:func:`supports`); read for
            its structure and priors only, never written.
        blocks: ``(z, y)`` per group of observations factorised separately (exact for groups
            that are unions of blocks of a block-diagonal prior), ``z`` ``(n, d + 1)``.
        layout: ``(name, start, stop)`` of each raw parameter in the flat vector.
    """

    def __init__(self, model: GPModel, blocks: list[tuple[torch.Tensor, torch.Tensor]],
                 layout: list[tuple[str, int, int]]) -> None:
        from mfbench.searchers.gp.models import IndependentGP

        self.joint = not isinstance(model, IndependentGP)
        self.dim = model.dim
        self.slices = {name: slice(start, stop) for name, start, stop in layout}
        self.size = max(stop for _, _, stop in layout)
        noise_prior = model.noise_prior
        self.noise_shape, self.noise_rate = float(noise_prior.concentration), float(noise_prior.rate)
        scale_prior = model.outputscale_prior
        self.scale_loc, self.scale_sd = float(scale_prior.loc), float(scale_prior.scale)
        mean_prior = model.constant_prior if self.joint else model.constants_prior
        self.mean_loc, self.mean_sd = float(mean_prior.loc), float(mean_prior.scale)
        self.blocks: list[_Block] = []
        for z, y in blocks:
            z_np = z.detach().numpy()
            r = z_np[:, self.dim]
            if self.joint:
                level = (r - 0.5) / model.max_fidelity  # the encoded resource (MultiTaskGP.encode_resource)
            else:
                level = model.level_index(z).numpy()
            self.blocks.append(_Block(z_np[:, : self.dim], y.detach().numpy(), level, self.joint))
        self.num_levels = 0 if self.joint else len(model.levels)

    # ------------------------------------------------------------------ priors
    def _log_prior(self, v: np.ndarray, grad: np.ndarray) -> float:
        """Sum of the log priors; adds the gradient of ``-log prior`` to ``grad``.

        Noise variance ``Gamma(k, rate)``, output scale(s) ``LogNormal(loc, sd)``, mean(s)
        ``Normal(loc, sd)``, each in its raw coordinate (log-values for the first two).
        """
        s = self.slices
        k, rate = self.noise_shape, self.noise_rate
        log_noise = float(v[s["raw_noise"]][0])
        noise = math.exp(log_noise)
        total = (k - 1.0) * log_noise + k * math.log(rate) - rate * noise - math.lgamma(k)
        grad[s["raw_noise"]] -= (k - 1.0) - rate * noise
        scale_name, mean_name = ("raw_outputscale", "constant") if self.joint else ("raw_outputscales", "constants")
        log_scale = v[s[scale_name]]
        centred = log_scale - self.scale_loc
        var = self.scale_sd * self.scale_sd
        total += (-float(centred @ centred) / (2.0 * var) - float(log_scale.sum())
                  - len(log_scale) * (math.log(self.scale_sd) + _HALF_LOG_2PI))
        grad[s[scale_name]] += centred / var + 1.0
        centred = v[s[mean_name]] - self.mean_loc
        var = self.mean_sd * self.mean_sd
        total += -float(centred @ centred) / (2.0 * var) - len(centred) * (math.log(self.mean_sd) + _HALF_LOG_2PI)
        grad[s[mean_name]] += centred / var
        return total

    # ------------------------------------------------------------------ kernels
    @staticmethod
    def _kappa(u: np.ndarray, alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``kappa(u) = (beta / (u + beta))^alpha`` and its derivatives in ``log alpha`` and
        ``log mean_lam`` (``beta = alpha / mean_lam``)."""
        ratio = beta / (u + beta)
        kappa = ratio**alpha
        share = u / (u + beta)
        return kappa, kappa * alpha * (np.log(ratio) + share), kappa * (-alpha) * share

    def __call__(self, v: np.ndarray) -> tuple[float, np.ndarray]:
        """Criterion and gradient ``(size,)`` at raw parameters ``v`` ``(size,)``."""
        s = self.slices
        grad = np.zeros(self.size)
        log_prior = self._log_prior(v, grad)
        noise = math.exp(float(v[s["raw_noise"]][0]))
        lengthscale = np.exp(v[s["kernel_x.raw_lengthscale"]])
        grad_lengthscale = np.zeros(self.dim)
        nll = 0.0
        if self.joint:
            scale = math.exp(float(v[s["raw_outputscale"]][0]))
            constant = float(v[s["constant"]][0])
            alpha = math.exp(float(v[s["resource.raw_alpha"]][0]))
            mean_lam = math.exp(float(v[s["resource.raw_mean_lam"]][0]))
            gamma = math.exp(float(v[s["resource.raw_gamma"]][0]))
            beta = alpha / mean_lam
            grad_resource = np.zeros(3)  # log alpha, log mean_lam, log gamma
            grad_scale = grad_constant = 0.0
        else:
            scales = np.exp(v[s["raw_outputscales"]])
            constants = v[s["constants"]]
            grad_scales = np.zeros(self.num_levels)
            grad_constants = np.zeros(self.num_levels)
        for block in self.blocks:
            n = block.n
            # joint: (c, d) distinct configurations, every (c, c) Matern term below once per pair
            a = (block.configs if self.joint else block.x) / lengthscale
            squares = a * a
            norms = squares.sum(1)
            # |norms_i + norms_j - 2 a_i . a_j|, in place (bit for bit, fewer temporaries)
            product = a @ a.T
            product *= 2.0
            d2 = np.add(norms[:, None], norms[None, :])
            d2 -= product
            np.abs(d2, out=d2)
            matern, slope = _matern52_with_slope(d2)
            if self.joint:
                u = block.distinct
                kappa_u, dkappa_alpha, dkappa_lam = self._kappa(u, alpha, beta)
                pair = u[:, None] + u[None, :]
                kappa_pair, dpair_alpha, dpair_lam = self._kappa(pair, alpha, beta)
                g2 = gamma * gamma
                grid = g2 * (kappa_pair - kappa_u[:, None] * kappa_u[None, :])
                oh = block.one_hot
                # the Matern terms and the grid expanded to all pairs of observations by indexing
                index = block.config_of
                kernel = matern[index][:, index]
                kernel *= scale
                kernel += grid[block.inverse][:, block.inverse]
                mean = constant + gamma * kappa_u[block.inverse]
            else:
                row_scale = scales[block.level][:, None]
                kernel = matern * row_scale if block.same is None else matern * block.same * row_scale
                mean = constants[block.level]
            kernel.flat[:: n + 1] += noise
            residual = block.y - mean
            log_det_half, weights, inverse = solve_and_invert(kernel, residual)
            nll += 0.5 * float(residual @ weights) + log_det_half + n * _HALF_LOG_2PI
            # dNLL/dK = G = 0.5 (K^-1 - a a^T) with a = weights. The joint model needs only sums
            # of G over groups of observations, taken from K^-1 and a separately (no (n, n) G)
            if self.joint:
                grad[s["raw_noise"]] += noise * 0.5 * (float(np.trace(inverse)) - float(weights @ weights))
                per_config = block.config_sum @ (block.config_sum @ inverse).T  # (c, c) sums per configuration pair
                weights_per_config = block.config_sum @ weights
                per_config -= np.outer(weights_per_config, weights_per_config)
                per_config *= 0.5  # G summed per configuration pair
                grad_scale += scale * float((per_config * matern).sum())
                h = np.multiply(per_config, scale)  # h = (scale G) * slope below, per configuration pair
                counts = oh.T @ weights  # sum of a per distinct resource
                reduced = oh.T @ inverse @ oh
                reduced -= np.outer(counts, counts)
                reduced *= 0.5  # G summed onto the grid of distinct resources
                grad_resource[0] += g2 * float((reduced * (dpair_alpha - dkappa_alpha[:, None] * kappa_u[None, :]
                                                           - kappa_u[:, None] * dkappa_alpha[None, :])).sum())
                grad_resource[1] += g2 * float((reduced * (dpair_lam - dkappa_lam[:, None] * kappa_u[None, :]
                                                           - kappa_u[:, None] * dkappa_lam[None, :])).sum())
                grad_resource[2] += 2.0 * float((reduced * grid).sum())
                grad_constant -= float(weights.sum())
                grad_resource[0] -= gamma * float(counts @ dkappa_alpha)
                grad_resource[1] -= gamma * float(counts @ dkappa_lam)
                grad_resource[2] -= gamma * float(counts @ kappa_u)
            else:
                inverse -= np.outer(weights, weights)
                inverse *= 0.5
                g = inverse
                grad[s["raw_noise"]] += noise * float(g.flat[:: n + 1].sum())
                if block.same is None:
                    h = g * row_scale
                else:
                    h = g * block.same
                    h *= row_scale
                per_row = (g * matern if block.same is None else g * matern * block.same).sum(1)
                grad_scales += scales * np.bincount(block.level, weights=per_row, minlength=self.num_levels)
                grad_constants -= np.bincount(block.level, weights=weights, minlength=self.num_levels)
            # lengthscales: d(d2_ij)/d log l_k = -2 (a_ik - a_jk)^2, through sum(W * slope * dd2)
            h *= slope
            spread = squares.T @ (h.sum(1) + h.sum(0)) - 2.0 * ((h @ a) * a).sum(0)
            grad_lengthscale -= 2.0 * spread
        grad[s["kernel_x.raw_lengthscale"]] += grad_lengthscale
        if self.joint:
            grad[s["raw_outputscale"]] += grad_scale
            grad[s["constant"]] += grad_constant
            grad[s["resource.raw_alpha"]] += grad_resource[0]
            grad[s["resource.raw_mean_lam"]] += grad_resource[1]
            grad[s["resource.raw_gamma"]] += grad_resource[2]
        else:
            grad[s["raw_outputscales"]] += grad_scales
            grad[s["constants"]] += grad_constants
        return nll - log_prior, grad


def supports(model: GPModel) -> bool:
    """Whether :class:`NumpyMAPCriterion` implements ``model``'s criterion (the two shipped models, exactly)."""
    from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP

    return type(model) in (MultiTaskGP, IndependentGP)
