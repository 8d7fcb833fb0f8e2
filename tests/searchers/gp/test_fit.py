"""MAP fitting: exact gradient, bounds, restarts, reproducibility."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mfbench.searchers.gp.fit import _Criterion, fit_map  # noqa: E402
from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP  # noqa: E402


def _data(seed: int = 0, n: int = 30, configs: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` observations; with ``configs``, of that many distinct configurations (repeated as
    a trial's are at several resources), else every configuration distinct."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2)) if configs is None else rng.random((configs, 2))[rng.integers(0, configs, n)]
    levels = rng.choice([1, 3, 9], size=n, p=[0.6, 0.3, 0.1]).astype(float)
    y = np.sin(5 * x[:, 0]) + 0.5 * x[:, 1] + 1.0 / levels + 0.05 * rng.standard_normal(n)
    y = (y - y.mean()) / y.std()
    return torch.from_numpy(np.column_stack([x, levels])), torch.from_numpy(y)


def _model(which: str):
    return MultiTaskGP(2, 9).double() if which == "joint" else IndependentGP(2, [1, 3, 9]).double()


@pytest.mark.parametrize("which,n,configs", [("joint", 30, None), ("joint", 150, 40), ("indep", 30, None),
                                             ("indep", 300, None)])
def test_closed_form_gradient_matches_finite_differences(which: str, n: int, configs: int | None) -> None:
    """Also with a level block big enough to be factorised on its own (n=300: level 1 alone) and
    with repeated configurations factorised through torch's LAPACK (joint, n=150 of 40)."""
    z, y = _data(n=n, configs=configs)
    model = _model(which)
    criterion = _Criterion(model, z, y)
    vector = criterion.get() + np.random.default_rng(1).normal(0, 0.3, size=len(criterion.get()))
    value, grad = criterion(vector)
    criterion.set(vector)
    assert value == pytest.approx(float(criterion.value()), abs=1e-9)  # same criterion via autograd path
    eps = 1e-6
    for i in range(len(vector)):
        step = np.zeros_like(vector)
        step[i] = eps
        numeric = (criterion(vector + step)[0] - criterion(vector - step)[0]) / (2 * eps)
        assert grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-5), f"parameter {i}"


@pytest.mark.parametrize("which", ["joint", "indep"])
def test_fit_improves_criterion_and_respects_bounds(which: str) -> None:
    z, y = _data()
    model = _model(which)
    model.reset_parameters(y)
    criterion = _Criterion(model, z, y)
    initial, _ = criterion(criterion.get())
    result = fit_map(model, z, y, np.random.default_rng(0), num_starts=2, max_iterations=50)
    assert result.criterion < initial - 1.0
    assert result.num_failed_starts == 0
    final = criterion.get()
    assert np.all(final >= criterion.lower - 1e-12) and np.all(final <= criterion.upper + 1e-12)
    assert criterion(final)[0] == pytest.approx(result.criterion, abs=1e-8)
    # bounds are the reference boxes, in log space
    bounds = model.raw_bounds()
    assert bounds["raw_noise"] == pytest.approx((math.log(1e-9), math.log(1e6)))
    assert bounds["kernel_x.raw_lengthscale"] == pytest.approx((math.log(1e-2), math.log(1e4)))


def test_fit_is_reproducible() -> None:
    z, y = _data()
    results = []
    for _ in range(2):
        model = _model("joint")
        model.reset_parameters(y)
        fit_map(model, z, y, np.random.default_rng(5), num_starts=2, max_iterations=20)
        results.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    assert torch.equal(results[0], results[1])


def test_priors_are_the_reference_ones() -> None:
    model = _model("joint")
    names = {name for name, *_ in model.named_priors()}
    assert names == {"noise_prior", "outputscale_prior", "constant_prior"}
    # log prior at the initial values: Gamma(0.1, 1) at 1e-3, LogNormal(0, 1) at 1, Normal(0, 1) at 0
    expected = (
        (0.1 - 1) * math.log(1e-3) - 1e-3 + 0.1 * math.log(1.0) - math.lgamma(0.1)
        - 0.5 * math.log(2 * math.pi)
        - 0.5 * math.log(2 * math.pi)
    )
    assert float(model.log_prior()) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("which,n,configs", [("joint", 30, None), ("joint", 200, None), ("joint", 200, 60),
                                             ("joint", 60, 20), ("indep", 30, None), ("indep", 300, None)])
