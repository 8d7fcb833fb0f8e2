"""The GP posterior against an exact dense numpy computation on a small problem."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mfbench.searchers.gp.models import IndependentGP, MultiTaskGP  # noqa: E402
from mfbench.searchers.gp.posterior import SAMPLE_JITTER, GPPosterior, robust_cholesky  # noqa: E402


def _problem(seed: int = 0, n: int = 7, dim: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, dim))
    levels = rng.choice([1, 3, 9], size=n).astype(float)
    y = np.sin(4 * x[:, 0]) + x[:, 1] / levels + 0.1 * rng.standard_normal(n)
    z = torch.from_numpy(np.column_stack([x, levels]))
    z_test = torch.from_numpy(np.column_stack([rng.random((4, dim)), [1.0, 3.0, 9.0, 3.0]]))
    return z, torch.from_numpy(y), z_test


def _models(dim: int) -> list:
    multitask = MultiTaskGP(dim, max_fidelity=9).double()
    independent = IndependentGP(dim, levels=[1, 3, 9]).double()
    with torch.no_grad():  # non-default parameters, so that every term matters
        for model in (multitask, independent):
            model.kernel_x.raw_lengthscale.copy_(torch.tensor([[math.log(0.4), math.log(1.7)]], dtype=torch.float64))
            model.raw_noise.fill_(math.log(0.05))
        multitask.raw_outputscale.fill_(math.log(1.3))
        multitask.constant.fill_(0.2)
        multitask.resource.raw_alpha.fill_(math.log(1.5))
        independent.raw_outputscales.copy_(torch.log(torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)))
        independent.constants.copy_(torch.tensor([0.3, -0.1, 0.0], dtype=torch.float64))
    return [multitask, independent]


@pytest.mark.parametrize("which", [0, 1])
def test_posterior_matches_dense_numpy(which: int) -> None:
    z, y, z_test = _problem()
    model = _models(2)[which]
    with torch.no_grad():
        posterior = GPPosterior(model, z, y)
        means, variances = posterior.predict(z_test)
        joint_mean, joint_cov = posterior.joint(z_test)
        k = model.covariance(z, z).numpy() + float(model.noise_variance) * np.eye(len(z))
        k_star = model.covariance(z, z_test).numpy()
        k_test = model.covariance(z_test, z_test).numpy()
        m, m_test = model.mean(z).numpy(), model.mean(z_test).numpy()
    expected_mean = m_test + k_star.T @ np.linalg.solve(k, y.numpy() - m)
    expected_cov = k_test - k_star.T @ np.linalg.solve(k, k_star)
    np.testing.assert_allclose(means[:, 0].numpy(), expected_mean, atol=1e-10)
    np.testing.assert_allclose(variances.numpy(), np.diag(expected_cov), atol=1e-10)
    np.testing.assert_allclose(joint_mean[:, 0].numpy(), expected_mean, atol=1e-10)
    np.testing.assert_allclose(joint_cov.numpy(), expected_cov, atol=1e-10)
    # the negative log marginal likelihood of a multivariate normal, by hand
    sign, logdet = np.linalg.slogdet(k)
    r = y.numpy() - m
    nll = 0.5 * r @ np.linalg.solve(k, r) + 0.5 * logdet + 0.5 * len(z) * math.log(2 * math.pi)
    assert float(posterior.neg_log_likelihood()) == pytest.approx(nll, abs=1e-10)


def test_independent_model_is_block_diagonal_with_level_scales() -> None:
    z, _, _ = _problem()
    model = _models(2)[1]
    with torch.no_grad():
        k = model.covariance(z, z)
        k_x = model.kernel_x.forward(z[:, :2], z[:, :2])
    scales = {1.0: 0.5, 3.0: 1.0, 9.0: 2.0}
    for i in range(len(z)):
        for j in range(len(z)):
            ri, rj = float(z[i, 2]), float(z[j, 2])
            expected = scales[ri] * float(k_x[i, j]) if ri == rj else 0.0
            assert float(k[i, j]) == pytest.approx(expected, abs=1e-14)
    assert model.mean(z).tolist() == [{1.0: 0.3, 3.0: -0.1, 9.0: 0.0}[float(r)] for r in z[:, 2]]
    with pytest.raises(ValueError, match="no parameters for fidelity levels"):
        model.mean(torch.tensor([[0.5, 0.5, 27.0]], dtype=torch.float64))


def test_multitask_mean_and_resource_encoding() -> None:
    model = _models(2)[0]
    z = torch.tensor([[0.1, 0.2, 1.0], [0.1, 0.2, 9.0]], dtype=torch.float64)
    alpha, mean_lam, gamma = 1.5, 0.5, 0.5
    beta = alpha / mean_lam
    for row, level in zip(model.mean(z).tolist(), [1.0, 9.0]):
        r = (level - 0.5) / 9.0
        assert row == pytest.approx(0.2 + gamma * (beta / (r + beta)) ** alpha, abs=1e-12)


@pytest.mark.parametrize("which", [0, 1])
def test_extend_equals_posterior_on_all_data(which: int) -> None:
    z, y, z_test = _problem(seed=1, n=9)
    model = _models(2)[which]
    with torch.no_grad():
        full = GPPosterior(model, z, y)
        first = GPPosterior(model, z[:6], y[:6])
        extended = first.extend(z[6:], y[6:].unsqueeze(-1))
        torch.testing.assert_close(extended.predict(z_test)[0], full.predict(z_test)[0], atol=1e-10, rtol=0)
        torch.testing.assert_close(extended.predict(z_test)[1], full.predict(z_test)[1], atol=1e-10, rtol=0)
        # fantasies: 3 columns of values for the pending points, observed values broadcast
        fantasies = torch.randn(3, 3, dtype=torch.float64)
        with_fantasies = first.extend(z[6:], fantasies)
        for column in range(3):
            reference = GPPosterior(model, z, torch.cat([y[:6], fantasies[:, column]]))
            torch.testing.assert_close(with_fantasies.predict(z_test)[0][:, column],
                                       reference.predict(z_test)[0][:, 0], atol=1e-10, rtol=0)


def test_sample_joint_has_posterior_moments() -> None:
    z, y, z_test = _problem(seed=2)
    model = _models(2)[0]
    with torch.no_grad():
        posterior = GPPosterior(model, z, y)
        mean, cov = posterior.joint(z_test)
        samples = posterior.sample_joint(z_test, 4000, np.random.default_rng(0))[:, 0, :]
    assert samples.shape == (4, 4000)
    np.testing.assert_allclose(samples.mean(1).numpy(), mean[:, 0].numpy(), atol=0.05)
    np.testing.assert_allclose(np.cov(samples.numpy()), cov.numpy() + SAMPLE_JITTER * np.eye(4), atol=0.05)
    again = posterior.sample_joint(z_test, 5, np.random.default_rng(0))
    torch.testing.assert_close(again, posterior.sample_joint(z_test, 5, np.random.default_rng(0)))


def test_a_schur_complement_below_its_rounding_errors_factorises_at_the_prior_scale() -> None:
    """trainsize_toy (noise-free, the noise at its floor): the fantasies' Schur complement had a
    diagonal of 1e-11 and rounding errors of 1e-9; jitter relative to that diagonal never helped."""
    schur = torch.tensor([[1e-11, 2e-9], [2e-9, 1e-11]], dtype=torch.float64)  # eigenvalues +-2e-9
    with pytest.raises(RuntimeError, match="Cholesky factorisation failed"):
        robust_cholesky(schur)
    factor = robust_cholesky(schur, prior_scale=1.0)
    assert torch.allclose(factor @ factor.T, schur, atol=1e-7)
    well = torch.eye(2, dtype=torch.float64)
    assert torch.equal(robust_cholesky(well, prior_scale=1e6), torch.linalg.cholesky(well))  # no jitter needed


def test_robust_cholesky_adds_jitter_to_a_singular_matrix() -> None:
    v = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    factor = robust_cholesky(v @ v.T)  # rank one
    assert torch.allclose(factor @ factor.T, v @ v.T, atol=1e-6)


def test_block_posterior_equals_dense_posterior() -> None:
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, z_test = _problem(seed=3, n=10)
    for model in _models(2):
        with torch.no_grad():
            dense = GPPosterior(model, z, y)
            blocks = BlockPosterior(model, z, y)
            torch.testing.assert_close(blocks.predict(z_test)[0], dense.predict(z_test)[0], atol=1e-10, rtol=0)
            torch.testing.assert_close(blocks.predict(z_test)[1], dense.predict(z_test)[1], atol=1e-10, rtol=0)


def test_block_posterior_fantasies_and_empty_blocks() -> None:
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, _ = _problem(seed=4, n=8)
    model = _models(2)[1]  # independent: one block per level
    z = z[z[:, 2] != 9.0]
    y = y[: len(z)]
    z_pending = torch.tensor([[0.2, 0.3, 1.0], [0.6, 0.1, 9.0]], dtype=torch.float64)
    with torch.no_grad():
        posterior = BlockPosterior(model, z, y, z_pending, num_fantasies=5, rng=np.random.default_rng(0))
        z_test = torch.tensor([[0.5, 0.5, 1.0], [0.5, 0.5, 9.0], [0.5, 0.5, 3.0]], dtype=torch.float64)
        means, variances = posterior.predict(z_test)
        assert means.shape == (3, 5) and posterior.num_columns == 5
        # level 9 has no observations: its posterior is conditioned on the fantasies only
        level9 = posterior.block(2)
        assert len(level9.z) == 1 and level9.targets.shape == (1, 5)
        # level 3 has no pending evaluation: the same prediction in every column
        assert torch.all(means[2] == means[2, 0])
        empty = BlockPosterior(model, z[:0], y[:0])
        m, v = empty.predict(z_test)
        torch.testing.assert_close(m[:, 0], model.mean(z_test))
        torch.testing.assert_close(v, model.variance(z_test))


def _posterior_with_pending(which: int, seed: int, pending_levels: tuple[float, float]):
    """A block posterior (model ``which`` of :func:`_models`) on 12 points with 2 pending, 4 fantasies."""
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, _ = _problem(seed=seed, n=12)
    z_pending = torch.tensor([[0.3, 0.3, pending_levels[0]], [0.9, 0.2, pending_levels[1]]], dtype=torch.float64)
    with torch.no_grad():
        return BlockPosterior(_models(2)[which], z, y, z_pending, num_fantasies=4, rng=np.random.default_rng(1))


@pytest.mark.parametrize("which", [0, 1])
def test_level_predictor_equals_predict(which: int) -> None:
    posterior = _posterior_with_pending(which, seed=5, pending_levels=(3.0, 3.0))
    x = torch.from_numpy(np.random.default_rng(0).random((6, 2)))
    with torch.no_grad():
        for level in (1, 3, 9):
            z_test = torch.cat([x, torch.full((6, 1), float(level), dtype=torch.float64)], dim=1)
            fast_means, fast_variances = posterior.predict_level(x, level)
            means, variances = posterior.predict(z_test)
            torch.testing.assert_close(fast_means, means, atol=1e-10, rtol=0)
            torch.testing.assert_close(fast_variances, variances, atol=1e-10, rtol=0)


@pytest.mark.parametrize("which", [0, 1])
def test_mixture_prediction_equals_combined_level_predictions(which: int) -> None:
    """``predict_mixture`` (shared kernel and solve per block, means through ``alpha``) = sum of levels."""
    posterior = _posterior_with_pending(which, seed=6, pending_levels=(3.0, 9.0))
    x = torch.from_numpy(np.random.default_rng(2).random((7, 2)))
    weights = {1: 0.5, 3: 0.3, 9: 0.2}
    with torch.no_grad():
        expected_means, expected_variances = 0.0, 0.0
        for level, weight in weights.items():
            m, v = posterior.predict_level(x, level)
            expected_means, expected_variances = expected_means + weight * m, expected_variances + weight**2 * v
        means, variances = posterior.predict_mixture(x, weights)
        means_only, none = posterior.predict_mixture(x, weights, means_only=True)
        single, single_variances = posterior.predict_mixture(x, {3: 1.0})
    assert means.shape == (7, 4) and none is None
    torch.testing.assert_close(means, expected_means, atol=1e-10, rtol=0)
    torch.testing.assert_close(variances, expected_variances, atol=1e-10, rtol=0)
    torch.testing.assert_close(means_only, expected_means, atol=1e-9, rtol=0)
    torch.testing.assert_close((single, single_variances), posterior.predict_level(x, 3), atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match="at least one level"):
        posterior.predict_mixture(x, {})


@pytest.mark.parametrize("which", [0, 1])
def test_without_autograd_the_same_values_bit_for_bit(which: int) -> None:
    """Without autograd, covariances, factors and predictions are computed in place (fewer
    temporaries); they must equal the differentiable computation exactly."""
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, z_test = _problem(seed=9, n=30)
    model = _models(2)[which]
    x = torch.from_numpy(np.random.default_rng(4).random((9, 2)))
    weights = {1: 0.5, 3: 0.3, 9: 0.2}
    block_models = [model] if which == 0 else [model.block_model(b) for b in range(3)]
    results = []
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            covariances = [m.covariance(z, z_test).detach().clone() for m in block_models]
            covariances += [m.covariance(z, z).detach().clone() for m in block_models]
            posterior = GPPosterior(model, z, y) if which == 0 else None
            block = BlockPosterior(model, z, y)
            means, variances = block.predict_mixture(x, weights)
            results.append((covariances, None if posterior is None else posterior.factor.detach().clone(),
                            means.detach().clone(), variances.detach().clone()))
    (cov_grad, factor_grad, means_grad, var_grad), (cov_plain, factor_plain, means_plain, var_plain) = results
    assert all(torch.equal(a, b) for a, b in zip(cov_grad, cov_plain))
    assert factor_grad is None or torch.equal(factor_grad, factor_plain)
    assert torch.equal(means_grad, means_plain) and torch.equal(var_grad, var_plain)


def _repeated_configurations(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int], list[int]]:
    """14 observations of 6 trials at levels 1, 3, 9 (sorted by trial, then level) and 3 pending
    evaluations, two of them trials already observed at a lower level, one a new trial; with the
    trial id of every row."""
    rng = np.random.default_rng(seed)
    configs = rng.random((7, 2))
    pairs = [(t, r) for t in range(6) for r in (1.0, 3.0, 9.0)[: 1 + t % 3]] + [(5, 9.0), (0, 1.0)]
    pairs = sorted(set(pairs))
    pending = [(1, 3.0), (4, 9.0), (6, 1.0)]
    z = torch.from_numpy(np.array([[*configs[t], r] for t, r in pairs]))
    y = torch.from_numpy(rng.standard_normal(len(pairs)))
    z_pending = torch.from_numpy(np.array([[*configs[t], r] for t, r in pending]))
    return z, y, z_pending, [t for t, _ in pairs], [t for t, _ in pending]


@pytest.mark.parametrize("which", [0, 1])
def test_configuration_groups_change_no_bit(which: int) -> None:
    """Trial ids as configuration labels: the joint model computes its Matern terms once per
    distinct configuration (the Gram of the block and the correlations with test points); every
    factor, prediction and the local search's terms stay bit for bit those computed without them.
    The independent model (one block per level) has nothing to share and ignores them."""
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, z_pending, trials, pending_trials = _repeated_configurations(seed=which)
    model = _models(2)[which]
    x = torch.from_numpy(np.random.default_rng(7).random((9, 2)))
    weights = {1: 0.5, 3: 0.3, 9: 0.2}
    results = []
    with torch.no_grad():
        for labels in (None, trials + pending_trials):
            block = BlockPosterior(model, z, y, z_pending, num_fantasies=3, rng=np.random.default_rng(5),
                                   configuration_ids=labels)
            if which == 0:
                assert (block._groups is None) == (labels is None)
                if labels is not None:  # 7 distinct configurations for 17 rows
                    assert block._groups.configs.shape == (7, 2) and len(block._groups.index) == len(z) + 3
            else:
                assert block._groups is None  # several blocks
            means, variances = block.predict_mixture(x, weights)
            means_only = block.predict_mixture(x, weights, means_only=True)[0]
            terms = block.level_predictor(3, 2).numpy_terms()
            factors = [block.block(b).factor.clone() for b in sorted(block._observed)]
            results.append((means.clone(), variances.clone(), means_only.clone(), factors,
                            {k: np.copy(v) for k, v in terms.items()}))
    (m0, v0, o0, f0, t0), (m1, v1, o1, f1, t1) = results
    assert torch.equal(m0, m1) and torch.equal(v0, v1) and torch.equal(o0, o1)
    assert all(torch.equal(a, b) for a, b in zip(f0, f1))
    assert t0.keys() == t1.keys() and all(np.array_equal(t0[k], t1[k]) for k in t0)


def test_configuration_groups_gram_and_labels() -> None:
    from mfbench.searchers.gp.models import ConfigurationGroups
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, z_pending, trials, pending_trials = _repeated_configurations(seed=3)
    model = _models(2)[0]
    _, first, index = np.unique(trials, return_index=True, return_inverse=True)
    groups = ConfigurationGroups(z[torch.from_numpy(first), :2].contiguous(), torch.from_numpy(index))
    with torch.no_grad():
        assert torch.equal(model.gram_by_configuration(z, groups), model.covariance(z, z))
    with torch.enable_grad():  # with autograd it is the differentiable covariance itself
        torch.testing.assert_close(model.gram_by_configuration(z, groups), model.covariance(z, z), rtol=0, atol=0)
    with torch.no_grad():
        # labels that never repeat: nothing to share
        assert BlockPosterior(model, z, y, configuration_ids=list(range(len(z))))._groups is None
        with pytest.raises(ValueError, match="one per input row"):
            BlockPosterior(model, z, y, z_pending, configuration_ids=trials)


def test_level_terms_of_several_levels_at_once() -> None:
    """The joint model's terms of several levels from one resource-kernel call equal the terms of
    each level alone (to rounding: the vectorised power may differ in the last bit); a level block
    of the independent model has its one level only."""
    z, _, _ = _problem(seed=11, n=20)
    multitask, independent = _models(2)
    level3 = independent.block_model(1)
    with torch.no_grad():
        with pytest.raises(ValueError, match="this block is level 3"):
            level3.level_terms_many(z, [3, 9])
        for model, levels in ((multitask, [9, 1, 3, 27]), (level3, [3])):
            for together, level in zip(model.level_terms_many(z, levels), levels):
                alone = model.level_terms(z, level)
                torch.testing.assert_close(together.offset if isinstance(together.offset, torch.Tensor)
                                           else torch.tensor(together.offset),
                                           alone.offset if isinstance(alone.offset, torch.Tensor)
                                           else torch.tensor(alone.offset), rtol=0, atol=1e-15)
                for name in ("scale", "prior_mean", "prior_variance"):
                    torch.testing.assert_close(getattr(together, name), getattr(alone, name), rtol=0, atol=1e-15)


def test_mixture_of_many_levels_of_the_joint_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hyper-Tune's mixture on the joint model (levels sharing a block) computes every level from one
    ``L^-1 k`` (:func:`_add_levels_of_block`, which must run here): the same means and variances as
    the levels predicted one by one, also where a level's posterior variance is clamped (candidates
    at training inputs, almost no noise, and a floor raised to 1e-6 so that it binds there)."""
    from mfbench.searchers.gp import posterior as posterior_module

    calls = []
    original = posterior_module._add_levels_of_block
    monkeypatch.setattr(posterior_module, "_add_levels_of_block",
                        lambda *args: calls.append(1) or original(*args))
    for noise, variance_floor in ((0.05, posterior_module.MIN_POSTERIOR_VARIANCE), (1e-14, 1e-6)):
        monkeypatch.setattr(posterior_module, "MIN_POSTERIOR_VARIANCE", variance_floor)
        posterior = _posterior_with_pending(0, seed=12, pending_levels=(3.0, 9.0))
        with torch.no_grad():
            posterior.model.raw_noise.fill_(math.log(noise))
        block = posterior.block(0)
        x = torch.cat([block.z[:3, :2], torch.from_numpy(np.random.default_rng(3).random((5, 2)))])
        weights = {1: 0.4, 3: 0.3, 9: 0.2, 27: 0.1}
        with torch.no_grad():
            means, variances = posterior.predict_mixture(x, weights)
            expected_means, expected_variances = 0.0, 0.0
            for level, weight in weights.items():
                m, v = LevelPredictorAlone(block, level)(x)
                expected_means, expected_variances = expected_means + weight * m, expected_variances + weight**2 * v
        torch.testing.assert_close(means, expected_means.expand(-1, 4), atol=1e-8, rtol=1e-8)
        torch.testing.assert_close(variances, expected_variances, atol=1e-12, rtol=1e-6)
        # every level's variance is clamped at its floor: the mixture's is at least sum w^2 * floor
        floor = sum(w * w for w in weights.values()) * variance_floor
        assert bool((variances >= floor * (1 - 1e-12)).all())
        if noise < 1e-3:  # the floor binds: level 1 at a training input observed at level 1
            assert block.z[0, 2] == 1.0
            with torch.no_grad():
                assert float(LevelPredictorAlone(block, 1)(x)[1][0]) == variance_floor
        assert sorted(block.__dict__["_level_predictors"]) == [1, 3, 9, 27]
    assert len(calls) == 2


