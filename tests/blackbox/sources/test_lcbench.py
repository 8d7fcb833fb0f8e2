"""The LCBench converter on small files in the original layout: every value read back, bad inputs,
the 1-NN surrogate of the benchmarks, and the download path through a local HTTP server."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources import lcbench
from mfbench.blackbox.table_surrogate import table_surrogate
from mfbench.data.cli import main
from mfbench.errors import ConfigError
from tests.blackbox.sources.lcbench_writer import lcbench_data, write_lcbench_json, write_lcbench_zip
from tests.data.test_data_cli import file_server  # noqa: F401  (the local server fixture)

TASKS = ("adult", "Fashion-MNIST")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lcbench")
    written = write_lcbench_zip(tmp / lcbench.ARCHIVE, TASKS, n_configs=3)
    lcbench.convert(tmp / lcbench.ARCHIVE, tmp / "cache", allow_partial=True)
    return written, tmp / "cache"


def test_every_value_is_read_back_as_the_reference_converts_it(converted):
    written, cache = converted
    for task in TASKS:
        blackbox = lcbench.lcbench_blackbox(task, str(cache))
        assert blackbox.objective_names == list(lcbench.OBJECTIVES)
        assert list(blackbox.fidelity_values) == list(range(1, 51)) and blackbox.num_seeds == 1
        assert blackbox.evaluations.dtype == np.float32
        space = blackbox.config_space
        assert len(space.table) == 3
        for config_id, record in written[task].items():
            config = {name: record["config"][name] for name in space.names}
            assert space.index_of(config) == int(config_id)  # rows in configuration-id order
            values = blackbox.evaluate(config, 0, blackbox.fidelity_values)  # (50, 7)
            for j, tag in enumerate(lcbench.TAGS.values()):
                raw = np.asarray(record["log"][tag])
                # the entry before training and the final repeat are dropped; time starts at 0
                expected = raw[1:-1] - raw[0] if tag == "time" else raw[1:-1]
                np.testing.assert_array_equal(values[:, j], expected.astype(np.float32))


def test_the_space_is_the_reference_space_without_the_constant_columns(converted):
    _, cache = converted
    space = lcbench.lcbench_blackbox("adult", str(cache)).config_space
    assert space.names == ["batch_size", "learning_rate", "max_dropout", "max_units", "momentum", "num_layers",
                           "weight_decay"]
    assert [type(hp).__name__ for hp in space.hyperparameters] == ["Integer", "Float", "Float", "Integer", "Float",
                                                                   "Integer", "Float"]
    assert [hp.log for hp in space.hyperparameters] == [True, True, False, True, False, False, False]


def test_tasks_by_name_or_openml_id_and_unknown_ones(converted):
    _, cache = converted
    assert lcbench.lcbench_blackbox("189908", str(cache)).describe()["task"] == "Fashion-MNIST"
    assert lcbench.lcbench_blackbox(126025, str(cache)).describe()["task"] == "adult"
    with pytest.raises(ConfigError, match="unknown task 'Fashion_MNIST'.*did you mean Fashion-MNIST"):
        lcbench.lcbench_blackbox("Fashion_MNIST", str(cache))
    with pytest.raises(BlackboxDataError, match="has no task 'covertype'"):  # not in this partial table
        lcbench.lcbench_blackbox("7593", str(cache))
    assert lcbench.task_name("numerai28.6") == "numerai28.6"


def test_the_json_and_a_folder_holding_it_give_the_same_table(converted, tmp_path):
    written, cache = converted
    write_lcbench_json(tmp_path / "in" / "data_2k_lw.json", TASKS, n_configs=3)
    lcbench.convert(tmp_path / "in", tmp_path / "cache", allow_partial=True)
    for task in TASKS:
        np.testing.assert_array_equal(np.load(tmp_path / "cache" / "lcbench" / f"{task}.npy"),
                                      np.load(cache / "lcbench" / f"{task}.npy"))


def test_an_incomplete_file_needs_allow_partial(tmp_path):
    write_lcbench_json(tmp_path / "data_2k_lw.json", TASKS, n_configs=2)
    with pytest.raises(BlackboxDataError, match="2 of LCBench's 2000 configurations and lacks 32 of the "
                                                "reference tasks.*--allow-partial"):
        lcbench.convert(tmp_path / "data_2k_lw.json", tmp_path / "cache")
    assert not (tmp_path / "cache" / lcbench.NAME).exists()


def test_bad_inputs_say_what_to_do(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(BlackboxDataError, match="does not exist.*download lcbench"):
        lcbench.convert(tmp_path / "nowhere.zip", cache)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BlackboxDataError, match="holds no LCBench file.*download lcbench"):
        lcbench.convert(tmp_path / "empty", cache)
    truncated = tmp_path / "truncated" / lcbench.ARCHIVE
    write_lcbench_zip(truncated, TASKS)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(BlackboxDataError, match="not a zip archive.*fetch it again"):
        lcbench.convert(truncated, cache, allow_partial=True)
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(lcbench_data(TASKS, 2))[:-500])
    with pytest.raises(BlackboxDataError, match="invalid JSON.*fetch it again"):
        lcbench.convert(cut, cache, allow_partial=True)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(BlackboxDataError, match="not LCBench's JSON layout"):
        lcbench.convert(listed, cache, allow_partial=True)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.json", "{}")
        archive.writestr("b.json", "{}")
    with pytest.raises(BlackboxDataError, match="holds 2 JSON files"):
        lcbench.convert(two, cache, allow_partial=True)
    assert not (cache / lcbench.NAME).exists()


def test_data_that_is_not_lcbench_is_refused(tmp_path):
    data = lcbench_data(TASKS, 2)
    data["adult"]["1"]["log"]["Train/val_accuracy"] = data["adult"]["1"]["log"]["Train/val_accuracy"][:51]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(BlackboxDataError, match="'Train/val_accuracy' has 51 entries, LCBench logs 52"):
        lcbench.convert(tmp_path / "short.json", tmp_path / "cache", allow_partial=True)
    data = lcbench_data(TASKS, 2)
    data["Fashion-MNIST"]["0"]["config"]["learning_rate"] = 0.5
    (tmp_path / "outside.json").write_text(json.dumps(data))
    with pytest.raises(BlackboxDataError, match="learning_rate=0.5, outside LCBench's space"):
        lcbench.convert(tmp_path / "outside.json", tmp_path / "cache", allow_partial=True)
    data = lcbench_data(TASKS, 2)
    data["Fashion-MNIST"]["0"]["config"]["learning_rate"] = 0.05
    (tmp_path / "differ.json").write_text(json.dumps(data))
    with pytest.raises(BlackboxDataError, match="tasks 'adult' and 'Fashion-MNIST' hold different configurations"):
        lcbench.convert(tmp_path / "differ.json", tmp_path / "cache", allow_partial=True)
    data = lcbench_data(TASKS, 2)
    del data["adult"]["0"]["log"]["time"]
    (tmp_path / "notime.json").write_text(json.dumps(data))
    with pytest.raises(BlackboxDataError, match="has no 'time' log"):
        lcbench.convert(tmp_path / "notime.json", tmp_path / "cache", allow_partial=True)


def test_the_benchmarks_1nn_surrogate_answers_table_configs_with_their_curves(converted):
    # as the reference's lcbench benchmarks: KNeighborsRegressor(n_neighbors=1) over the table
    written, cache = converted
    table = lcbench.lcbench_blackbox("adult", str(cache))
    surrogate = table_surrogate(table, "knn", {"n_neighbors": 1})
    assert not surrogate.config_space.is_finite  # the methods search LCBench's continuous space
    for row in table.config_space.table:
        config = dict(zip(table.config_space.names, row))
        np.testing.assert_allclose(surrogate.evaluate(config, 0, table.fidelity_values),
                                   table.evaluate(config, 0, table.fidelity_values), rtol=1e-6)
    other = surrogate.config_space.sample(np.random.default_rng(1))
    assert np.isfinite(surrogate.evaluate(other, 0, table.fidelity_values)).all()


def test_download_from_a_mirror_converts_and_verifies(file_server, tmp_path, monkeypatch):  # noqa: F811
    root, base = file_server
    write_lcbench_zip(root / lcbench.ARCHIVE, (*lcbench.TASKS, *lcbench.OTHER_TASKS), n_configs=3)
    monkeypatch.setattr(lcbench, "NUM_CONFIGS", 3)  # the served file counts as complete
    cache = tmp_path / "cache"
    # figshare's link names no file: --url is the file's own URL
    assert main(["download", "lcbench", "--url", f"{base}/{lcbench.ARCHIVE}", "--cache-dir", str(cache),
                 "--no-progress"]) == 0
    assert not (cache / "downloads" / "lcbench" / "figshare").exists()  # removed after the conversion
    assert main(["verify", "lcbench", "--cache-dir", str(cache)]) == 0
    blackbox = lcbench.lcbench_blackbox("numerai28.6", str(cache))
    assert "partial" not in blackbox.describe() and len(blackbox.config_space.table) == 3
    assert lcbench.SOURCE.remotes[0].url(lcbench.ARCHIVE) == lcbench.URL
