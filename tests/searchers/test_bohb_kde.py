"""BOHB's KDE searcher: encoding, fitting thresholds, candidate scoring, tables."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from mfbench.blackbox.analytic import hartmann_blackbox
from mfbench.problem import Problem
from mfbench.searchers.bohb_kde import KDEEncoding, KDESearcher, fit_level
from mfbench.space import Categorical, ConfigSpace, Float, Integer


def problem_for(space: ConfigSpace, seed: int = 0) -> Problem:
    return Problem(space, np.arange(1, 10), "value", "min", 1, seed)


MIXED = ConfigSpace(
    (
        Categorical("op", ("a", "b", "c", "d", "e")),
        Integer("layers", 1, 10),
        Float("x", 0.0, 1.0),
        Float("lr", 1e-4, 1e-1, log=True),
    )
)


def test_encoding_of_categorical_integer_and_float() -> None:
    encoding = KDEEncoding(MIXED)
    assert [vt.kind for vt in encoding.var_types] == ["u", "o", "c", "c"]
    features = encoding.encode({"op": "c", "layers": 4, "x": 0.25, "lr": 1e-2})
    # categorical index / k = 2/5; integer (v - a) / (b - a) with a = 1/(2*10) = 0.05, b = 10;
    # float linear; log-scaled float on the log scale: (log 1e-2 - log 1e-4) / (log 1e-1 - log 1e-4) = 2/3
    np.testing.assert_allclose(features, [0.4, (4 - 0.05) / 9.95, 0.25, 2 / 3])
    assert encoding.var_types[1].step == pytest.approx(1 / 9.95)
    for config in [{"op": "e", "layers": 10, "x": 1.0, "lr": 0.1}, {"op": "a", "layers": 1, "x": 0.0, "lr": 1e-4}]:
        decoded = encoding.decode(encoding.encode(config))
        assert decoded["op"] == config["op"] and decoded["layers"] == config["layers"]
        assert decoded["x"] == pytest.approx(config["x"]) and decoded["lr"] == pytest.approx(config["lr"])


def test_fit_level_thresholds() -> None:
    # d = 6, n_min = 6, 15 %: N = 46 gives n_good = max(6, 6) = 6, not > 6; N = 47 gives 7
    assert fit_level([200] * 46, 6, 6, 15) is None
    assert fit_level([200] * 47, 6, 6, 15) == (200, 7)
    # the highest level with enough data wins, lower ones only when it has too little
    assert fit_level([200] * 46 + [81] * 60, 6, 6, 15) == (81, 9)
    assert fit_level([200] * 47 + [81] * 60, 6, 6, 15) == (200, 7)
    # N - n_good must exceed d as well: d = 1, n_min = 10, N = 11 -> 1 bad point only
    assert fit_level([3] * 11, 1, 10, 15) is None
    assert fit_level([3] * 12, 1, 10, 15) == (3, 10)


def one_dimensional_searcher(candidates: list[float], **kwargs) -> KDESearcher:
    class FixedCandidates(KDESearcher):
        def sample_candidates(self, good):  # type: ignore[override]
            return np.asarray(candidates, dtype=np.float64)[:, None]

    space = ConfigSpace((Float("x", 0.0, 1.0),))
    searcher = FixedCandidates(problem_for(space), points_to_evaluate=[], random_fraction=0.0, **kwargs)
    for i in range(14):  # 14 observations at level 9: n_good = max(1, floor(2.1)) = 2
        x = i / 13
        searcher.observe(i, {"x": x}, 9, abs(x - 0.2))
    searcher.observe(99, {"x": 0.9}, 3, 0.0)  # lower level: ignored by the fit
    return searcher


def gaussian_kde(points: list[float], at: float) -> float:
    n = len(points)
    mean = sum(points) / n
    h = max(0.1, 1.06 * math.sqrt(sum((p - mean) ** 2 for p in points) / n) * n ** (-1 / 5))
    return sum(math.exp(-0.5 * ((at - p) / h) ** 2) for p in points) / (n * h * math.sqrt(2 * math.pi))


def test_fit_splits_the_highest_level_into_good_and_bad() -> None:
    searcher = one_dimensional_searcher([0.5])
    good, bad = searcher.fit()
    np.testing.assert_allclose(sorted(good.data[:, 0]), [2 / 13, 3 / 13])  # the two closest to 0.2
    assert len(bad.data) == 12 and good.bw[0] == pytest.approx(0.1)  # 1.06 * 0.0385 * 2^-0.2 < 0.1


def test_candidate_scoring_picks_the_smallest_bad_over_good_ratio_not_seen_before() -> None:
    candidates = [0.8, 0.5, 0.19, 0.21, 0.35]
    searcher = one_dimensional_searcher(candidates)
    good_points, bad_points = [2 / 13, 3 / 13], [i / 13 for i in range(14) if i not in (2, 3)]
    ratio = {c: gaussian_kde(bad_points, c) / gaussian_kde(good_points, c) for c in candidates}
    features, rows, scores = searcher.score_candidates(*searcher.fit())
    assert rows is None
    np.testing.assert_allclose(features[:, 0], candidates)
    np.testing.assert_allclose(scores, [ratio[c] for c in candidates], rtol=1e-9)
    ranked = sorted(candidates, key=ratio.get)
    assert searcher.suggest() == {"x": ranked[0]}
    assert searcher.suggest() == {"x": ranked[1]}  # the first is now a duplicate
    for c in ranked[2:]:
        searcher.suggest()
    fallback = searcher.suggest()  # every candidate was proposed: a random unseen configuration
    assert fallback["x"] not in candidates


def test_without_enough_data_proposals_are_random_and_new() -> None:
    searcher = KDESearcher(problem_for(MIXED))
    first = searcher.suggest()
    assert first == MIXED.midpoint()
    proposals = [searcher.suggest() for _ in range(20)]
    assert all(MIXED.contains(c) for c in proposals)
    assert len({MIXED.key(c) for c in proposals + [first]}) == 21
    assert searcher.fit() is None


def test_discrete_candidates_keep_the_good_value_with_probability_one_minus_bandwidth() -> None:
    space = ConfigSpace((Categorical("op", ("a", "b", "c", "d")), Integer("n", 0, 3)))
    searcher = KDESearcher(problem_for(space), num_candidates=4000, num_min_data_points=3)
    for i in range(30):  # good points all ("a", 0); bad points spread
        config = {"op": "a", "n": 0} if i < 6 else {"op": "bcd"[i % 3], "n": 1 + i % 3}
        searcher.observe(i, config, 9, float(i))
    good, _ = searcher.fit()
    assert len(good.data) == 4 and np.allclose(good.bw, 0.1)  # n_good = max(3, floor(4.5)) = 4; std 0 -> clip
    candidates = searcher.sample_candidates(good)
    # keep with probability 0.9, else uniform over 4 values (which hits the same value 1/4 of the time)
    share = np.mean(candidates[:, 0] == 0.0)
    assert share == pytest.approx(0.9 + 0.1 / 4, abs=0.02)
    assert set(np.round(candidates[:, 1] * (3 - 1 / 8) + 1 / 8).astype(int)) <= {0, 1, 2, 3}


@functools.lru_cache(maxsize=1)
def grid_space() -> ConfigSpace:
    return hartmann_blackbox(dim=3, grid_size=5, max_epoch=9).config_space


def test_on_a_table_every_proposal_is_an_unseen_row_and_exhaustion_returns_none() -> None:
    space = grid_space()
    searcher = KDESearcher(problem_for(space), random_fraction=0.0)
    rng = np.random.default_rng(1)
    for i, row in enumerate(rng.choice(space.size, 40, replace=False)):
        config = space.config_at(int(row))
        searcher.observe(i, config, 9, sum(config.values()))
    assert searcher.fit() is not None
    proposals = [searcher.suggest() for _ in range(space.size)]
    assert all(space.contains(c) for c in proposals)
    assert len({space.key(c) for c in proposals}) == space.size
    assert searcher.suggest() is None


def test_table_features_are_the_row_by_row_encoding_and_built_once_per_space() -> None:
    rng = np.random.default_rng(3)
    rows = {(str(rng.choice(["a", "b", "c", "d", "e"])), int(rng.integers(1, 11)), float(rng.random()),
             float(10 ** rng.uniform(-4, -1))) for _ in range(300)}
    rows |= {("a", 1, 0.0, 1e-4), ("e", 10, -0.0, 0.1)}  # the bounds, and a zero's sign
    space = ConfigSpace(MIXED.hyperparameters, table=sorted(rows))
    encoding = KDEEncoding(space)
    by_row = np.asarray([encoding.encode(space.config_at(i)) for i in range(space.size)])
    assert encoding.encode_table().tobytes() == by_row.tobytes()  # bit for bit
    # the features are shared by every searcher on the same space (read-only)
    first, second = KDESearcher(problem_for(space)), KDESearcher(problem_for(space, seed=1))
    features = first._table_features()
    assert second._table_features() is features and not features.flags.writeable
    assert features.tobytes() == by_row.tobytes()


def test_nearest_rows_are_the_k_d_tree_s_with_or_without_an_exact_match() -> None:
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(4)
    rows = {(str(rng.choice(["a", "b", "c", "d", "e"])), int(rng.integers(1, 11)), float(rng.random()),
             float(10 ** rng.uniform(-4, -1))) for _ in range(400)}
    space = ConfigSpace(MIXED.hyperparameters, table=sorted(rows))
    searcher = KDESearcher(problem_for(space))
    features = searcher._table_features()
    # half of them exactly rows (one of them -0.0 where the row has +0.0), half anywhere
    exact = features[rng.choice(space.size, 50)].copy()
    exact[0, 0] = -0.0 if exact[0, 0] == 0.0 else exact[0, 0]
    candidates = np.vstack([exact, rng.random((50, 4))])
    _, expected = cKDTree(features).query(candidates)
    assert searcher.nearest_rows(candidates).tolist() == expected.tolist()
    # on an all-discrete table every candidate matches exactly: no k-d tree is built
    grid = ConfigSpace(MIXED.hyperparameters[:2], table=[(op, n) for op in "abcde" for n in range(1, 11)])
    discrete = KDESearcher(problem_for(grid))
    found = discrete.nearest_rows(discrete._table_features()[[3, 1, 4]])
    assert found.tolist() == [3, 1, 4]
    for i, row in enumerate(rng.choice(grid.size, 30, replace=False)):
        config = grid.config_at(int(row))
        discrete.observe(i, config, 9, float(config["layers"]) + "abcde".index(config["op"]))
    assert discrete.fit() is not None
    proposals = [discrete.suggest() for _ in range(20)]
    assert all(grid.contains(c) for c in proposals)
    assert "kde_table_tree" not in grid.__dict__.get("_derived", {})


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="num_min_data_points"):
        KDESearcher(problem_for(MIXED), num_min_data_points=2)
    with pytest.raises(ValueError, match="top_n_percent"):
        KDESearcher(problem_for(MIXED), top_n_percent=0)
