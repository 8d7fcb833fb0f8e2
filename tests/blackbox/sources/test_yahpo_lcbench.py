"""YAHPO LCBench surrogate (the lcbench scenario under its old names): encoding and predictions against yahpo-gym."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources import yahpo_lcbench as yahpo
from mfbench.blackbox.surrogate import SurrogateBlackbox
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "yahpo-lcbench"

CONFIGS = {
    "3945": dict(batch_size=91, learning_rate=0.0031622777, max_dropout=0.5, max_units=256, momentum=0.545,
                 num_layers=3, weight_decay=0.050005),
    "7593": dict(batch_size=16, learning_rate=0.1, max_dropout=0.0, max_units=1024, momentum=0.99, num_layers=5,
                 weight_decay=1e-05),
    "189909": dict(batch_size=300, learning_rate=0.0005, max_dropout=0.2, max_units=100, momentum=0.3, num_layers=1,
                   weight_decay=0.01),
}
# Reference predictions of yahpo-gym 1.0.2 (PyPI) with onnxruntime, obtained in a separate venv
# (/work/yahpo-venv: numpy 1.26, ConfigSpace 0.6.1) with the same lcbench folder:
#   local_config.init_config(); local_config.set_data_path(<dir holding lcbench/>)
#   BenchmarkSet("lcbench", instance=task).objective_function({**CONFIGS[task], "epoch": e,
#                                                            "OpenML_task_id": task})[0]
# values in yahpo's y_names order: time, val_accuracy, val_cross_entropy, val_balanced_accuracy,
# test_cross_entropy, test_balanced_accuracy (rounded to 6 decimals).
REFERENCE = [
    ("3945", 1, (15.923601, 38.195049, 0.680329, 0.454226, 0.6852, 0.457832)),
    ("3945", 26, (102.430984, 92.353645, 0.404714, 0.670751, 0.551304, 0.6557)),
    ("3945", 52, (165.689743, 93.398811, 0.380098, 0.684497, 0.541495, 0.670152)),
    ("7593", 1, (130.222778, 7.597699, 1.278872, 0.137167, 1.705792, 0.130016)),
    ("7593", 26, (5380.3125, 81.308655, 0.27909, 0.651348, 1.300786, 0.627879)),
    ("7593", 52, (2934.815674, 91.654869, 0.149642, 0.754195, 1.241883, 0.73819)),
    ("189909", 1, (3.069372, 42.281857, 1.073593, 0.30246, 1.088946, 0.295624)),
    ("189909", 26, (31.265568, 55.279049, 1.005657, 0.489338, 1.056777, 0.493804)),
    ("189909", 52, (53.556179, 56.088234, 1.003055, 0.516146, 1.047546, 0.518258)),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("yahpo_cache")
    yahpo.convert(FIXTURE, cache_dir=cache)
    return cache


@pytest.mark.parametrize("task", sorted(CONFIGS))
def test_predictions_match_yahpo_gym(cache, task):
    bb = yahpo.yahpo_lcbench_blackbox(task, cache_dir=str(cache))
    rows = [(e, values) for t, e, values in REFERENCE if t == task]
    got = bb.evaluate(CONFIGS[task], 0, np.array([e for e, _ in rows]))
    np.testing.assert_allclose(got, np.array([v for _, v in rows]), rtol=1e-5, atol=1e-5)


def test_space_fidelity_objectives_and_encoding(cache):
    bb = yahpo.yahpo_lcbench_blackbox("167104", cache_dir=str(cache))
    assert isinstance(bb, SurrogateBlackbox) and bb.num_seeds == 1
    assert bb.fidelity_values.tolist() == list(range(1, 53))
    assert bb.objective_names == list(yahpo.OBJECTIVES)
    assert not bb.config_space.is_finite
    assert sorted(bb.config_space.names) == sorted(CONFIGS["3945"])
    x_cat, x_cont = bb._predict.encode([CONFIGS["3945"]], np.array([7]))  # type: ignore[attr-defined]
    assert x_cat.dtype == np.int32 and x_cat.tolist() == [[6]]  # encoding.json: "167104": 6
    assert x_cont.dtype == np.float32
    np.testing.assert_allclose(x_cont[0], [7, 91, 0.0031622777, 0.545, 0.050005, 3, 256, 0.5], rtol=1e-6)
    assert bb.describe()["kind"] == "surrogate"


def test_random_configs_give_finite_values_in_range(cache):
    bb = yahpo.yahpo_lcbench_blackbox("3945", cache_dir=str(cache))
    rng = np.random.default_rng(0)
    values = bb.evaluate_many([bb.config_space.sample(rng) for _ in range(20)], 0, bb.fidelity_values)
    assert values.shape == (20, 52, 6) and np.isfinite(values).all()
    assert np.all((values[..., 1] > -5) & (values[..., 1] < 105))  # val_accuracy in %


def test_data_dir_in_place_and_errors(tmp_path):
    bb = yahpo.yahpo_lcbench_blackbox("3945", data_dir=str(FIXTURE))
    assert bb.evaluate(CONFIGS["3945"], 0, np.array([52]))[0, 1] == pytest.approx(93.398811, abs=1e-4)
    with pytest.raises(ValueError, match="unknown instance"):
        yahpo.yahpo_lcbench_blackbox("167083", data_dir=str(FIXTURE))  # in encoding.json but not an instance
    with pytest.raises(BlackboxDataError, match="python -m mfbench.data download yahpo "):
        yahpo.yahpo_lcbench_blackbox("3945", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="seed"):
        bb.evaluate(CONFIGS["3945"], 1, np.array([1]))
    with pytest.raises(ValueError, match="not among"):
        bb.evaluate(CONFIGS["3945"], 0, np.array([53]))


def test_a_file_that_is_not_the_model_is_refused(tmp_path):
    for name in yahpo.FILES:
        (tmp_path / name).write_bytes((FIXTURE / name).read_bytes())
    (tmp_path / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.warns(UserWarning, match="differ"), pytest.raises(BlackboxDataError, match="ONNX"):
        yahpo.convert(tmp_path, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "yahpo_lcbench").exists()
