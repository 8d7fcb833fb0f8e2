"""Kernel values against hand computation (docs/methods/model_based.md)."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
gpytorch = pytest.importorskip("gpytorch")

from mfbench.searchers.gp.kernels import (  # noqa: E402
    MATERN_SQRT_JITTER,
    ExpDecayResourceKernel,
    Matern52Kernel,
    matern52,
    matern52_with_slope,
    scaled_squared_distance,
)


def _matern52_by_hand(d: float) -> float:
    return (1.0 + math.sqrt(5.0) * d + 5.0 / 3.0 * d * d) * math.exp(-math.sqrt(5.0) * d)


def test_matern52_ard_matches_hand_computation() -> None:
    kernel = Matern52Kernel(ard_num_dims=2).double()
    kernel.lengthscale = torch.tensor([[0.5, 2.0]], dtype=torch.float64)  # inverse bandwidths 2 and 0.5
    x1 = torch.tensor([[0.0, 0.0], [0.1, 0.9]], dtype=torch.float64)
    x2 = torch.tensor([[0.3, 0.4], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    values = kernel.forward(x1, x2)
    for i in range(2):
        for j in range(3):
            d2 = (2.0 * (x1[i, 0] - x2[j, 0])) ** 2 + (0.5 * (x1[i, 1] - x2[j, 1])) ** 2
            assert float(values[i, j]) == pytest.approx(_matern52_by_hand(math.sqrt(float(d2))), abs=1e-8)
    # a worked example: d^2 = (2 * 0.3)^2 + (0.5 * 0.4)^2 = 0.4
    d = math.sqrt(0.4)
    by_hand = (1 + math.sqrt(5) * d + 5 / 3 * 0.4) * math.exp(-math.sqrt(5) * d)
    assert float(values[0, 0]) == pytest.approx(by_hand, abs=1e-8)
    assert float(values[0, 1]) == pytest.approx(1.0, abs=1e-8)  # same point
    assert torch.allclose(kernel.forward(x1, x1, diag=True), torch.ones(2, dtype=torch.float64), atol=1e-8)


def test_matern52_agrees_with_gpytorch_matern() -> None:
    torch.manual_seed(0)
    ours = Matern52Kernel(ard_num_dims=3).double()
    theirs = gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=3).double()
    lengthscale = torch.tensor([[0.3, 1.5, 0.7]], dtype=torch.float64)
    ours.lengthscale = lengthscale
    theirs.lengthscale = lengthscale
    x1, x2 = torch.rand(5, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)
    assert torch.allclose(ours.forward(x1, x2), theirs(x1, x2).to_dense(), atol=1e-8)


def test_raw_lengthscale_is_log_lengthscale() -> None:
    kernel = Matern52Kernel(ard_num_dims=2).double()
    with torch.no_grad():
        kernel.raw_lengthscale.copy_(torch.tensor([[0.0, math.log(4.0)]]))
    assert torch.allclose(kernel.lengthscale, torch.tensor([[1.0, 4.0]], dtype=torch.float64))


def test_exp_decay_resource_kernel_matches_hand_computation() -> None:
    kernel = ExpDecayResourceKernel().double()
    # initial values: alpha = 1, mean_lam = 0.5 (so beta = alpha / mean_lam = 2), gamma = 0.5
    assert float(kernel.alpha) == pytest.approx(1.0)
    assert float(kernel.mean_lam) == pytest.approx(0.5)
    assert float(kernel.gamma) == pytest.approx(0.5)
    r1 = torch.tensor([[0.2], [0.5]], dtype=torch.float64)
    r2 = torch.tensor([[0.5], [0.0]], dtype=torch.float64)
    values = kernel.forward(r1, r2)
    kappa = lambda r: 2.0 / (r + 2.0)  # noqa: E731  (beta / (r + beta))^alpha with alpha=1, beta=2
    # k(0.2, 0.5) = gamma^2 (kappa(0.7) - kappa(0.2) kappa(0.5)) = 0.25 (2/2.7 - 2/2.2 * 0.8)
    assert float(values[0, 0]) == pytest.approx(0.25 * (2 / 2.7 - (2 / 2.2) * 0.8), abs=1e-12)
    assert float(values[1, 0]) == pytest.approx(0.25 * (kappa(1.0) - kappa(0.5) ** 2), abs=1e-12)
    assert float(values[0, 1]) == pytest.approx(0.0, abs=1e-12)  # kappa(0) = 1: r = 0 is deterministic
    diag = kernel.forward(r1, r1, diag=True)
    assert torch.allclose(diag, kernel.forward(r1, r1).diagonal())


def test_exp_decay_kernel_with_alpha_two() -> None:
    kernel = ExpDecayResourceKernel().double()
    with torch.no_grad():
        kernel.raw_alpha.fill_(math.log(2.0))
        kernel.raw_mean_lam.fill_(math.log(1.0))
        kernel.raw_gamma.fill_(math.log(0.8))
    beta = 2.0  # alpha / mean_lam
    kappa = lambda r: (beta / (r + beta)) ** 2  # noqa: E731
    r = torch.tensor([[0.25], [1.0]], dtype=torch.float64)
    values = kernel.forward(r, r)
    assert float(values[0, 1]) == pytest.approx(0.64 * (kappa(1.25) - kappa(0.25) * kappa(1.0)), abs=1e-12)
    assert float(kernel.kappa(torch.tensor(0.25, dtype=torch.float64))) == pytest.approx(kappa(0.25))


# --- the in-place fast paths give the plain expressions' values, bit for bit -----------------
# (the searcher's results must not depend on which path computed them: runs stay reproducible
# across code versions, and the GP parity reports stay valid)

def _plain_squared_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    norms_a, norms_b = (a * a).sum(-1), (b * b).sum(-1)
    return (norms_a.unsqueeze(-1) + norms_b.unsqueeze(-2) - 2.0 * a @ b.transpose(-1, -2)).abs()


def _plain_matern(d2: torch.Tensor) -> torch.Tensor:
    five_d2 = 5.0 * d2
    b = torch.sqrt(five_d2 + MATERN_SQRT_JITTER)
    return (1.0 + b + five_d2 / 3.0) * torch.exp(-b)


@pytest.mark.parametrize("n1, n2, dim", [(1, 1, 1), (37, 5, 6), (203, 251, 30)])
def test_in_place_kernels_equal_the_plain_expressions_bit_for_bit(n1: int, n2: int, dim: int) -> None:
    gen = torch.Generator().manual_seed(n1)
    a = 3.0 * torch.rand(n1, dim, dtype=torch.float64, generator=gen)
    b = 3.0 * torch.rand(n2, dim, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        assert torch.equal(scaled_squared_distance(a, b), _plain_squared_distance(a, b))
        assert torch.equal(scaled_squared_distance(a, a), _plain_squared_distance(a, a))
        norms = (a * a).sum(-1).unsqueeze(-1)
        assert torch.equal(scaled_squared_distance(a, b, norms), _plain_squared_distance(a, b))
        d2 = _plain_squared_distance(a, b)
        assert torch.equal(matern52(d2), _plain_matern(d2))
        gram, slope = matern52_with_slope(d2)
        assert torch.equal(gram, _plain_matern(d2))
        five_d2 = 5.0 * d2
        root = torch.sqrt(five_d2 + MATERN_SQRT_JITTER)
        assert torch.equal(slope, (-5.0 / 6.0) * torch.exp(-root) * (1.0 + root - MATERN_SQRT_JITTER / root))
    # with autograd: the plain path, same values, and gradients flow
    a_grad = a.clone().requires_grad_(True)
    values = matern52(scaled_squared_distance(a_grad, b))
    assert torch.equal(values.detach(), _plain_matern(_plain_squared_distance(a, b)))
    values.sum().backward()
    assert a_grad.grad is not None and torch.isfinite(a_grad.grad).all()


def test_resource_kernel_expansion_equals_one_hot_products_bit_for_bit() -> None:
    kernel = ExpDecayResourceKernel().double()
    with torch.no_grad():
        kernel.raw_alpha.fill_(math.log(1.7))
        kernel.raw_mean_lam.fill_(math.log(0.3))
    gen = torch.Generator().manual_seed(3)
    levels = torch.tensor([1.0, 3.0, 9.0, 27.0, 81.0], dtype=torch.float64) / 81.0
    r1 = levels[torch.randint(0, 5, (40,), generator=gen)].unsqueeze(-1)
    r2 = levels[torch.randint(0, 3, (17,), generator=gen)].unsqueeze(-1)
    with torch.no_grad():
        for x1, x2 in ((r1, r2), (r1, r1), (r1, r2[:1])):
            u1, i1 = torch.unique(x1.reshape(-1), return_inverse=True)
            u2, i2 = torch.unique(x2.reshape(-1), return_inverse=True)
            one_hot1 = torch.nn.functional.one_hot(i1, len(u1)).double()
            one_hot2 = torch.nn.functional.one_hot(i2, len(u2)).double()
            expected = one_hot1 @ kernel._grid(u1, u2) @ one_hot2.transpose(0, 1)
            assert torch.equal(kernel.forward(x1, x2), expected)
        # a Gram matrix (the same tensor twice) comes contiguous, equal to the general path's
        gram = kernel.forward(r1, r1)
        assert gram.is_contiguous() and torch.equal(gram, kernel.forward(r1, r1.clone()))
