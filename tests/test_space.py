import math

import numpy as np
import pytest

from mfbench.space import Categorical, ConfigSpace, Float, Integer, hyperparameter_from_dict, hyperparameter_to_dict


def _space():
    return ConfigSpace((Categorical("op", ("conv", "pool", "skip")), Categorical("flag", (True, False)),
                        Float("lr", 1e-4, 1e-1, log=True), Integer("layers", 1, 4), Float("drop", 0.0, 0.5)))


def test_midpoint_takes_first_category_and_log_midpoint():
    mid = _space().midpoint()
    assert mid["op"] == "conv" and mid["flag"] is True
    assert mid["lr"] == pytest.approx(math.sqrt(1e-4 * 1e-1))
    assert mid["layers"] in (2, 3) and mid["drop"] == pytest.approx(0.25)


def test_encoding_one_hot_for_more_than_two_choices_and_round_trip():
    space = _space()
    config = {"op": "pool", "flag": False, "lr": 1e-2, "layers": 4, "drop": 0.5}
    encoded = space.encode(config)
    assert space.encoded_dim == 3 + 1 + 1 + 1 + 1 == len(encoded)
    np.testing.assert_allclose(encoded[:4], [0, 1, 0, 1])
    assert encoded[4] == pytest.approx(2 / 3)  # log10: -2 is 2/3 of the way from -4 to -1
    decoded = space.decode(encoded)
    assert decoded["op"] == "pool" and decoded["flag"] is False and decoded["layers"] == 4
    assert decoded["lr"] == pytest.approx(1e-2)


def test_integer_decoding_gives_uniform_values():
    hp = Integer("k", 1, 4)
    values = [hp.decode(np.array([u])) for u in np.linspace(0, 1, 4001)]
    counts = np.bincount(values)[1:]
    assert counts.min() > 950 and counts.max() < 1050


def test_samples_are_legal_and_reproducible():
    space = _space()
    a = [space.sample(np.random.default_rng(1)) for _ in range(3)]
    b = [space.sample(np.random.default_rng(1)) for _ in range(3)]
    assert a == b and all(space.contains(c) for c in a)


def test_table_restricted_space():
    space = ConfigSpace((Float("x", 0, 1), Float("y", 0, 1)), table=[(0.0, 0.0), (0.5, 1.0), (1.0, 0.5)])
    assert space.is_finite and space.size == 3
    assert space.index_of({"x": 0.5, "y": 1.0}) == 1
    assert not space.contains({"x": 0.5, "y": 0.5})  # in range, but not in the table
    assert space.has_row({"x": 0.5, "y": 1.0}) and not space.has_row({"x": 0.5, "y": 0.5})
    assert all(space.has_row(space.decode(space.encode(config))) for config in space.enumerate())
    with pytest.raises(TypeError, match="restricted to a table"):
        ConfigSpace((Float("x", 0, 1),)).has_row({"x": 0.5})
    assert space.midpoint() in space.enumerate()  # nearest table row to (0.5, 0.5)
    rng = np.random.default_rng(0)
    assert all(space.sample(rng) in space.enumerate() for _ in range(20))


def test_a_grid_of_categoricals_integers_and_single_float_values_is_finite():
    space = ConfigSpace((Categorical("act", ("relu", "tanh")), Integer("layers", 1, 3),
                         Float("lr", 0.01, 0.01, log=True)))
    assert space.is_finite and space.size == 6
    configs = space.enumerate()
    assert [(c["act"], c["layers"]) for c in configs] == [(a, k) for a in ("relu", "tanh") for k in (1, 2, 3)]
    rng = np.random.default_rng(0)
    assert all(space.key(space.sample(rng)) in {space.key(c) for c in configs} for _ in range(30))  # the same values
    assert not ConfigSpace((Integer("k", 1, 3), Float("x", 0.0, 1.0))).is_finite


def test_a_grid_too_large_to_list_is_refused_by_enumerate():
    space = ConfigSpace((Integer("a", 1, 10_000), Integer("b", 1, 10_000)))
    assert space.is_finite and space.size == 10**8
    with pytest.raises(ValueError, match="too many to list"):
        space.enumerate()


def test_integers_beyond_float64_precision_are_refused():
    with pytest.raises(ValueError, match=r"'n': integers of magnitude 2\^53 or more"):
        Integer("n", 0, 2**53)
    assert Integer("n", -(2**53) + 1, 2**53 - 1).contains(2**53 - 1)


