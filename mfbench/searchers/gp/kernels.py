"""GPyTorch kernels of the reference's GP models: Matern-5/2 ARD and the exp-decay resource kernel.

Both follow docs/methods/model_based.md (Syne Tune 0.13 ``Matern52`` and
``ExponentialDecayResourcesKernelFunction`` with ``delta = 0``). Positive parameters are
stored as their logarithm (the reference's "logarithm" encoding), through the
:func:`log_positive` constraint, so that L-BFGS-B box bounds on the raw parameters are
box bounds on the log-values.
"""
from __future__ import annotations

import math

import torch
from gpytorch.constraints import Positive
from gpytorch.kernels import Kernel

#: added to ``5 d^2`` under the square root, as the reference, so gradients exist at d = 0
MATERN_SQRT_JITTER = 1e-9


def log_positive() -> Positive:
    """A constraint whose raw value is the logarithm of the parameter."""
    return Positive(transform=torch.exp, inv_transform=torch.log)


def records_grad(*tensors: torch.Tensor) -> bool:
    """Whether autograd records operations on ``tensors``. If not, the GP code computes its
    matrices in place (the same values, fewer temporaries); if so, out of place, as autograd
    needs the intermediate values."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def scaled_squared_distance(a: torch.Tensor, b: torch.Tensor, a_norms: torch.Tensor | None = None) -> torch.Tensor:
    """``|a_i - b_j|^2``, shape ``(n1, n2)``, for inputs already divided by the lengthscales.

    Computed through the norms and one matrix product (``abs`` removes tiny negative
    rounding). ``b is a``: a Gram matrix, the norms computed once; ``a_norms``: the
    precomputed ``(n1, 1)`` norms of ``a`` (a predictor's training inputs).
    """
    if b is a:
        norms = (a * a).sum(-1)
        a_norms, b_norms = norms.unsqueeze(-1), norms.unsqueeze(-2)
    else:
        if a_norms is None:
            a_norms = (a * a).sum(-1).unsqueeze(-1)
        b_norms = (b * b).sum(-1).unsqueeze(-2)
    product = 2.0 * a @ b.transpose(-1, -2)  # (2 a) b^T
    if records_grad(a, b, a_norms):
        return (a_norms + b_norms - product).abs()
    # Without autograd, in place: the same operations in the same order, bit for bit, with
    # two fewer (n1, n2) temporaries (allocating them costs more than the arithmetic at a
    # few hundred observations).
    return torch.add(a_norms, b_norms).sub_(product).abs_()


def matern52(squared_distance: torch.Tensor) -> torch.Tensor:
    """``(1 + sqrt(5 d^2) + 5 d^2 / 3) exp(-sqrt(5 d^2))`` elementwise (jittered square root)."""
    five_d2 = 5.0 * squared_distance
    if records_grad(squared_distance):
        b = torch.sqrt(five_d2 + MATERN_SQRT_JITTER)
        return (1.0 + b + five_d2 / 3.0) * torch.exp(-b)
    b = torch.sqrt_(five_d2 + MATERN_SQRT_JITTER)
    decay = torch.neg(b).exp_()
    # in place, in the order of the expression above (bit for bit)
    return b.add_(1.0).add_(five_d2.div_(3.0)).mul_(decay)


def matern52_with_slope(squared_distance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`matern52` (bit for bit) and its derivative in ``d^2``, ``-(5/6) e^-b (1 + b - jitter / b)``,
    as constants (no autograd graph)."""
    with torch.no_grad():
        five_d2 = 5.0 * squared_distance
        b = torch.sqrt_(five_d2 + MATERN_SQRT_JITTER)
        decay = torch.neg(b).exp_()
        slope = ((-5.0 / 6.0) * decay).mul_((1.0 + b).sub_(MATERN_SQRT_JITTER / b))
        return b.add_(1.0).add_(five_d2.div_(3.0)).mul_(decay), slope


class _GramContraction(torch.autograd.Function):
    """``sum(W * K)`` for a Matern-5/2 Gram matrix ``K`` computed beforehand, with a closed-form
    gradient in the lengthscales (no autograd graph over ``n x n`` elementwise operations)."""

    @staticmethod
    def forward(ctx, lengthscale, weights, scaled, gram, slope):  # type: ignore[no-untyped-def,override]
        ctx.save_for_backward(lengthscale, weights, scaled, gram, slope)
        return (weights * gram).sum()

    @staticmethod
    def backward(ctx, grad_output):  # type: ignore[no-untyped-def,override]
        lengthscale, weights, scaled, gram, slope = ctx.saved_tensors
        grad_lengthscale = grad_weights = None
        if ctx.needs_input_grad[0]:
            # d(d2_ij)/d l_k = -2 (a_ik - a_jk)^2 / l_k with a = x / l, and
            # sum_ij h_ij (a_ik - a_jk)^2 = sum_i a_ik^2 (rows + columns of h)_i - 2 (a^T h a)_kk
            h = weights * slope
            squares = scaled * scaled
            spread = squares.transpose(0, 1) @ (h.sum(1) + h.sum(0)) - 2.0 * ((h @ scaled) * scaled).sum(0)
            grad_lengthscale = (grad_output * (-2.0) * spread / lengthscale.reshape(-1)).reshape(lengthscale.shape)
        if ctx.needs_input_grad[1]:
            grad_weights = grad_output * gram
        return grad_lengthscale, grad_weights, None, None, None


class MaternGram:
    """The Matern-5/2 Gram matrix of ``x`` ``(n, d)`` (no autograd graph) and ``sum(W * K)`` with gradients.

    Used by the MAP fit: its criterion's gradient needs ``K`` only through ``sum(G * K)`` for
    the closed-form ``G = dNLL/dK``, and the lengthscale gradient of that sum is computed
    in closed form (same values as autograd through :func:`matern52`, up to rounding).
    """

    def __init__(self, kernel: "Matern52Kernel", x: torch.Tensor) -> None:
        self.lengthscale = kernel.lengthscale
        with torch.no_grad():
            self.scaled = x / self.lengthscale.reshape(1, -1)
            self.gram, self.slope = matern52_with_slope(scaled_squared_distance(self.scaled, self.scaled))

    def contract(self, weights: torch.Tensor) -> torch.Tensor:
        """``sum(weights * K)``, differentiable in the lengthscales (and in ``weights``)."""
        return _GramContraction.apply(self.lengthscale, weights, self.scaled, self.gram, self.slope)


class Matern52Kernel(Kernel):
    """Matern-5/2 kernel with one lengthscale per input dimension (ARD), unit scale.

    ``k(x, x') = (1 + sqrt5 d + 5/3 d^2) exp(-sqrt5 d)`` with
    ``d^2 = sum_k ((x_k - x'_k) / l_k)^2``. The reference parameterises by inverse
    bandwidths ``ib_k = 1 / l_k`` in ``[1e-4, 100]``; here ``raw_lengthscale = log l_k``
    lies in ``[-log 100, log 1e4]``.

    Args:
        ard_num_dims: input dimension ``d``.
    """

    has_lengthscale = True

    def __init__(self, ard_num_dims: int) -> None:
        super().__init__(ard_num_dims=ard_num_dims, lengthscale_constraint=log_positive())

    def squared_distance(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False) -> torch.Tensor:
        """Scaled squared distances, shape ``(n1, n2)`` (``(n,)`` if ``diag``)."""
        inverse = 1.0 / self.lengthscale.reshape(1, -1)
        a = x1 * inverse
        if diag:
            return ((a - x2 * inverse) ** 2).sum(-1)
        return scaled_squared_distance(a, a if x2 is x1 else x2 * inverse)  # a Gram matrix: scaled once

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params: object) -> torch.Tensor:
        """Kernel matrix, shape ``(n1, n2)``, or its diagonal ``(n,)`` if ``diag``."""
        return matern52(self.squared_distance(x1, x2, diag=diag))

    def gram(self, x: torch.Tensor) -> MaternGram:
        """The Gram matrix of ``x`` ``(n, d)`` for a MAP-criterion evaluation (:class:`MaternGram`)."""
        return MaternGram(self, x)


