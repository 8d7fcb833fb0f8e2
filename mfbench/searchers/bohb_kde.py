"""TPE-style two-density KDE searcher of BOHB (docs/methods/synchronous.md).

Every observation ``(config, fidelity, loss)`` is kept. To propose, the searcher fits
at the **highest fidelity with enough data**: with ``N`` observations there,
``n_good = max(num_min_data_points, floor(top_n_percent * N / 100))`` and the level is
usable if ``min(n_good, N - n_good) > d`` (``d`` hyperparameters; for ``d = 6`` and the
defaults that is ``N >= 47``). The ``n_good`` best observations give the *good* density
``l``, the rest the *bad* density ``g`` (:class:`ProductKernelDensity`, bandwidths
clipped at ``min_bandwidth``).

Proposal: without a model, or with probability ``random_fraction``, a uniformly random
unseen configuration. Otherwise ``num_candidates`` candidates, each around a random
good observation ``m``: a continuous feature from a normal truncated to ``[0, 1]``
with sd ``bandwidth_factor * h``; a discrete feature keeps ``m``'s value with
probability ``1 - h`` and is otherwise uniform. The candidate with the smallest
``max(g, 1e-32) / max(l, 1e-32)`` that was not proposed before wins; if every
candidate was, a random unseen configuration.

Encoding (the reference's): a categorical value -> ``index / k`` (kind ``"u"``), a
float -> ``[0, 1]`` (log scale if the hyperparameter is; kind ``"c"``), an integer ->
``(v - a) / (b - a)`` with ``a = 1 / (2 (upper - lower + 1))``, ``b = upper`` (kind
``"o"``). On a finite table a candidate that is not a row is replaced by the nearest
row in this encoding, and scored there.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.problem import Problem
from mfbench.searchers.base import Searcher
from mfbench.searchers.kernel_density import ProductKernelDensity, VarType
from mfbench.space import Categorical, Config, ConfigSpace, Float, Integer


def _integer_offsets(hp: Integer) -> tuple[float, float]:
    return 1.0 / (2.0 * (hp.upper - hp.lower + 1)), float(hp.upper)


class KDEEncoding:
    """The reference KDE encoding of a space (one feature per hyperparameter)."""

    def __init__(self, space: ConfigSpace) -> None:
        self.space = space
        self.var_types: list[VarType] = []
        for hp in space.hyperparameters:
            if isinstance(hp, Categorical):
                self.var_types.append(VarType("u", levels=len(hp.choices)))
            elif isinstance(hp, Integer):
                a, b = _integer_offsets(hp)
                self.var_types.append(VarType("o", step=1.0 / (b - a)))
            else:
                self.var_types.append(VarType("c"))

    @property
    def dim(self) -> int:
        return len(self.var_types)

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Features of one configuration, shape ``(d,)``."""
        out = np.empty(self.dim)
        for j, hp in enumerate(self.space.hyperparameters):
            value = config[hp.name]
            if isinstance(hp, Categorical):
                out[j] = hp.choices.index(value) / len(hp.choices)
            elif isinstance(hp, Integer):
                a, b = _integer_offsets(hp)
                out[j] = (value - a) / (b - a)
            else:
                out[j] = hp.encode(value)[0]
        return out

    def encode_table(self) -> np.ndarray:
        """Features of every row of the space's table, shape ``(size, d)``; the same floats as
        :meth:`encode` row by row.

        Column by column: a categorical's distinct values are encoded once and gathered,
        numbers one by one (~10x faster than row by row on a 15,625-row table, where the
        row-by-row encoding took a third of a BOHB run).
        """
        table = self.space.table
        assert table is not None, "encode_table needs a space restricted to a table"
        out = np.empty((len(table), self.dim))
        for j, (hp, values) in enumerate(zip(self.space.hyperparameters, zip(*table))):
            if isinstance(hp, Categorical):
                codes = {value: hp.choices.index(value) / len(hp.choices) for value in dict.fromkeys(values)}
                out[:, j] = np.fromiter(map(codes.__getitem__, values), dtype=np.float64, count=len(values))
            elif isinstance(hp, Integer):
                a, b = _integer_offsets(hp)
                out[:, j] = [(value - a) / (b - a) for value in values]
            else:
                out[:, j] = [hp.encode(value)[0] for value in values]
        return out

    def decode(self, features: np.ndarray) -> Config:
        """The configuration of a feature vector (values clipped into their domains)."""
        config: Config = {}
        for j, hp in enumerate(self.space.hyperparameters):
            f = float(features[j])
            if isinstance(hp, Categorical):
                k = len(hp.choices)
                config[hp.name] = hp.choices[min(max(int(f * k + 1e-9), 0), k - 1)]
            elif isinstance(hp, Integer):
                a, b = _integer_offsets(hp)
                config[hp.name] = int(min(max(math.ceil(f * (b - a) + a - 1e-9), hp.lower), hp.upper))
            else:
                assert isinstance(hp, Float)
                config[hp.name] = hp.decode(np.array([f]))
        return config

    def random_value(self, j: int, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` uniformly random feature values of discrete hyperparameter ``j``."""
        hp = self.space.hyperparameters[j]
        if isinstance(hp, Categorical):
            return rng.integers(len(hp.choices), size=size) / len(hp.choices)
        assert isinstance(hp, Integer)
        a, b = _integer_offsets(hp)
        return (rng.integers(hp.lower, hp.upper + 1, size=size) - a) / (b - a)


def fit_level(levels: Sequence[int], num_features: int, num_min_data_points: int, top_n_percent: float) -> tuple[int, int] | None:
    """The highest level with enough observations and its ``n_good``, or None.

    Args:
        levels: fidelity of each observation, shape ``(N,)``.
        num_features: ``d``.
        num_min_data_points: lower bound of ``n_good`` (>= d).
        top_n_percent: share of the good density in percent.
    """
    values, counts = np.unique(np.asarray(levels, dtype=np.int64), return_counts=True)
    for level, count in zip(values[::-1], counts[::-1]):
        n_good = max(num_min_data_points, int(top_n_percent * int(count)) // 100)
        if min(n_good, int(count) - n_good) > num_features:
            return int(level), n_good
    return None


class KDESearcher(Searcher):
    """BOHB's multi-fidelity KDE searcher (defaults as the reference's SyncBOHB).

    Args:
        problem: the run's problem.
        points_to_evaluate, allow_duplicates: see :class:`Searcher`.
        top_n_percent: percentage of observations (at the fitted level) in the good density.
        num_min_data_points: minimum size of the good density (None: the number of
            hyperparameters; must be >= it).
        num_candidates: candidates scored per proposal.
        bandwidth_factor: sd of continuous candidate draws in units of the good bandwidth.
        random_fraction: probability of a random proposal while a model exists.
        min_bandwidth: lower clip of the KDE bandwidths.
    """

    def __init__(
        self,
        problem: Problem,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        allow_duplicates: bool = False,
        top_n_percent: float = 15,
        num_min_data_points: int | None = None,
        num_candidates: int = 64,
        bandwidth_factor: float = 3.0,
        random_fraction: float = 0.33,
        min_bandwidth: float = 0.1,
    ) -> None:
        super().__init__(problem, points_to_evaluate, allow_duplicates)
        self.encoding = KDEEncoding(self.space)
        d = self.encoding.dim
        self.num_min_data_points = d if num_min_data_points is None else int(num_min_data_points)
        if self.num_min_data_points < d:
            raise ValueError(f"num_min_data_points must be >= the number of hyperparameters ({d}), got {num_min_data_points}")
        if not 0 < top_n_percent < 100:
            raise ValueError(f"top_n_percent must be in (0, 100), got {top_n_percent}")
        if num_candidates < 1 or bandwidth_factor <= 0 or min_bandwidth <= 0 or not 0 <= random_fraction <= 1:
            raise ValueError("need num_candidates >= 1, bandwidth_factor > 0, min_bandwidth > 0 and random_fraction in [0, 1]")
        self.top_n_percent = top_n_percent
        self.num_candidates = int(num_candidates)
        self.bandwidth_factor = float(bandwidth_factor)
        self.random_fraction = float(random_fraction)
        self.min_bandwidth = float(min_bandwidth)
        self._features = np.empty((0, self.encoding.dim))  # (capacity, d) buffers, first _num_data used
        self._losses = np.empty(0)
        self._levels = np.empty(0, dtype=np.int64)
        self._num_data = 0

    # -------------------------------------------------------------- data
    def observe(self, trial_id: int, config: Config, fidelity: int, loss: float) -> None:
        n = self._num_data
        if n == len(self._losses):  # grow the buffers geometrically
            grow = max(64, n)
            self._features = np.concatenate([self._features, np.empty((grow, self.encoding.dim))])
            self._losses = np.concatenate([self._losses, np.empty(grow)])
            self._levels = np.concatenate([self._levels, np.empty(grow, dtype=np.int64)])
        self._features[n] = self.encoding.encode(config)
        self._losses[n] = float(loss)
        self._levels[n] = int(fidelity)
        self._num_data = n + 1

    def fit(self) -> tuple[ProductKernelDensity, ProductKernelDensity] | None:
        """``(good, bad)`` densities at the highest usable level, or None (too little data)."""
        levels = self._levels[: self._num_data]
        found = fit_level(levels, self.encoding.dim, self.num_min_data_points, self.top_n_percent)
        if found is None:
            return None
        level, n_good = found
        rows = np.flatnonzero(levels == level)
        features = self._features[rows]
        order = np.argsort(self._losses[rows], kind="stable")
        good = ProductKernelDensity(features[order[:n_good]], self.encoding.var_types, self.min_bandwidth)
        bad = ProductKernelDensity(features[order[n_good:]], self.encoding.var_types, self.min_bandwidth)
        return good, bad

    # ---------------------------------------------------------- proposing
    def _propose(self) -> Config | None:
        models = self.fit() if self._num_data else None
        if models is None or self.rng.random() < self.random_fraction:
            return self.sample_unseen()
        features, rows, scores = self.score_candidates(*models)
        for i in np.argsort(scores, kind="stable"):
            if rows is not None:
                if self.allow_duplicates or not self._seen_rows[rows[i]]:  # type: ignore[index]
                    return self.space.config_at(int(rows[i]))
                continue
            config = self.encoding.decode(features[i])
            if self.allow_duplicates or not self.is_seen(config):
                return config
        return self.sample_unseen()

    def sample_candidates(self, good: ProductKernelDensity) -> np.ndarray:
        """``num_candidates`` feature vectors around random good points, shape ``(C, d)``."""
        c = self.num_candidates
        means = good.data[self.rng.integers(len(good.data), size=c)]
        out = np.empty_like(means)
        for j, vt in enumerate(self.encoding.var_types):
            m, h = means[:, j], max(float(good.bw[j]), self.min_bandwidth)
            if vt.kind == "c":
                from scipy.special import ndtr, ndtri  # here: a discrete space never needs SciPy

                sd = self.bandwidth_factor * h
                lo, hi = ndtr(-m / sd), ndtr((1.0 - m) / sd)
                u = lo + self.rng.random(c) * (hi - lo)
                out[:, j] = np.clip(m + sd * ndtri(np.clip(u, 1e-300, 1.0 - 1e-16)), 0.0, 1.0)
            else:
                keep = self.rng.random(c) < 1.0 - h
                out[:, j] = np.where(keep, m, self.encoding.random_value(j, self.rng, c))
        return out

    def score_candidates(
        self, good: ProductKernelDensity, bad: ProductKernelDensity
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Candidates and their scores ``g / l`` (lower is better).

        Returns ``(features (C, d), rows (C,) or None, scores (C,))``; on a table,
        ``rows`` are the candidates' (nearest) table rows and ``features`` theirs.
        """
        features = self.sample_candidates(good)
        rows = None
        if self.space.table is not None:
            rows = self.nearest_rows(features)
            features = self._table_features()[rows]
        scores = np.maximum(bad.pdf(features), 1e-32) / np.maximum(good.pdf(features), 1e-32)
        return features, rows, scores

    def nearest_rows(self, features: np.ndarray) -> np.ndarray:
        """The table row nearest to each feature vector (Euclidean, in the encoding), shape ``(C,)``.

        A candidate whose features are exactly a row's is that row (the only one at distance
        0: rows' features are distinct, else this shortcut is off). On a table of discrete
        hyperparameters every candidate is, since its values are copied from observations or
        drawn among the encoded values; then no k-d tree is built and SciPy's spatial
        module (0.2-0.3 s to import, most of a short BOHB run) is never imported. Other
        candidates go to a k-d tree over the rows, which returns the same rows for these.
        """
        exact = self.space.derived("kde_table_exact_rows", self._build_exact_rows)
        rows = np.empty(len(features), dtype=np.intp)
        if exact is None:
            missing = list(range(len(features)))
        else:
            missing = []
            keys = features + 0.0  # -0.0 -> +0.0, as in the rows' keys
            for i in range(len(features)):
                row = exact.get(keys[i].tobytes())
                if row is None:
                    missing.append(i)
                else:
                    rows[i] = row
        if missing:
            tree = self.space.derived("kde_table_tree", self._build_tree)
            _, found = tree.query(features[missing])
            rows[missing] = np.atleast_1d(found)
        return rows

    def _table_features(self) -> np.ndarray:
        """Features of every table row, shape ``(size, d)``, read-only and built once per space
        (the space of a stored table is shared by the runs of a process)."""
        def build() -> np.ndarray:
            features = self.encoding.encode_table()
            features.flags.writeable = False
            return features

        return self.space.derived("kde_table_features", build)

    def _build_exact_rows(self) -> dict[bytes, int] | None:
        """Row of each row's feature bytes, or None if two rows share their features."""
        features = self._table_features() + 0.0
        exact = {features[i].tobytes(): i for i in range(len(features))}
        return exact if len(exact) == len(features) else None

    def _build_tree(self) -> Any:
        from scipy.spatial import cKDTree

        return cKDTree(self._table_features())

    def describe(self) -> dict[str, Any]:
        return {
            "searcher": "kde",
            "top_n_percent": self.top_n_percent,
            "num_min_data_points": self.num_min_data_points,
            "num_candidates": self.num_candidates,
            "bandwidth_factor": self.bandwidth_factor,
            "random_fraction": self.random_fraction,
            "min_bandwidth": self.min_bandwidth,
        }