def test_float_values_stay_inside_their_bounds():
    assert Float("lr", 0.01, 0.01, log=True).sample(np.random.default_rng(0)) == 0.01  # exp(log(0.01)) is not
    hp = Float("lr", 1e-4, 1e-1, log=True)
    assert hp.decode(np.array([1.0])) <= 1e-1 and hp.decode(np.array([0.0])) >= 1e-4


def test_invalid_spaces_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        ConfigSpace((Float("x", 0, 1), Float("x", 0, 2)))
    with pytest.raises(ValueError, match="log scale"):
        Float("lr", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="duplicate configurations"):
        ConfigSpace((Float("x", 0, 1),), table=[(0.1,), (0.1,)])


def test_dict_round_trip():
    for hp in _space().hyperparameters:
        assert hyperparameter_from_dict(hyperparameter_to_dict(hp)) == hp
    with pytest.raises(ValueError, match="unknown hyperparameter type"):
        hyperparameter_from_dict({"name": "a", "type": "complex"})


def test_encode_table_is_the_row_by_row_encoding_bit_for_bit():
    """The column-wise table encoding (each distinct value encoded once) equals encoding every row."""
    space = ConfigSpace(
        [Categorical("op", ("a", "b", "c")), Categorical("flag", (False, True)), Float("lr", 1e-4, 1.0, log=True),
         Integer("units", 1, 64, log=True), Categorical("one", ("x",))],
        table=[("a", False, 1e-3, 8, "x"), ("c", True, 0.5, 1, "x"), ("b", True, 1e-3, 64, "x"),
               ("a", True, 0.1, 8, "x")],
    )
    encoded = space.encode_table()
    rows = space.encode_many(space.enumerate())
    assert encoded.shape == rows.shape == (4, space.encoded_dim)
    assert np.array_equal(encoded.view(np.uint64), rows.view(np.uint64))
    assert space.encode_table() is encoded  # cached


def test_values_of_another_library_are_coerced_to_ours():
    space = ConfigSpace((Categorical("act", ("relu", 3, 0.5)), Integer("layers", 1, 8), Float("lr", 1e-4, 1e-1)))
    values = {"lr": np.float32(0.01), "layers": np.int64(4), "act": np.str_("relu")}  # another order, numpy types
    config = space.coerce(values)
    assert list(config) == ["act", "layers", "lr"]
    assert config == {"act": "relu", "layers": 4, "lr": float(np.float32(0.01))}
    assert type(config["act"]) is str and type(config["layers"]) is int and type(config["lr"]) is float
    assert space.coerce({"act": np.int64(3), "layers": 2.0, "lr": 1})["act"] is space.hyperparameters[0].choices[1]
    with pytest.raises(ValueError):
        space.coerce({"act": "tanh", "layers": 2, "lr": 0.01})  # none of the choices


def test_one_draw_takes_the_same_random_numbers_as_an_array_of_one():
    """``hp.sample(rng)`` (scalar draws, the fast path of ``ConfigSpace.sample``) gives the values
    and leaves the generator in the state that ``hp.sample(rng, 1)[0]`` does, for every kind of
    hyperparameter, interleaved as in a configuration (so seeded runs keep their draws)."""
    space = ConfigSpace((Float("f", 0.0, 1.0), Float("lf", 1e-4, 1e-1, log=True), Integer("i", 1, 5),
                         Integer("li", 16, 512, log=True), Categorical("c", ("a", "b", "c")),
                         Categorical("b", (True, False)), Categorical("one", ("only",))))
    for seed in range(20):
        fast, slow = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(50):
            config = space.sample(fast)
            assert config == {hp.name: hp.sample(slow, 1)[0] for hp in space.hyperparameters}
            assert all(type(config[hp.name]) is type(hp.sample(np.random.default_rng(0), 1)[0])
                       for hp in space.hyperparameters)
        assert fast.random() == slow.random()


def test_a_value_of_another_type_is_not_contained_rather_than_an_error():
    """A method that proposes the text "0.01" for a float gets the simulator's contract error,
    which needs contains() to answer False, not to raise."""
    space = _space()
    config = {"op": "conv", "flag": True, "lr": "0.01", "layers": 2, "drop": 0.1}
    assert not space.contains(config)
    assert not space.contains({**config, "lr": 0.01, "layers": "2"})
    assert not space.contains({**config, "lr": 0.01, "layers": None})
    assert space.contains({**config, "lr": 0.01})
