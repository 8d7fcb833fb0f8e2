"""Expected improvement at one configuration and its gradient, in numpy, for the local search.

The local optimisation of the acquisition (L-BFGS-B over the relaxed encoding) evaluates
EI at one point at a time, tens of times per proposal; with torch autograd the fixed
cost per call dominates. Here the forward pass and the hand-derived backward pass use
the terms a :class:`~mfbench.searchers.gp.posterior.LevelPredictor` precomputed
(``numpy_terms``): same values as :func:`~mfbench.searchers.gp.acquisition.expected_improvement`
on :meth:`~mfbench.searchers.gp.posterior.BlockPosterior.predict_level` (checked by the tests).

With ``q = |d^2|`` the scaled squared distances, ``B = sqrt(5 q + j)``:
``k = (1 + B + 5q/3) e^-B`` and ``dk/dq = -(5/6) e^-B (1 + 5 q / B)``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from scipy.linalg.lapack import dtrtrs
from scipy.special import erfc

from mfbench.searchers.gp.acquisition import MIN_STD
from mfbench.searchers.gp.kernels import MATERN_SQRT_JITTER
from mfbench.searchers.gp.posterior import MIN_POSTERIOR_VARIANCE

#: a component of the predictive distribution: (weight of its mean, weight of its variance, numpy terms)
Component = tuple[float, float, dict[str, Any]]


def _solve(factor: np.ndarray, rhs: np.ndarray, transpose: bool) -> np.ndarray:
    """``L^-1 rhs`` (or ``L^-T rhs``) for a lower triangular ``L`` (LAPACK ``dtrtrs``, no input checks)."""
    if len(rhs) == 0:
        return rhs
    solution, info = dtrtrs(factor, rhs, lower=1, trans=1 if transpose else 0)
    if info != 0:
        raise FloatingPointError(f"triangular solve failed (info {info})")
    return solution


def _kernel(x: np.ndarray, inverse_lengthscale: np.ndarray, scaled_train: np.ndarray,
            train_norms: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Matern part at ``x`` ``(d,)``: ``(b, d2, q, root, decay, k)``, ``k`` ``(n,)`` and what its
    gradient needs. It depends only on the posterior's training configurations and lengthscales,
    so the components of one posterior (Hyper-Tune's levels of the joint model) share it."""
    b = x * inverse_lengthscale
    d2 = train_norms + b @ b - 2.0 * scaled_train @ b
    q = np.abs(d2)
    root = np.sqrt(5.0 * q + MATERN_SQRT_JITTER)
    decay = np.exp(-root)
    k = (1.0 + root + 5.0 * q / 3.0) * decay
    return b, d2, q, root, decay, k


def _grad_x(grad_kernel: np.ndarray, kernel: tuple[np.ndarray, ...], scaled_train: np.ndarray,
            inverse_lengthscale: np.ndarray) -> np.ndarray:
    """The gradient ``(d,)`` in ``x`` from the one ``(n,)`` in the Matern part ``k``, with
    ``dk/dq = -(5/6) e^-B (1 + 5 q / B)`` and ``dq/dd2 = sign(d2)``."""
    b, d2, q, root, decay, _ = kernel
    dk_dq = -(5.0 / 6.0) * decay * (1.0 + 5.0 * q / root)
    grad_d2 = grad_kernel * dk_dq * np.sign(d2)
    grad_b = 2.0 * b * grad_d2.sum() - 2.0 * scaled_train.T @ grad_d2
    return grad_b * inverse_lengthscale


class _Component:
    """One component's arrays, unpacked once per local search (not per evaluation)."""

    __slots__ = ("w_mean", "w_variance", "factor", "weights", "scale", "offset", "solved_offset", "prior_mean",
                 "prior_variance", "kernel_key", "shared", "broadcast")

    def __init__(self, w_mean: float, w_variance: float, terms: dict[str, Any], kernel_key: int, shared: bool,
                 columns: int) -> None:
        self.w_mean, self.w_variance = w_mean, w_variance
        self.factor, self.weights = terms["factor"], terms["weights"]
        self.scale, self.offset, self.solved_offset = terms["scale"], terms["offset"], terms["solved_offset"]
        self.prior_mean, self.prior_variance = terms["prior_mean"], terms["prior_variance"]
        self.kernel_key = kernel_key  # position of its training configurations in NegativeEI.trainings
        self.shared = shared  # shares its factor with other components
        self.broadcast = self.weights.shape[1] == 1 and columns > 1  # one column for several fantasies


