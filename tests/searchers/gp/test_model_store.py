"""The model kept between proposals: built once, rebuilt on new levels with its estimate carried over."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mfbench.searchers.gp.model_store import ModelStore  # noqa: E402


def test_joint_model_is_built_once() -> None:
    store = ModelStore("gp_multitask", 2, 9)
    model = store.model_for([1, 3, 9])
    assert store.model_for([1, 3, 9, 27]) is model
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_independent_model_carries_its_estimate_to_new_levels() -> None:
    store = ModelStore("gp_independent", 2, 27)
    old = store.model_for([1, 3])
    assert store.model_for([1, 3]) is old  # same levels: same object (its hyperparameters kept)
    with torch.no_grad():
        old.kernel_x.raw_lengthscale.fill_(0.7)
        old.raw_noise.fill_(-3.0)
        old.raw_outputscales.copy_(torch.tensor([0.1, 0.3], dtype=torch.float64))
        old.constants.copy_(torch.tensor([-1.0, 2.0], dtype=torch.float64))
    new = store.model_for([1, 3, 9])
    assert new is not old and new.levels == [1, 3, 9]
    assert torch.equal(new.kernel_x.raw_lengthscale, old.kernel_x.raw_lengthscale)
    assert torch.equal(new.raw_noise, old.raw_noise)
    fresh = ModelStore("gp_independent", 2, 27).model_for([1, 3, 9])
    initial_scale, initial_constant = fresh.raw_outputscales.tolist()[2], fresh.constants.tolist()[2]
    assert new.raw_outputscales.tolist() == [0.1, 0.3, initial_scale]  # level 9: initial values
    assert new.constants.tolist() == [-1.0, 2.0, initial_constant]


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="searcher.model must be one of"):
        ModelStore("gp_fancy", 2, 9)  # type: ignore[arg-type]
