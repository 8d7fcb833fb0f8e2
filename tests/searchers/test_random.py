import numpy as np
import pytest

from mfbench.problem import Problem
from mfbench.searchers.random import RandomSearcher
from mfbench.space import Categorical, ConfigSpace, Float, Integer


def _problem(space, seed=0):
    return Problem(space, np.arange(1, 4), "loss", "min", 1, seed)


def test_finite_space_is_enumerated_without_duplicates_then_exhausted():
    space = ConfigSpace((Categorical("a", (1, 2, 3)), Categorical("b", ("x", "y"))))
    searcher = RandomSearcher(_problem(space))
    configs = [searcher.suggest() for _ in range(6)]
    assert configs[0] == {"a": 1, "b": "x"}  # the midpoint first
    assert len({tuple(c.values()) for c in configs}) == 6
    assert searcher.suggest() is None


@pytest.mark.parametrize("space", [
    ConfigSpace((Categorical("act", ("relu", "tanh")), Integer("layers", 1, 3))),
    ConfigSpace((Integer("width", 16, 64, log=True), Float("lr", 0.01, 0.01, log=True))),
], ids=["categorical_and_integer", "log_integer_and_one_float_value"])
def test_a_grid_with_integers_is_used_up_then_exhausted(space):
    searcher = RandomSearcher(_problem(space))
    configs = [searcher.suggest() for _ in range(int(space.size))]
    assert all(space.contains(c) for c in configs)
    assert len({space.key(c) for c in configs}) == space.size  # every configuration once
    assert searcher.suggest() is None  # then the space is exhausted, not an error


def test_table_space_uses_all_rows_even_when_almost_exhausted():
    space = ConfigSpace((Float("x", 0, 1),), table=[(i / 99,) for i in range(100)])
    searcher = RandomSearcher(_problem(space))
    rows = {space.index_of(searcher.suggest()) for _ in range(100)}
    assert rows == set(range(100)) and searcher.suggest() is None


def test_points_to_evaluate_and_reproducibility():
    space = ConfigSpace((Float("x", 0, 1), Float("y", 0, 1)))
    first = RandomSearcher(_problem(space), points_to_evaluate=[{"x": 0.1}])
    assert first.suggest() == {"x": 0.1, "y": 0.5}
    a = [RandomSearcher(_problem(space, 3), points_to_evaluate=[]).suggest() for _ in range(2)]
    assert a[0] == a[1]
    assert RandomSearcher(_problem(space, 4), points_to_evaluate=[]).suggest() != a[0]
    with pytest.raises(ValueError, match="points_to_evaluate"):
        RandomSearcher(_problem(space), points_to_evaluate=[{"x": 2.0}])


def test_a_searcher_proposing_a_configuration_outside_the_space_is_named():
    from mfbench.errors import MethodContractError

    class Bogus(RandomSearcher):
        def _propose(self):
            return {"x": "bogus"}

    table = ConfigSpace((Float("x", 0, 1),), table=[(0.0,), (1.0,)])
    with pytest.raises(MethodContractError, match=r"Bogus._propose returned \{'x': 'bogus'\}, which is not a "
                                                  r"configuration of the search space \['x'\] \(a row of its table\)"):
        searcher = Bogus(_problem(table))
        searcher.suggest()  # the midpoint first (points to evaluate), then its own proposals
        searcher.suggest()
