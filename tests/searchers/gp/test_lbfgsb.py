"""mfbench.searchers.gp.lbfgsb: SciPy's L-BFGS-B iterates bit for bit, with a leaner loop."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import fmin_l_bfgs_b, minimize

from mfbench.searchers.gp import lbfgsb


def _problem(seed: int, n: int):
    """A random non-convex objective (a quadratic plus a sine ripple) with value and gradient."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    hessian = a @ a.T / n + 0.1 * np.eye(n)
    centre = rng.standard_normal(n)
    calls = []

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls.append(x.copy())
        r = x - centre
        return float(r @ hessian @ r + np.sin(3.0 * x).sum()), 2.0 * hessian @ r + 3.0 * np.cos(3.0 * x)

    return objective, calls, rng


@pytest.mark.parametrize("seed", range(8))
def test_same_iterates_as_scipy_minimize(seed):
    """Mixed bounds (none, lower, upper, both), a start partly outside them, minimize's tol."""
    n = 7
    objective, calls, rng = _problem(seed, n)
    lower = np.array([-np.inf, -1.0, -np.inf, 0.0, -0.5, -np.inf, -2.0])
    upper = np.array([np.inf, np.inf, 0.5, 1.0, 0.5, np.inf, 2.0])
    start = rng.standard_normal(n) * 2.0
    tolerance = 1e-6
    ours = lbfgsb.minimize_lbfgsb(objective, start, lower, upper, ftol=tolerance, gtol=tolerance, max_iterations=50)
    ours_calls = list(calls)
    calls.clear()
    bounds = [(None if np.isinf(lo) else lo, None if np.isinf(hi) else hi) for lo, hi in zip(lower, upper)]
    theirs = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, tol=tolerance,
                      options={"maxiter": 50})
    assert np.array_equal(ours.x, theirs.x) and ours.fun == theirs.fun
    assert (ours.nfev, ours.nit, ours.converged) == (theirs.nfev, theirs.nit, theirs.status == 0)
    # the objective was asked at the same points, in the same order
    assert len(ours_calls) == len(calls) and all(np.array_equal(p, q) for p, q in zip(ours_calls, calls))


@pytest.mark.parametrize("max_iterations", [1, 3, 15000])
def test_same_result_as_fmin_l_bfgs_b_in_the_unit_box(max_iterations):
    """The local acquisition search's call: [0, 1]^d, fmin_l_bfgs_b's default tolerances."""
    objective, _, rng = _problem(11, 5)
    start = rng.uniform(size=5)
    ours = lbfgsb.minimize_lbfgsb(objective, start, np.zeros(5), np.ones(5), ftol=lbfgsb.FMIN_L_BFGS_B_FTOL,
                                  gtol=lbfgsb.FMIN_L_BFGS_B_GTOL, max_iterations=max_iterations)
    x, value, info = fmin_l_bfgs_b(objective, x0=start, bounds=[(0.0, 1.0)] * 5, maxiter=max_iterations)
    assert np.array_equal(ours.x, x) and ours.fun == value
    assert (ours.nfev, ours.nit) == (info["funcalls"], info["nit"])
    if max_iterations == 1:
        assert ours.nit == 1 and not ours.converged


def test_scipy_fallback_gives_the_same_result(monkeypatch):
    """Another SciPy version (or a failed self-check) uses scipy.optimize.minimize: same numbers."""
    objective, _, rng = _problem(3, 4)
    start, lower, upper = rng.standard_normal(4), np.full(4, -1.0), np.full(4, np.inf)
    fast = lbfgsb.minimize_lbfgsb(objective, start, lower, upper, ftol=1e-8, gtol=1e-6, max_iterations=30)
    monkeypatch.setattr(lbfgsb, "_FAST_LOOP", False)
    slow = lbfgsb.minimize_lbfgsb(objective, start, lower, upper, ftol=1e-8, gtol=1e-6, max_iterations=30)
    assert np.array_equal(fast.x, slow.x) and (fast.fun, fast.nfev, fast.nit) == (slow.fun, slow.nfev, slow.nit)


def test_fast_loop_is_used_on_a_verified_scipy(monkeypatch):
    """On a SciPy version the loop mirrors, the first-use check against ``minimize`` passes and the
    fast loop is used. A newer SciPy gets SciPy's own driver (same numbers, slower) until its
    ``_minimize_lbfgsb`` has been compared and its version added to ``_VERIFIED_SCIPY``."""
    if lbfgsb._scipy_version() not in lbfgsb._VERIFIED_SCIPY:
        pytest.skip(f"SciPy {lbfgsb._scipy_version()} not verified for the fast L-BFGS-B loop")
    monkeypatch.setattr(lbfgsb, "_FAST_LOOP", None)
    assert lbfgsb._fast_loop_available()


def test_bad_bounds_and_objective_errors():
    objective, _, _ = _problem(0, 2)
    with pytest.raises(ValueError, match="lower bounds is greater"):
        lbfgsb.minimize_lbfgsb(objective, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                               ftol=1e-6, gtol=1e-6, max_iterations=5)
    with pytest.raises(ValueError, match="length of x0"):
        lbfgsb.minimize_lbfgsb(objective, np.zeros(3), np.zeros(2), np.ones(2), ftol=1e-6, gtol=1e-6,
                               max_iterations=5)

    def failing(x: np.ndarray) -> tuple[float, np.ndarray]:
        raise FloatingPointError("non-finite")

    with pytest.raises(FloatingPointError):
        lbfgsb.minimize_lbfgsb(failing, np.zeros(2), np.zeros(2), np.ones(2), ftol=1e-6, gtol=1e-6, max_iterations=5)
