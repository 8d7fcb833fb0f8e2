"""Our ``yahpo_lcbench`` benchmark evaluates the same function as the reference's LCBench blackbox.

The reference side (``benchmarks/reference/yahpo_lcbench_blackbox.py``, a Syne Tune 0.13.0
``Blackbox`` over the same ONNX model, run in the Syne Tune venv) produced
``tests/data/yahpo_lcbench_syne_tune_values.json`` with ``benchmarks/reference/
yahpo_lcbench_values.py``: configurations drawn by Syne Tune from its space, every epoch 1..52,
fetched the way its simulator fetches a trial. The same script checked that blackbox against
yahpo-gym 1.0.2's own predictions (``yahpo_gym_check`` in the JSON).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from mfbench.api import compose
from mfbench.blackbox.sources import yahpo
from mfbench.config.resolve import instantiate, resolve_config
from mfbench.space import Float, Integer
from tests.conftest import FIXTURES, load_script

VALUES = json.loads((FIXTURES / "yahpo_lcbench_syne_tune_values.json").read_text(encoding="utf-8"))
DATA = FIXTURES / "yahpo-lcbench"


@pytest.fixture(scope="module")
def reference_module():
    """``benchmarks/reference/yahpo_lcbench_blackbox.py`` (its model part needs only numpy and onnxruntime)."""
    return load_script("benchmarks/reference/yahpo_lcbench_blackbox.py")


def _benchmark(instance: str):
    cfg = resolve_config(compose(["benchmark=yahpo_lcbench", f"benchmark.blackbox.instance='{instance}'"]))
    return instantiate(cfg["benchmark"])


def test_the_fixture_is_the_reference_checked_against_yahpo_gym():
    check = VALUES["yahpo_gym_check"]
    assert check["rows"] >= 30 and check["max_rel_diff"] <= 1e-6
    assert VALUES["epochs"] == list(range(1, 53))
    assert len(VALUES["rows"]) >= 8 and {row["instance"] for row in VALUES["rows"]} == {"3945", "189908"}


@pytest.mark.parametrize("instance", ["3945", "189908"])
def test_every_epoch_of_every_config_equals_the_reference(instance, converted_fixtures):
    benchmark = _benchmark(instance)
    blackbox = benchmark.open()
    assert blackbox.objective_names == VALUES["objectives"]
    assert blackbox.fidelity_values.tolist() == VALUES["epochs"]
    rows = [row for row in VALUES["rows"] if row["instance"] == instance]
    got = blackbox.evaluate_many([row["config"] for row in rows], 0, blackbox.fidelity_values)
    expected = np.array([row["values"] for row in rows])  # (configs, 52 epochs, 6 objectives)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0.0)
    # one trial's segment (epochs 11..30 after a pause at 10), as the simulator asks for it
    segment = blackbox.evaluate(rows[0]["config"], 0, np.arange(11, 31))
    np.testing.assert_allclose(segment, expected[0, 10:30], rtol=1e-6, atol=0.0)


def test_the_benchmark_has_the_reference_semantics(converted_fixtures):
    benchmark = _benchmark("3945")
    assert (benchmark.metric, benchmark.mode, benchmark.elapsed_time_attr) == ("val_accuracy", "max", "time")
    assert (benchmark.fidelity_attr, benchmark.max_fidelity) == ("epoch", 52)
    assert (benchmark.n_workers, float(benchmark.max_wallclock_time)) == (4, 7200.0)
    assert benchmark.open().fidelity_is_cumulative  # time is cumulative over epochs, a trial resumes


def test_same_space_and_same_model_inputs_as_the_reference(reference_module):
    ours = yahpo.yahpo_blackbox("lcbench", "189908", data_dir=str(DATA))
    model = reference_module.LCBenchModel(DATA, "189908")
    # the space: names in the same order, same bounds and log scales (cs_to_synetune of the same file)
    assert ours.config_space.names == list(hp["name"] for hp in model.hyperparameters)
    for hp, spec in zip(ours.config_space.hyperparameters, model.hyperparameters):
        assert isinstance(hp, Integer if spec["type"] == "uniform_int" else Float)
        assert (hp.lower, hp.upper, hp.log) == (spec["lower"], spec["upper"], bool(spec["log"]))
    # the encoded inputs, bit for bit
    ours_model = ours._predict
    configs = [row["config"] for row in VALUES["rows"]]
    epochs = np.arange(1, len(configs) + 1)
    for a, b in zip(ours_model.encode(configs, epochs), model.encode(configs, epochs)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    np.testing.assert_array_equal(ours.evaluate_many(configs[:2], 0, ours.fidelity_values),
                                  np.stack([model.curve(c) for c in configs[:2]]))


def test_the_reference_model_refuses_a_wrong_folder_or_instance(reference_module, tmp_path):
    with pytest.raises(FileNotFoundError, match="tests/data/yahpo-lcbench"):
        reference_module.LCBenchModel(tmp_path, "3945")
    with pytest.raises(ValueError, match="unknown LCBench instance '12'"):
        reference_module.LCBenchModel(DATA, "12")