class ExpDecayResourceKernel(Kernel):
    """The centred Freeze-Thaw ("exp-decay-sum") kernel over an encoded resource ``r >= 0``.

    ``kappa(r) = (beta / (r + beta))^alpha`` with ``beta = alpha / mean_lam``, and
    ``k(r, r') = gamma^2 (kappa(r + r') - kappa(r) kappa(r'))``; the matching mean term is
    ``gamma kappa(r)`` (see :class:`~mfbench.searchers.gp.models.MultiTaskGP`). Bounds:
    ``alpha in [1e-6, 250]`` (init 1), ``mean_lam in [1e-4, 50]`` (init 0.5),
    ``gamma in [1e-4, 1]`` (init 0.5); no priors.

    Inputs are of shape ``(n, 1)`` (the encoded resource column).
    """

    BOUNDS = {"alpha": (1e-6, 250.0), "mean_lam": (1e-4, 50.0), "gamma": (1e-4, 1.0)}
    INITIAL = {"alpha": 1.0, "mean_lam": 0.5, "gamma": 0.5}

    def __init__(self) -> None:
        super().__init__()
        for name, value in self.INITIAL.items():
            raw = torch.nn.Parameter(torch.tensor(math.log(value), dtype=torch.float64))
            self.register_parameter(f"raw_{name}", raw)
            self.register_constraint(f"raw_{name}", log_positive())

    @property
    def alpha(self) -> torch.Tensor:
        return self.raw_alpha_constraint.transform(self.raw_alpha)

    @property
    def mean_lam(self) -> torch.Tensor:
        return self.raw_mean_lam_constraint.transform(self.raw_mean_lam)

    @property
    def gamma(self) -> torch.Tensor:
        return self.raw_gamma_constraint.transform(self.raw_gamma)

    def kappa(self, r: torch.Tensor) -> torch.Tensor:
        """``(beta / (r + beta))^alpha``, same shape as ``r``."""
        alpha = self.alpha
        beta = alpha / self.mean_lam
        return torch.pow(beta / (r + beta), alpha)

    def forward(self, r1: torch.Tensor, r2: torch.Tensor, diag: bool = False, **params: object) -> torch.Tensor:
        """Kernel matrix ``(n1, n2)`` (or its diagonal ``(n,)``) for resources of shape ``(n, 1)``.

        Resources take few distinct values (the rung levels), so the kernel is evaluated
        on the grid of distinct values and expanded by indexing: exact, and far cheaper
        than elementwise powers over ``n1 x n2`` entries (with gradients).
        """
        same = r2 is r1  # a Gram matrix (the covariance of the training inputs)
        r1 = r1.reshape(-1)
        r2 = r1 if same else r2.reshape(-1)
        if diag:
            return self.gamma**2 * (self.kappa(2.0 * r1) - self.kappa(r1) ** 2)
        u1, index1 = torch.unique(r1, return_inverse=True)
        u2, index2 = (u1, index1) if same else torch.unique(r2, return_inverse=True)
        grid = self._grid(u1, u2)
        # Each entry copied from the grid (what multiplying by one-hot matrices gives, exactly):
        # rows, then columns as rows of the transpose (index_select on the first dimension is
        # several times faster than two-dimensional indexing).
        rows = grid.index_select(0, index1)  # (n1, b)
        expanded = rows.transpose(0, 1).contiguous().index_select(0, index2)  # (n2, n1), the transpose
        # A Gram matrix's grid is exactly symmetric (sums and products of the same two values in
        # either order), so the transpose is the matrix itself, and contiguous, which the sums
        # with it are faster on.
        return expanded if same else expanded.transpose(0, 1)

    def contract(self, r: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``sum(weights * K(r, r))`` for resources ``r`` ``(n, 1)``, differentiable in the parameters:
        the weights are summed onto the grid of distinct resources first (``P^T W P``)."""
        u, index = torch.unique(r.reshape(-1), return_inverse=True)
        one_hot = torch.nn.functional.one_hot(index, len(u)).to(weights.dtype)
        reduced = one_hot.transpose(0, 1) @ weights @ one_hot
        return (reduced * self._grid(u, u)).sum()

    def _grid(self, u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
        """The kernel on distinct resources ``u1`` ``(a,)`` x ``u2`` ``(b,)``, shape ``(a, b)``."""
        return self.gamma**2 * (self.kappa(u1.unsqueeze(-1) + u2.unsqueeze(-2))
                                - self.kappa(u1).unsqueeze(-1) * self.kappa(u2).unsqueeze(-2))
