"""Proposal options: validation and the ``"auto"`` choices per search space."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.searchers.gp.proposal_options import ProposalOptions, restricted_to_table
from mfbench.space import Categorical, ConfigSpace, Float


def _grid() -> ConfigSpace:
    hps = (Categorical("a", ("x", "y")), Categorical("b", ("u", "v")))
    return ConfigSpace(hps, table=[(a, b) for a in ("x", "y") for b in ("u", "v")])


def _partial_table() -> ConfigSpace:
    return ConfigSpace((Float("x0", 0, 1),), table=[(v,) for v in np.linspace(0, 1, 5)])


def test_restricted_to_table() -> None:
    assert not restricted_to_table(ConfigSpace((Float("x", 0, 1),)))
    assert not restricted_to_table(_grid())  # the complete grid: every configuration is allowed
    assert restricted_to_table(_partial_table())


def test_auto_choices_follow_the_space() -> None:
    free = ProposalOptions().for_space(ConfigSpace((Float("x", 0, 1),)))
    assert (free.initial_scoring, free.local_optimization) == ("thompson_indep", True)
    table = ProposalOptions().for_space(_partial_table())
    assert (table.initial_scoring, table.local_optimization) == ("acq_func", False)
    explicit = ProposalOptions(initial_scoring="thompson_indep", local_optimization=True).for_space(_partial_table())
    assert (explicit.initial_scoring, explicit.local_optimization) == ("thompson_indep", True)


def test_invalid_options_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="searcher.initial_scoring must be one of"):
        ProposalOptions(initial_scoring="ucb")  # type: ignore[arg-type]
    for name in ("num_init_candidates", "local_opt_maxiter", "resource_acq_threshold", "num_fantasy_samples"):
        with pytest.raises(ValueError, match=rf"searcher\.{name} must be >= 1, got 0"):
            ProposalOptions(**{name: 0})
    for name in ("num_init_random", "acq_jitter"):
        with pytest.raises(ValueError, match=rf"searcher\.{name} must be >= 0, got -1"):
            ProposalOptions(**{name: -1})
