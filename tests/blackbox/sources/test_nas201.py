"""NB201 conversion on the 3 real NATS-Bench records: every value against the raw files.

Expectations are read from the pickles directly here (independently of the converter's
code path), plus a few numbers read by hand from the files (arch 0, cifar100, seed 777:
ori-test@0 = 8.66 %, train_acc1es[0] = 6.266 %, 14.442186 s train + 1.0195917 s eval per epoch).
"""
from __future__ import annotations

import bz2
import pickle
import shutil

import numpy as np
import pytest

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.safe_pickle import safe_load
from mfbench.blackbox.sources import nas201
from tests.blackbox.sources.nats_writer import write_syne_tune_layout
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "nats-tss-v1_0-3ffb9-simple"
ARCHS = (0, 11, 284)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    nas201.convert(FIXTURE, cache_dir=cache, allow_partial=True, progress=False)
    return cache


@pytest.fixture(scope="module")
def raw():
    return {i: safe_load(FIXTURE / f"{i:06d}.pickle.pbz2")["200"] for i in ARCHS}


def test_arch_string_to_ops_in_string_order():
    arch = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert nas201.arch_str_to_ops(arch) == ["avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
                                            "skip_connect", "skip_connect"]
    with pytest.raises(ValueError, match="operations"):
        nas201.arch_str_to_ops("|none~0|")


def test_hand_read_values_of_arch_0_cifar100_seed_777(converted):
    bb = nas201.nas201_blackbox("cifar100", cache_dir=str(converted))
    config = dict(zip(nas201.HP_NAMES, ["avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1",
                                        "skip_connect", "skip_connect"]))
    assert bb.config_space.index_of(config) == 0
    row = bb.evaluate(config, 0, np.array([1]))[0]
    names = bb.objective_names
    assert row[names.index("metric_valid_error")] == pytest.approx(1 - 0.0866, abs=1e-6)
    assert row[names.index("metric_train_error")] == pytest.approx(1 - 0.06266, abs=1e-6)
    assert row[names.index("metric_runtime")] == pytest.approx(14.442186 + 1.0195917, abs=1e-5)
    assert row[names.index("metric_params")] == pytest.approx(0.135156, abs=1e-7)
    assert row[names.index("metric_flops")] == pytest.approx(15.65322, abs=1e-5)
    last = bb.evaluate(config, 0, np.array([200]))[0]
    # float32 cumulative sum, as Syne Tune's table: 3092.3499 for the exact 3092.3555
    assert last[names.index("metric_elapsed_time")] == pytest.approx(200 * (14.442186 + 1.0195917), rel=1e-5)


@pytest.mark.parametrize("task", nas201.TASKS)
def test_every_value_matches_the_raw_records(converted, raw, task):
    bb = nas201.nas201_blackbox(task, cache_dir=str(converted))
    assert bb.objective_names == list(nas201.OBJECTIVES)
    assert bb.fidelity_values.tolist() == list(range(1, 201))
    assert bb.num_seeds == 3 and len(bb.config_space.table) == 3
    epochs = np.arange(1, 201)
    for arch in ARCHS:
        record = raw[arch]
        ops = nas201.arch_str_to_ops(record["arch_str"])
        config = dict(zip(nas201.HP_NAMES, ops))
        first = record["all_results"][(task, 777)]
        for s, seed in enumerate((777, 888, 999)):
            result = record["all_results"][(task, seed)]
            got = bb.evaluate(config, s, epochs)
            valid = np.array([1 - result["eval_acc1es"][f"ori-test@{e}"] / 100 for e in range(200)])
            train = np.array([1 - result["train_acc1es"][e] / 100 for e in range(200)])
            runtime = np.array([result["train_times"][e] + result["eval_times"][f"ori-test@{e}"] for e in range(200)])
            np.testing.assert_allclose(got[:, 0], valid, rtol=0, atol=1e-6)
            np.testing.assert_allclose(got[:, 1], train, rtol=0, atol=1e-6)
            np.testing.assert_allclose(got[:, 2], runtime, rtol=1e-6)
            np.testing.assert_allclose(got[:, 3], np.cumsum(runtime), rtol=1e-5)
            np.testing.assert_allclose(got[:, 4], first["latency"][0], rtol=1e-6)
            np.testing.assert_allclose(got[:, 5], first["flop"], rtol=1e-6)
            np.testing.assert_allclose(got[:, 6], first["params"], rtol=1e-6)


def _syne_tune_impute(values: np.ndarray) -> np.ndarray:
    """Syne Tune's ``impute_values`` (nasbench201_import.py), verbatim in logic."""
    idx = np.isnan(values)
    a, s, e = np.where(idx == True)  # noqa: E712
    for ai, si, ei in zip(a, s, e):
        row = values[ai, :, ei]
        values[ai, si, ei] = np.mean(np.delete(row, np.where(np.isnan(row))))
    return values


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_imputation_equals_syne_tune_loop():
    rng = np.random.default_rng(0)
    values = rng.random((50, 3, 20)).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[3, :, 5] = np.nan  # all seeds missing stays NaN
    expected = _syne_tune_impute(values.copy())
    got = nas201.impute_missing_seeds(values.copy())
    np.testing.assert_array_equal(got, expected)