def test_numpy_criterion_agrees_with_the_torch_path(which: str, n: int, configs: int | None) -> None:
    """The NumPy closed form (the default for the shipped models) and the torch/autograd path:
    same value and gradient to rounding, at start values and at random parameters; also where
    configurations repeat (the joint model's Matern terms per configuration), below and above
    the size where the factorisation goes through torch's LAPACK."""
    z, y = _data(n=n, configs=configs)
    model = _model(which)
    fast, slow = _Criterion(model, z, y), _Criterion(_model(which), z, y, use_numpy=False)
    assert fast.numpy is not None and slow.numpy is None
    rng = np.random.default_rng(3)
    start = fast.get()
    for i in range(5):
        vector = np.clip(start + (0.0 if i == 0 else rng.normal(0, 0.7, len(start))), fast.lower, fast.upper)
        value, grad = fast(vector)
        expected_value, expected_grad = slow(vector)
        assert value == pytest.approx(expected_value, rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-8, atol=1e-9 * max(1.0, np.abs(expected_grad).max()))
    np.testing.assert_array_equal(fast.get(), start)  # the NumPy path does not write the model


def test_fit_writes_the_best_parameters_once() -> None:
    z, y = _data()
    model = _model("joint")
    model.reset_parameters(y)
    result = fit_map(model, z, y, np.random.default_rng(0), num_starts=2, max_iterations=30)
    check = _Criterion(model, z, y, use_numpy=False)
    assert check(check.get())[0] == pytest.approx(result.criterion, rel=1e-10)


def test_numpy_matern_in_place_equals_the_plain_expressions_bit_for_bit() -> None:
    from mfbench.searchers.gp.kernels import MATERN_SQRT_JITTER
    from mfbench.searchers.gp.map_numpy import _matern52_with_slope

    d2 = np.abs(np.random.default_rng(5).normal(0.0, 2.0, (97, 61)))
    d2[0, :5] = 0.0
    five_d2 = 5.0 * d2
    b = np.sqrt(five_d2 + MATERN_SQRT_JITTER)
    decay = np.exp(-b)
    matern, slope = _matern52_with_slope(d2)
    np.testing.assert_array_equal(matern, (1.0 + b + five_d2 / 3.0) * decay)
    np.testing.assert_array_equal(slope, (-5.0 / 6.0) * decay * (1.0 + b - MATERN_SQRT_JITTER / b))


@pytest.mark.parametrize("n", [20, 150])
def test_solve_and_invert_matches_numpy_and_adds_jitter_when_singular(n: int) -> None:
    """Both factorisations (SciPy below TORCH_LAPACK_FROM, torch from it): log|L|, K^-1 r and
    the full K^-1; a singular matrix gets the growing jitter of cholesky_lower."""
    from mfbench.searchers.gp.map_numpy import TORCH_LAPACK_FROM, cholesky_lower, solve_and_invert

    assert 20 < TORCH_LAPACK_FROM <= 150
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n + 3))
    kernel = a @ a.T / n + 0.1 * np.eye(n)
    residual = rng.standard_normal(n)
    log_det_half, weights, inverse = solve_and_invert(kernel.copy(), residual)
    assert log_det_half == pytest.approx(0.5 * np.linalg.slogdet(kernel)[1], rel=1e-10)
    np.testing.assert_allclose(weights, np.linalg.solve(kernel, residual), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(inverse, np.linalg.inv(kernel), rtol=1e-8, atol=1e-10)
    singular = np.ones((n, n))  # rank one: needs jitter
    log_det_half, weights, inverse = solve_and_invert(singular.copy(), residual)
    factor = cholesky_lower(singular)
    assert log_det_half == pytest.approx(float(np.log(np.diagonal(factor)).sum()), rel=1e-6)
    np.testing.assert_allclose(inverse @ (factor @ factor.T), np.eye(n), atol=1e-4)
