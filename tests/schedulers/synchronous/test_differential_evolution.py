"""DE operators of DEHB on fixed random draws (hand-computed expectations)."""
from __future__ import annotations

import math

import numpy as np

from mfbench.schedulers.synchronous.differential_evolution import binomial_crossover, offspring_wins, rand1_mutation
from mfbench.space import Categorical, ConfigSpace, Float


class FixedDraws:
    """Stands in for numpy's Generator: returns the given uniforms and integers in order."""

    def __init__(self, uniforms: list[float], integers: list[int] = ()) -> None:
        self.uniforms = list(uniforms)
        self.ints = list(integers)
        self.calls: list[tuple[str, int]] = []

    def random(self, size: int) -> np.ndarray:
        self.calls.append(("random", size))
        out, self.uniforms = self.uniforms[:size], self.uniforms[size:]
        assert len(out) == size, "test supplied too few uniforms"
        return np.asarray(out)

    def integers(self, high: int) -> int:
        self.calls.append(("integers", high))
        return self.ints.pop(0)


def test_rand1_mutation_inside_the_box_uses_no_draws() -> None:
    draws = FixedDraws([])
    mutant = rand1_mutation(np.array([0.5, 0.2, 0.9]), np.array([0.6, 0.8, 0.3]), np.array([0.2, 0.1, 0.5]), 0.5, draws)
    np.testing.assert_allclose(mutant, [0.7, 0.55, 0.8])
    assert draws.calls == []


def test_rand1_mutation_redraws_components_outside_the_box() -> None:
    draws = FixedDraws([0.25, 0.75])
    # 0.9 + 0.5 * (1.0 - 0.0) = 1.4 and 0.1 + 0.5 * (0.0 - 1.0) = -0.4 leave [0, 1]; 0.5 stays
    mutant = rand1_mutation(np.array([0.9, 0.1, 0.5]), np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5]), 0.5, draws)
    np.testing.assert_allclose(mutant, [0.25, 0.75, 0.5])
    assert draws.calls == [("random", 2)]


def test_binomial_crossover_moves_whole_hyperparameters() -> None:
    space = ConfigSpace((Categorical("op", ("a", "b", "c")), Float("x", 0.0, 1.0), Float("y", 0.0, 1.0)))
    groups = space.categorical_groups()
    mutant = np.array([0.1, 0.7, 0.2, 0.9, 0.4])
    target = np.array([1.0, 0.0, 0.0, 0.3, 0.6])
    # draws 0.2 < 0.5 (op from mutant), 0.8 (x from target), 0.4 (y from mutant)
    offspring = binomial_crossover(mutant, target, groups, 0.5, FixedDraws([0.2, 0.8, 0.4]))
    np.testing.assert_allclose(offspring, [0.1, 0.7, 0.2, 0.3, 0.4])
    assert space.decode(offspring) == {"op": "b", "x": 0.3, "y": 0.4}


def test_binomial_crossover_forces_one_hyperparameter_from_the_mutant() -> None:
    space = ConfigSpace((Categorical("op", ("a", "b", "c")), Float("x", 0.0, 1.0), Float("y", 0.0, 1.0)))
    draws = FixedDraws([0.9, 0.6, 0.7], integers=[1])
    offspring = binomial_crossover(
        np.array([0.1, 0.7, 0.2, 0.9, 0.4]), np.array([1.0, 0.0, 0.0, 0.3, 0.6]), space.categorical_groups(), 0.5, draws
    )
    np.testing.assert_allclose(offspring, [1.0, 0.0, 0.0, 0.9, 0.6])
    assert draws.calls == [("random", 3), ("integers", 3)]


def test_selection_ties_go_to_the_target() -> None:
    assert offspring_wins(0.9, 1.0)
    assert not offspring_wins(1.0, 1.0)
    assert not offspring_wins(1.1, 1.0)
    assert not offspring_wins(math.inf, math.inf)  # two failures: the target stays
    assert offspring_wins(1.0, math.inf)