class NegativeEI:
    """``-EI`` at a configuration and its gradient, for one predictive mixture: the objective of
    one local search, set up once (which components share a factor or training configurations)
    and then evaluated tens of times.

    The predictive distribution is ``mean = sum_c w_c mean_c`` and
    ``variance = sum_c u_c variance_c`` over the components (one component ``(1, 1, .)``
    for a single level; Hyper-Tune's ensemble uses ``(theta_r, theta_r^2, .)``). A
    component with one column is broadcast to the ``len(best)`` fantasy columns.

    Components of one posterior block (Hyper-Tune's levels of the joint model) share its
    factor ``L`` and Matern part ``k``: their ``L^-1 cross = scale L^-1 k + L^-1 offset``
    takes one triangular solve for all (the offsets' solves are the block's, made once per
    proposal), and so does the backward pass, whose gradients in ``L^-1 cross`` are summed
    before one solve with ``L^T``. A component alone in its block is computed directly.

    Args:
        components: ``(weight of the mean, weight of the variance, numpy terms)`` each.
        best: the incumbent per fantasy column, shape ``(columns,)``.
        jitter: EI's margin ``xi``.
    """

    def __init__(self, components: Sequence[Component], best: np.ndarray, jitter: float) -> None:
        self.best = best
        self.jitter = jitter
        self.columns = len(best)
        block_size: dict[int, int] = {}  # components per factor
        for _, _, terms in components:
            block_size[id(terms["factor"])] = block_size.get(id(terms["factor"]), 0) + 1
        #: the distinct training configurations: (inverse lengthscales, scaled configurations, norms)
        self.trainings: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        positions: dict[int, int] = {}
        self.components: list[_Component] = []
        for w_mean, w_variance, terms in components:
            key = id(terms["scaled_train"])
            if key not in positions:
                positions[key] = len(self.trainings)
                self.trainings.append((terms["inverse_lengthscale"], terms["scaled_train"], terms["train_norms"]))
            self.components.append(_Component(w_mean, w_variance, terms, positions[key],
                                              block_size[id(terms["factor"])] > 1, self.columns))

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """``-EI`` at ``x`` ``(d,)`` and its gradient ``(d,)``."""
        columns = self.columns
        kernels = [_kernel(x, *training) for training in self.trainings]
        mean = np.zeros(columns)
        variance = 0.0
        solved: list[tuple[np.ndarray, bool]] = []  # per component: v = L^-1 cross, variance clamped
        solved_kernel: dict[int, np.ndarray] = {}  # L^-1 k per shared factor
        for c in self.components:
            k = kernels[c.kernel_key][5]
            if c.shared:
                block = id(c.factor)
                if block not in solved_kernel:
                    solved_kernel[block] = _solve(c.factor, k, transpose=False)
                v = c.scale * solved_kernel[block] + c.solved_offset
            else:
                v = _solve(c.factor, c.scale * k + c.offset, transpose=False)
            m = c.prior_mean + v @ c.weights  # (columns,)
            raw_variance = c.prior_variance - v @ v
            mean = mean + c.w_mean * m
            variance += c.w_variance * max(raw_variance, MIN_POSTERIOR_VARIANCE)
            solved.append((v, raw_variance < MIN_POSTERIOR_VARIANCE))
        std = math.sqrt(variance)
        std_clamped = std < MIN_STD
        std = max(std, MIN_STD)
        u = (self.best - mean - self.jitter) / std
        cdf = 0.5 * erfc(-u / math.sqrt(2.0))
        pdf = np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
        value = -float((std * (u * cdf + pdf)).sum()) / columns
        grad_mean = cdf / columns  # d(-EI)/d mean_j
        grad_std = 0.0 if std_clamped else -float(pdf.sum()) / columns  # d(-EI)/d std
        grad_variance = grad_std / (2.0 * std) if variance > 0 else 0.0
        grad = np.zeros_like(x)
        #: per shared factor: the sum of scale * d/d(L^-1 cross), and one of its components
        shared: dict[int, tuple[np.ndarray, _Component]] = {}
        for c, (v, clamped) in zip(self.components, solved):
            g_mean = c.w_mean * grad_mean
            if c.broadcast:
                g_mean = np.array([g_mean.sum()])
            # the gradient (n,) in v = L^-1 cross from those in the component's mean and variance
            grad_v = c.weights @ g_mean
            if not clamped:
                grad_v = grad_v - 2.0 * (c.w_variance * grad_variance) * v
            if not c.shared:
                grad_cross = _solve(c.factor, grad_v, transpose=True)
                grad = grad + self._grad_x(c.scale * grad_cross, kernels, c)
                continue
            part = c.scale * grad_v
            block = id(c.factor)
            total = shared.get(block)
            shared[block] = (part if total is None else total[0] + part, c)
        for grad_solved, c in shared.values():
            grad = grad + self._grad_x(_solve(c.factor, grad_solved, transpose=True), kernels, c)
        return value, grad

    def _grad_x(self, grad_kernel: np.ndarray, kernels: list[tuple[np.ndarray, ...]], c: _Component) -> np.ndarray:
        inverse_lengthscale, scaled_train, _ = self.trainings[c.kernel_key]
        return _grad_x(grad_kernel, kernels[c.kernel_key], scaled_train, inverse_lengthscale)

