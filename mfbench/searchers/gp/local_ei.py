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


def _kernel(x: np.ndarray, terms: dict[str, Any]) -> dict[str, Any]:
    """The Matern part at ``x`` ``(d,)``: ``k`` ``(n,)`` and what its gradient needs. It depends
    only on the posterior's training configurations and lengthscales, so the components of one
    posterior (Hyper-Tune's levels of the joint model) share it."""
    b = x * terms["inverse_lengthscale"]
    d2 = terms["train_norms"] + b @ b - 2.0 * terms["scaled_train"] @ b
    q = np.abs(d2)
    root = np.sqrt(5.0 * q + MATERN_SQRT_JITTER)
    decay = np.exp(-root)
    k = (1.0 + root + 5.0 * q / 3.0) * decay
    return {"b": b, "d2": d2, "q": q, "root": root, "decay": decay, "k": k}


def _forward(terms: dict[str, Any], kernel: dict[str, Any],
             v: np.ndarray | None = None) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Mean ``(columns,)``, variance and what the backward pass needs; ``v`` = ``L^-1 cross``
    if the caller has it (components that share a factor), else solved here."""
    if v is None:
        cross = terms["scale"] * kernel["k"] + terms["offset"]
        v = _solve(terms["factor"], cross, transpose=False)
    mean = terms["prior_mean"] + v @ terms["weights"]  # (columns,)
    raw_variance = terms["prior_variance"] - v @ v
    variance = max(raw_variance, MIN_POSTERIOR_VARIANCE)
    return mean, variance, {"kernel": kernel, "v": v, "variance_clamped": raw_variance < MIN_POSTERIOR_VARIANCE}


def _kernel_slope(kernel: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``dk/dq`` and ``sign(d2)`` ``(n,)``, computed once per shared kernel."""
    slope = kernel.get("slope")
    if slope is None:
        q, root = kernel["q"], kernel["root"]
        slope = kernel["slope"] = (-(5.0 / 6.0) * kernel["decay"] * (1.0 + 5.0 * q / root), np.sign(kernel["d2"]))
    return slope


def _grad_v(grad_mean: np.ndarray, grad_variance: float, terms: dict[str, Any], cache: dict[str, Any]) -> np.ndarray:
    """The gradient ``(n,)`` in ``v = L^-1 cross`` from those in the component's mean and variance."""
    v = cache["v"]
    grad_v = terms["weights"] @ grad_mean
    if not cache["variance_clamped"]:
        grad_v = grad_v - 2.0 * grad_variance * v
    return grad_v


def _grad_x(grad_kernel: np.ndarray, terms: dict[str, Any], kernel: dict[str, Any]) -> np.ndarray:
    """The gradient ``(d,)`` in ``x`` from the one ``(n,)`` in the Matern part ``k``."""
    dk_dq, sign = _kernel_slope(kernel)
    grad_d2 = grad_kernel * dk_dq * sign
    b = kernel["b"]
    grad_b = 2.0 * b * grad_d2.sum() - 2.0 * terms["scaled_train"].T @ grad_d2
    return grad_b * terms["inverse_lengthscale"]


def _backward(grad_mean: np.ndarray, grad_variance: float, terms: dict[str, Any], cache: dict[str, Any]) -> np.ndarray:
    grad_cross = _solve(terms["factor"], _grad_v(grad_mean, grad_variance, terms, cache), transpose=True)
    return _grad_x(terms["scale"] * grad_cross, terms, cache["kernel"])


def negative_ei_and_grad(
    x: np.ndarray, components: Sequence[Component], best: np.ndarray, jitter: float
) -> tuple[float, np.ndarray]:
    """``-EI`` at configuration ``x`` ``(d,)`` and its gradient ``(d,)``.

    The predictive distribution is ``mean = sum_c w_c mean_c`` and
    ``variance = sum_c u_c variance_c`` over the components (one component ``(1, 1, .)``
    for a single level; Hyper-Tune's ensemble uses ``(theta_r, theta_r^2, .)``). A
    component with one column is broadcast to the ``len(best)`` fantasy columns.

    Components of one posterior block (Hyper-Tune's levels of the joint model) share its
    factor ``L`` and Matern part ``k``: their ``L^-1 cross = scale L^-1 k + L^-1 offset``
    takes one triangular solve for all (the offsets' solves are the block's, made once per
    proposal), and so does the backward pass, whose gradients in ``L^-1 cross`` are summed
    before one solve with ``L^T``. A component alone in its block is computed directly.
    """
    columns = len(best)
    mean = np.zeros(columns)
    variance = 0.0
    caches = []
    kernels: dict[int, dict[str, Any]] = {}  # by the identity of the training configurations
    block_size: dict[int, int] = {}  # components per factor
    for _, _, terms in components:
        block_size[id(terms["factor"])] = block_size.get(id(terms["factor"]), 0) + 1
    solved_kernel: dict[int, np.ndarray] = {}  # L^-1 k per shared factor
    for w_mean, w_variance, terms in components:
        key = id(terms["scaled_train"])
        if key not in kernels:
            kernels[key] = _kernel(x, terms)
        kernel = kernels[key]
        v = None
        block = id(terms["factor"])
        if block_size[block] > 1:
            if block not in solved_kernel:
                solved_kernel[block] = _solve(terms["factor"], kernel["k"], transpose=False)
            v = terms["scale"] * solved_kernel[block] + terms["solved_offset"]
        m, var, cache = _forward(terms, kernel, v)
        mean = mean + w_mean * m
        variance += w_variance * var
        caches.append(cache)
    std = math.sqrt(variance)
    std_clamped = std < MIN_STD
    std = max(std, MIN_STD)
    u = (best - mean - jitter) / std
    cdf = 0.5 * erfc(-u / math.sqrt(2.0))
    pdf = np.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)
    value = -float((std * (u * cdf + pdf)).sum()) / columns
    grad_mean = cdf / columns  # d(-EI)/d mean_j
    grad_std = 0.0 if std_clamped else -float(pdf.sum()) / columns  # d(-EI)/d std
    grad_variance = grad_std / (2.0 * std) if variance > 0 else 0.0
    grad = np.zeros_like(x)
    #: per shared factor: the sum of scale * d/d(L^-1 cross), and one of its components' terms and kernel
    shared: dict[int, tuple[np.ndarray, dict[str, Any], dict[str, Any]]] = {}
    for (w_mean, w_variance, terms), cache in zip(components, caches):
        g_mean = w_mean * grad_mean
        if terms["weights"].shape[1] == 1 and columns > 1:
            g_mean = np.array([g_mean.sum()])
        block = id(terms["factor"])
        if block_size[block] == 1:
            grad = grad + _backward(g_mean, w_variance * grad_variance, terms, cache)
            continue
        part = terms["scale"] * _grad_v(g_mean, w_variance * grad_variance, terms, cache)
        total = shared.get(block)
        shared[block] = (part if total is None else total[0] + part, terms, cache["kernel"])
    for grad_solved, terms, kernel in shared.values():
        grad = grad + _grad_x(_solve(terms["factor"], grad_solved, transpose=True), terms, kernel)
    return value, grad