def LevelPredictorAlone(block, level):  # noqa: N802  (a fresh predictor, its terms computed alone)
    from mfbench.searchers.gp.posterior import LevelPredictor

    return LevelPredictor(block, level)


def test_configuration_ids_are_checked() -> None:
    """Labels must be one per row, for every model, and equal labels must mean equal configurations."""
    from mfbench.searchers.gp.posterior import BlockPosterior

    z, y, z_pending, trials, pending_trials = _repeated_configurations(seed=4)
    multitask, independent = _models(2)
    with torch.no_grad():
        for model in (multitask, independent):
            with pytest.raises(ValueError, match="one per input row"):
                BlockPosterior(model, z, y, z_pending, configuration_ids=trials[:2])
        wrong = list(trials)
        wrong[1] = wrong[-1]  # row 1 labelled as another trial
        with pytest.raises(ValueError, match="same label to rows with different configurations"):
            BlockPosterior(multitask, z, y, configuration_ids=wrong)


def test_kept_cross_is_fresh() -> None:
    """The kept ``L^-1 cov(Z, z_test)`` is reused only without autograd and for an unchanged tensor."""
    z, y, z_test = _problem(seed=13, n=9)
    model = _models(2)[0]
    with torch.no_grad():
        posterior = GPPosterior(model, z, y)
        first = posterior._cross(z_test)
        assert posterior._cross(z_test) is first
        z_test[:, 0] += 0.25  # in place: a new version of the same tensor
        moved = posterior._cross(z_test)
        assert moved is not first and not torch.equal(moved, first)
    lengthscale = model.kernel_x.raw_lengthscale
    lengthscale.grad = None
    posterior = GPPosterior(model, z, y)
    with torch.no_grad():
        posterior._cross(z_test)
    posterior._cross(z_test).sum().backward()  # with autograd: computed again, with its graph
    assert lengthscale.grad is not None and bool(lengthscale.grad.abs().sum() > 0)
