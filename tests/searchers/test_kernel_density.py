"""The product-kernel density estimator on tiny data sets (hand-computed values)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mfbench.searchers.kernel_density import ProductKernelDensity, VarType, normal_reference_bandwidth


def test_normal_reference_bandwidth() -> None:
    data = np.array([[0.2, 0.0], [0.4, 1 / 3], [0.9, 1 / 3]])
    # population std 0.294392 and 0.157135; 3^(-1/6) = 0.832683
    np.testing.assert_allclose(normal_reference_bandwidth(data), [0.2598434, 0.1386942], rtol=1e-6)


def test_pdf_of_a_continuous_and_a_categorical_column() -> None:
    # columns: continuous x, categorical with 3 levels encoded index/3
    data = np.array([[0.2, 0.0], [0.4, 1 / 3], [0.9, 1 / 3]])
    kde = ProductKernelDensity(data, [VarType("c"), VarType("u", levels=3)], min_bandwidth=1e-3)
    # at (0.4, 1/3): sum_i phi((0.4 - x_i)/h_c) * K_u / (3 h_c) with K_u = 1 - h_u if equal else h_u / 2
    #   = (0.29666 * 0.069347 + 0.398942 * 0.861306 + 0.062643 * 0.861306) / (3 * 0.259843)
    assert kde.pdf(np.array([[0.4, 1 / 3]]))[0] == pytest.approx(0.5364002, rel=1e-6)


def test_pdf_of_an_ordered_integer_column_counts_integer_steps() -> None:
    step = 0.25  # encoded distance between neighbouring integers
    data = np.array([[0.0], [0.5]])
    kde = ProductKernelDensity(data, [VarType("o", step=step)], min_bandwidth=0.3)
    h = kde.bw[0]
    assert h == pytest.approx(max(0.3, 1.06 * 0.25 * 2 ** (-1 / 5)))
    # at 0.5: point 0 is 2 steps away (Wang-Ryzin 0.5 (1-h) h^2), point 1 matches (1-h)
    expected = (0.5 * (1 - h) * h**2 + (1 - h)) / 2
    assert kde.pdf(np.array([[0.5]]))[0] == pytest.approx(expected)


def test_bandwidths_are_clipped_and_constant_columns_stay_finite() -> None:
    data = np.array([[0.5, 0.0], [0.5, 0.0], [0.5, 0.0]])
    kde = ProductKernelDensity(data, [VarType("c"), VarType("u", levels=2)], min_bandwidth=0.1)
    np.testing.assert_allclose(kde.bw, [0.1, 0.1])
    values = kde.pdf(np.array([[0.5, 0.0], [0.5, 0.5], [0.7, 0.0]]))
    assert values[0] == pytest.approx(0.9 / (math.sqrt(2 * math.pi) * 0.1))
    assert values[1] == pytest.approx(0.1 / (math.sqrt(2 * math.pi) * 0.1))  # other level: h / (2 - 1)
    assert np.all(np.isfinite(values)) and values[2] < values[0]


def test_bad_shapes_and_types_are_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        ProductKernelDensity(np.zeros((3, 2)), [VarType("c")])
    with pytest.raises(ValueError, match="unknown variable type"):
        ProductKernelDensity(np.zeros((3, 1)), [VarType("x")]).pdf(np.zeros((1, 1)))
