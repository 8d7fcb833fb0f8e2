"""A multivariate product-kernel density estimator over mixed variable types (numpy only).

The same estimator as ``statsmodels.nonparametric.KDEMultivariate`` with
``bw="normal_reference"`` (what the reference BOHB fits), restricted to what BOHB needs:

* variable types ``"c"`` (continuous, Gaussian kernel), ``"u"`` (unordered categorical,
  Aitchison-Aitken kernel) and ``"o"`` (ordered integer, Wang-Ryzin kernel);
* bandwidths by Scott's normal reference rule ``h_j = 1.06 * std_j * n^(-1/(4+d))``
  (population std over the data), clipped below at ``min_bandwidth``;
* ``pdf(x) = 1/n * sum_i prod_j k_j(x_j, X_ij) / prod_{j continuous} h_j``.

Two documented differences to statsmodels: the number of levels of a categorical is
the number of its choices (statsmodels counts the distinct values in the data, which
divides by zero when they all agree), and the Wang-Ryzin distance is counted in integer
steps (``|x - X| / step``) rather than in the encoded units.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class VarType:
    """One variable: ``kind`` in ``{"c", "u", "o"}``; ``levels`` = number of categories
    (``"u"``); ``step`` = encoded distance between neighbouring integers (``"o"``)."""

    kind: str
    levels: int = 0
    step: float = 1.0


def normal_reference_bandwidth(data: np.ndarray) -> np.ndarray:
    """Scott's rule of thumb, shape ``(d,)``, for data of shape ``(n, d)``."""
    n, d = data.shape
    return 1.06 * np.std(data, axis=0) * n ** (-1.0 / (4 + d))


class ProductKernelDensity:
    """Product-kernel density estimate of ``data``.

    Args:
        data: the sample, shape ``(n, d)`` (encoded features).
        var_types: one :class:`VarType` per column.
        min_bandwidth: lower clip of every bandwidth.
    """

    def __init__(self, data: np.ndarray, var_types: Sequence[VarType], min_bandwidth: float = 1e-3) -> None:
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(var_types) or data.shape[0] < 1:
            raise ValueError(f"data must have shape (n >= 1, {len(var_types)}), got {data.shape}")
        self.data = data
        self._columns = np.ascontiguousarray(data.T)  # (d, n): one variable's sample per row
        self.var_types = list(var_types)
        self.bw = np.clip(normal_reference_bandwidth(data), min_bandwidth, None)

    def pdf(self, points: np.ndarray) -> np.ndarray:
        """Density at ``points`` of shape ``(m, d)``; returns shape ``(m,)``."""
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        kernel = np.ones((len(points), len(self.data)))
        norm = 1.0
        for j, vt in enumerate(self.var_types):
            h = self.bw[j]
            dj = points[:, j, None] - self._columns[j]  # (m, n), one contiguous array per variable
            # a continuous factor computed in place, in the order of the textbook expression (bit
            # for bit): ~5x faster than with a fresh (m, n) temporary per operation
            if vt.kind == "c":  # exp(-0.5 (d / h)^2) / sqrt(2 pi)
                np.divide(dj, h, out=dj)
                np.square(dj, out=dj)
                np.multiply(dj, -0.5, out=dj)
                np.exp(dj, out=dj)
                np.divide(dj, np.sqrt(2.0 * np.pi), out=dj)
                kernel *= dj
                norm *= h
            elif vt.kind == "u":  # 1 - h for the same category, h / (levels - 1) otherwise
                if vt.levels > 1:
                    same = np.abs(dj, out=dj) < 1e-9
                    kernel *= np.where(same, 1.0 - h, h / (vt.levels - 1))  # (masked multiplies: 3x slower)
            elif vt.kind == "o":
                steps = np.rint(np.abs(dj) / vt.step)
                kernel *= np.where(steps == 0, 1.0 - h, 0.5 * (1.0 - h) * h**steps)
            else:
                raise ValueError(f"unknown variable type {vt.kind!r}; use 'c', 'u' or 'o'")
        return kernel.sum(axis=1) / (len(self.data) * norm)
