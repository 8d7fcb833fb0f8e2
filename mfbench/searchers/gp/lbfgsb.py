"""L-BFGS-B: SciPy's compiled routine, driven by a lean loop (the same iterates, less bookkeeping).

The GP methods run many small bound-constrained optimisations: every MAP fit (about 50
evaluations of the criterion, :mod:`mfbench.searchers.gp.fit`) and every local search of the
acquisition function (about 25, :mod:`mfbench.searchers.gp.candidates`). On small data an
evaluation takes tens of microseconds, and ``scipy.optimize.minimize`` /
``fmin_l_bfgs_b`` spend about as long again per evaluation in their wrappers (memoising
function objects, copies, bounds conversions) and build a result with an inverse-Hessian
operator that nobody reads.

:func:`minimize_lbfgsb` calls the routine those wrappers call (``scipy.optimize._lbfgsb.setulb``,
the C translation of L-BFGS-B 3.0 in SciPy >= 1.15) with the same inputs, and evaluates the
objective exactly when they do (at the clipped start, then whenever the routine asks at a
point that differs from the last evaluated one), so its iterates and result are SciPy's bit
for bit; tests/searchers/gp/test_lbfgsb.py compares both on random problems. ``setulb`` is
private API: the fast loop is used only with the SciPy versions whose driver it mirrors
(:data:`_VERIFIED_SCIPY`), after a check against ``scipy.optimize.minimize`` on a small
problem at first use; otherwise :func:`minimize_lbfgsb` calls ``scipy.optimize.minimize``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

#: ``(major, minor)`` SciPy versions whose ``_minimize_lbfgsb`` loop this module mirrors
_VERIFIED_SCIPY = {(1, 15), (1, 16), (1, 17)}
#: ``ftol`` of ``fmin_l_bfgs_b``'s default ``factr=1e7``, computed as SciPy computes it
FMIN_L_BFGS_B_FTOL = 1e7 * np.finfo(float).eps
#: ``gtol`` of ``fmin_l_bfgs_b``'s default ``pgtol``
FMIN_L_BFGS_B_GTOL = 1e-5

Objective = Callable[[np.ndarray], "tuple[float, np.ndarray]"]


@dataclass(frozen=True)
class LbfgsbResult:
    """What one run of L-BFGS-B found.

    Attributes:
        x: the final iterate, shape ``(n,)``.
        fun: the objective there.
        nfev: evaluations of the objective.
        nit: iterations.
        converged: the routine's convergence test held (not stopped by ``max_iterations``,
            the evaluation limit or a failed line search).
    """

    x: np.ndarray
    fun: float
    nfev: int
    nit: int
    converged: bool


def minimize_lbfgsb(
    objective: Objective,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    ftol: float,
    gtol: float,
    max_iterations: int,
    maxcor: int = 10,
    maxls: int = 20,
    max_evaluations: int = 15000,
) -> LbfgsbResult:
    """Minimise ``objective`` (value and gradient ``(n,)``) over the box ``[lower, upper]``.

    The arguments mean what SciPy's L-BFGS-B options of these names mean (``maxiter`` is
    ``max_iterations``, ``maxfun`` ``max_evaluations``); ``lower`` / ``upper`` ``(n,)`` may hold
    ``-inf`` / ``inf`` for no bound. Exceptions raised by ``objective`` propagate.

    Returns:
        The same final iterate, value and counts as
        ``scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", ...)``.
    """
    lower = np.asarray(lower, dtype=np.float64).reshape(-1)
    upper = np.asarray(upper, dtype=np.float64).reshape(-1)
    x0 = np.asarray(x0).ravel()
    if not (len(lower) == len(upper) == len(x0)):
        raise ValueError(f"length of x0 ({len(x0)}) != length of bounds ({len(lower)}, {len(upper)})")
    if (lower > upper).any():
        raise ValueError("L-BFGS-B: one of the lower bounds is greater than an upper bound")
    if max_iterations < 1 or maxls < 1:
        raise ValueError("max_iterations and maxls must be positive")
    if _fast_loop_available():
        return _drive(objective, x0, lower, upper, ftol, gtol, max_iterations, maxcor, maxls, max_evaluations)
    return _with_scipy_minimize(objective, x0, lower, upper, ftol, gtol, max_iterations, maxcor, maxls,
                                max_evaluations)


def _evaluate(objective: Objective, x: np.ndarray) -> tuple[float, np.ndarray]:
    """The objective at a copy of ``x``, its value a true scalar (as SciPy's wrappers make it)."""
    value, grad = objective(x.copy())
    if not np.isscalar(value):
        value = np.asarray(value).item()
    return value, np.atleast_1d(grad)


def _drive(objective: Objective, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, ftol: float, gtol: float,
           max_iterations: int, maxcor: int, maxls: int, max_evaluations: int) -> LbfgsbResult:
    """SciPy's ``_minimize_lbfgsb`` loop, without its memoising wrappers (same calls of ``setulb``)."""
    from scipy.optimize import _lbfgsb

    n = len(x0)
    m = maxcor
    factr = ftol / np.finfo(float).eps
    x0 = np.clip(x0, lower, upper)
    finite_lower, finite_upper = np.isfinite(lower), np.isfinite(upper)
    # setulb's bound types: 0 none, 1 lower only, 2 both, 3 upper only
    nbd = np.where(finite_lower, np.where(finite_upper, 2, 1), np.where(finite_upper, 3, 0)).astype(np.int32)
    low_bnd = np.where(finite_lower, lower, 0.0)
    upper_bnd = np.where(finite_upper, upper, 0.0)
    # the first evaluation, at the start (SciPy's ScalarFunction makes it before the loop)
    last_x = x0.astype(np.float64)
    f_last, g_last = _evaluate(objective, last_x)
    nfev = 1
    x = np.array(x0, dtype=np.float64)
    f: float | np.ndarray = np.array(0.0, dtype=np.float64)
    g = np.zeros((n,), dtype=np.float64)
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, np.float64)
    iwa = np.zeros(3 * n, dtype=np.int32)
    task = np.zeros(2, dtype=np.int32)
    ln_task = np.zeros(2, dtype=np.int32)
    lsave = np.zeros(4, dtype=np.int32)
    isave = np.zeros(44, dtype=np.int32)
    dsave = np.zeros(29, dtype=np.float64)
    iterations = 0
    while True:
        g = g.astype(np.float64)
        _lbfgsb.setulb(m, x, low_bnd, upper_bnd, nbd, f, g, factr, gtol, wa, iwa, task, lsave, isave, dsave,
                       maxls, ln_task)
        if task[0] == 3:  # the routine wants f and g at x: evaluated unless x is the last point
            if not np.array_equal(x, last_x):
                last_x = x.astype(np.float64)
                f_last, g_last = _evaluate(objective, last_x)
                nfev += 1
            f, g = f_last, g_last
        elif task[0] == 1:  # a new iteration
            iterations += 1
            if iterations >= max_iterations:
                task[0], task[1] = 5, 504
            elif nfev > max_evaluations:
                task[0], task[1] = 5, 502
        else:
            break
    return LbfgsbResult(x=x, fun=float(f), nfev=nfev, nit=iterations, converged=bool(task[0] == 4))