def _copy_fixture(tmp_path, drop: tuple[int, str, int] | None = None):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    shutil.copytree(FIXTURE, folder)
    if drop is not None:
        arch, task, seed = drop
        path = folder / f"{arch:06d}.pickle.pbz2"
        path.chmod(0o644)
        record = safe_load(path)
        del record["200"]["all_results"][(task, seed)]
        path.write_bytes(bz2.compress(pickle.dumps(record)))
    for p in folder.iterdir():
        p.chmod(0o644)
    return folder


def test_missing_seed_is_imputed_by_the_mean_of_the_others(tmp_path, raw):
    folder = _copy_fixture(tmp_path, drop=(11, "cifar100", 999))
    nas201.convert(folder, cache_dir=tmp_path / "cache", allow_partial=True, progress=False)
    bb = nas201.nas201_blackbox("cifar100", cache_dir=str(tmp_path / "cache"))
    config = dict(zip(nas201.HP_NAMES, nas201.arch_str_to_ops(raw[11]["arch_str"])))
    epochs = np.arange(1, 201)
    s0, s1, s2 = (bb.evaluate(config, s, epochs) for s in range(3))
    np.testing.assert_allclose(s2[:, :3], (s0[:, :3] + s1[:, :3]) / 2, rtol=1e-6)
    np.testing.assert_allclose(s2[:, 3], np.cumsum(s2[:, 2]), rtol=1e-5)


@pytest.mark.parametrize("content, error", [([1, 2, 3], "TypeError"), ({"12": 1}, "KeyError: '200'"),
                                            ({"200": {"foo": 1}}, "KeyError: 'arch_str'")])
def test_a_pickle_of_another_structure_is_a_data_error_naming_the_file(tmp_path, content, error):
    """It unpickles (only allowed types), but it is not a NATS-Bench record: one line naming the
    file, not the KeyError or TypeError of the first missing key; nothing is written."""
    from mfbench.blackbox.cache import BlackboxDataError

    folder = _copy_fixture(tmp_path)
    (folder / "000011.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(content)))
    with pytest.raises(BlackboxDataError, match=f"000011.pickle.pbz2 does not hold NAS-Bench-201 data as NATS-Bench "
                                                f"writes it \\({error}"):
        nas201.convert(folder, cache_dir=tmp_path / "cache", allow_partial=True, progress=False)
    assert not (tmp_path / "cache" / "nas201").exists()


def test_incomplete_folder_needs_allow_partial(tmp_path):
    with pytest.raises(ValueError, match="--allow-partial"):
        nas201.convert(FIXTURE, cache_dir=tmp_path, progress=False)
    assert not (tmp_path / "nas201").exists()


def test_single_file_and_syne_tune_folder_give_the_same_table(converted, tmp_path, raw):
    meta = safe_load(FIXTURE / "meta.pickle.pbz2")
    single = {"meta_archs": meta["meta_archs"], "total_archs": meta["total_archs"],
              "arch2infos": {i: {"200": raw[i]} for i in ARCHS}, "evaluated_indexes": set(ARCHS)}
    file = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    file.write_bytes(bz2.compress(pickle.dumps(single)))
    assert nas201.detect_source(file) == "nats-file"
    nas201.convert(file, cache_dir=tmp_path / "b", allow_partial=True, progress=False)
    syne = write_syne_tune_layout(converted / "nas201", tmp_path / "st" / "nasbench201")
    assert nas201.detect_source(syne.parent) == "syne-tune"
    nas201.convert(syne.parent, cache_dir=tmp_path / "c", progress=False)
    for task in nas201.TASKS:
        reference = np.load(converted / "nas201" / f"{task}.npy")
        np.testing.assert_array_equal(np.load(tmp_path / "b" / "nas201" / f"{task}.npy"), reference)
        np.testing.assert_array_equal(np.load(tmp_path / "c" / "nas201" / f"{task}.npy"), reference)
    np.testing.assert_array_equal(np.load(tmp_path / "c" / "nas201" / "configurations.npy"),
                                  np.load(converted / "nas201" / "configurations.npy"))


def test_missing_data_names_the_command(tmp_path):
    with pytest.raises(BlackboxDataError, match="python -m mfbench.data download nas201"):
        nas201.nas201_blackbox("cifar10", cache_dir=str(tmp_path))


def test_unknown_source_is_explained(tmp_path):
    with pytest.raises(ValueError, match="none of the NB201 sources"):
        nas201.detect_source(tmp_path)


def test_a_run_without_the_data_stops_at_once_naming_the_command(tmp_path):
    from mfbench.api import compose, simulate
    from mfbench.errors import UserInputError

    cfg = compose(["benchmark=nas201_imagenet16", f"benchmark.blackbox.cache_dir={tmp_path}"])
    with pytest.raises(UserInputError, match="python -m mfbench.data download nas201"):
        simulate(cfg)
