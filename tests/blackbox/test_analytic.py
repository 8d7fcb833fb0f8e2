import numpy as np
import pytest

from mfbench.blackbox.analytic import HARTMANN_OPTIMUM, hartmann, hartmann_blackbox


def test_hartmann_full_fidelity_optima():
    x3 = np.array([[0.114614, 0.555649, 0.852547]])
    x6 = np.array([[0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]])
    assert hartmann(x3)[0, 0] == pytest.approx(HARTMANN_OPTIMUM[3], abs=1e-4)
    assert hartmann(x6)[0, 0] == pytest.approx(HARTMANN_OPTIMUM[6], abs=1e-4)


def test_low_fidelity_shifts_alpha_by_a_tenth():
    x = np.array([[0.3, 0.4, 0.5]])
    # f(x, z) - f(x, 1) = 0.1 (1 - z) * sum_i exp(-...) = 0.1 (1 - z) * (-f computed with alpha = 1)
    inner_sum = (hartmann(x, 1.0) - hartmann(x, 0.0))[0, 0] / -0.1
    assert hartmann(x, 0.5)[0, 0] == pytest.approx(hartmann(x, 1.0)[0, 0] + 0.05 * inner_sum)


def test_tabulated_blackbox_shapes_costs_and_seeds():
    bb = hartmann_blackbox(dim=3, grid_size=3, max_epoch=5)
    assert bb.evaluations.shape == (27, 3, 5, 3) and bb.num_seeds == 3
    config = bb.config_space.config_at(26)  # (1, 1, 1): runtime 20 * 1.5 = 30 s / epoch
    out = bb.evaluate(config, 0, np.array([1, 5]))
    np.testing.assert_allclose(out[:, 2], [30.0, 150.0])
    assert not np.array_equal(bb.evaluate(config, 0, np.array([1])), bb.evaluate(config, 1, np.array([1])))
    with pytest.raises(ValueError, match="fidelities"):
        bb.evaluate(config, 0, np.array([6]))
