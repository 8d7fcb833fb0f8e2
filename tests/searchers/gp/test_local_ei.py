"""The numpy EI and gradient of the local search against torch autograd on the same posterior."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mfbench.searchers.gp.acquisition import expected_improvement  # noqa: E402
from mfbench.searchers.gp.local_ei import NegativeEI  # noqa: E402
from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP  # noqa: E402
from mfbench.searchers.gp.posterior import BlockPosterior  # noqa: E402


def _posterior(which: str) -> BlockPosterior:
    rng = np.random.default_rng(0)
    n, dim = 14, 3
    x = rng.random((n, dim))
    levels = rng.choice([1, 3, 9], size=n).astype(float)
    y = torch.from_numpy(np.sin(4 * x[:, 0]) + x[:, 1] - 1.0 / levels)
    z = torch.from_numpy(np.column_stack([x, levels]))
    model = MultiTaskGP(dim, 9).double() if which == "joint" else IndependentGP(dim, [1, 3, 9]).double()
    with torch.no_grad():
        model.kernel_x.raw_lengthscale.copy_(torch.log(torch.tensor([[0.3, 0.8, 2.0]], dtype=torch.float64)))
        model.raw_noise.fill_(math.log(0.01))
    z_pending = torch.tensor([[0.5, 0.5, 0.5, 3.0], [0.1, 0.9, 0.4, 1.0]], dtype=torch.float64)
    with torch.no_grad():
        return BlockPosterior(model, z, y, z_pending, num_fantasies=5, rng=np.random.default_rng(2))


@pytest.mark.parametrize("which", ["joint", "indep"])
@pytest.mark.parametrize("ensemble", [False, True])
def test_numpy_ei_matches_torch_autograd(which: str, ensemble: bool) -> None:
    posterior = _posterior(which)
    weights = {1: 0.6, 3: 0.3, 9: 0.1} if ensemble else {3: 1.0}
    best = torch.tensor([-0.2, 0.1, 0.0, -0.5, 0.3], dtype=torch.float64)
    with torch.no_grad():
        components = [(t, t * t, posterior.level_predictor(r, 3).numpy_terms()) for r, t in weights.items()]
    for point in np.random.default_rng(1).random((4, 3)):
        x = torch.from_numpy(point.reshape(1, -1)).requires_grad_(True)
        means, variances = 0.0, 0.0
        for r, t in weights.items():
            m, v = posterior.predict_level(x, r)
            means, variances = means + t * m, variances + t * t * v
        value = -expected_improvement(means, variances.sqrt(), best, jitter=0.01).sum()
        value.backward()
        np_value, np_grad = NegativeEI(components, best.numpy(), 0.01)(point)
        assert np_value == pytest.approx(float(value), rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(np_grad, x.grad.reshape(-1).numpy(), rtol=1e-6, atol=1e-10)