def _with_scipy_minimize(objective: Objective, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray, ftol: float,
                         gtol: float, max_iterations: int, maxcor: int, maxls: int,
                         max_evaluations: int) -> LbfgsbResult:
    from scipy.optimize import minimize

    bounds = [(None if np.isinf(lo) else float(lo), None if np.isinf(hi) else float(hi)) for lo, hi in zip(lower, upper)]
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"ftol": ftol, "gtol": gtol, "maxiter": max_iterations, "maxcor": maxcor,
                               "maxls": maxls, "maxfun": max_evaluations})
    return LbfgsbResult(x=result.x, fun=float(result.fun), nfev=int(result.nfev), nit=int(result.nit),
                        converged=bool(result.status == 0))


_FAST_LOOP: bool | None = None


def _fast_loop_available() -> bool:
    """Whether :func:`_drive` may be used: a verified SciPy version whose ``minimize`` it matches
    on a small bounded problem (checked once per process)."""
    global _FAST_LOOP
    if _FAST_LOOP is None:
        _FAST_LOOP = _scipy_version() in _VERIFIED_SCIPY and _matches_scipy()
    return _FAST_LOOP


def _scipy_version() -> tuple[int, int]:
    import scipy

    major, minor = scipy.__version__.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def _check_problem(v: np.ndarray) -> tuple[float, np.ndarray]:
    """A bounded, coupled test objective: ``sum((v - c)^2) + (v_0 v_1 - 1)^2``, value and gradient."""
    centre = np.array([1.5, -0.7, 0.3])
    product = v[0] * v[1] - 1.0
    grad = 2.0 * (v - centre)
    grad[0] += 2.0 * product * v[1]
    grad[1] += 2.0 * product * v[0]
    return float(((v - centre) ** 2).sum() + product * product), grad


def _matches_scipy() -> bool:
    try:
        lower, upper = np.array([-1.0, -np.inf, 0.0]), np.array([1.0, 0.5, np.inf])
        start = np.array([0.2, 0.1, 2.0])
        ours = _drive(_check_problem, start, lower, upper, 1e-9, 1e-6, 50, 10, 20, 15000)
        theirs = _with_scipy_minimize(_check_problem, start, lower, upper, 1e-9, 1e-6, 50, 10, 20, 15000)
    except Exception:  # a changed private signature: use SciPy's own driver
        return False
    return bool(np.array_equal(ours.x, theirs.x) and ours.fun == theirs.fun and ours.nfev == theirs.nfev
                and ours.nit == theirs.nit)
