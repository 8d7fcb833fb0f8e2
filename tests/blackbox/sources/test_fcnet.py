"""The FCNet converter on small files in the original layout: every value read back, bad inputs,
and the download path through a local HTTP server."""
from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources import fcnet
from mfbench.data.cli import main
from mfbench.errors import ConfigError
from tests.blackbox.sources.fcnet_writer import grid_configs, write_fcnet_archive, write_fcnet_folder, write_fcnet_hdf5
from tests.data.test_data_cli import file_server  # noqa: F401  (the local server fixture)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fcnet")
    written = write_fcnet_archive(tmp / fcnet.ARCHIVE, n_configs=6)
    cache = tmp / "cache"
    fcnet.convert(tmp / fcnet.ARCHIVE, cache, allow_partial=True)
    return written, cache


def test_every_value_is_read_back_as_the_reference_converts_it(converted):
    written, cache = converted
    for task in fcnet.TASKS:
        blackbox = fcnet.fcnet_blackbox(task, str(cache))
        assert blackbox.objective_names == list(fcnet.OBJECTIVES)
        assert list(blackbox.fidelity_values) == list(range(1, 101)) and blackbox.num_seeds == 4
        assert blackbox.evaluations.dtype == np.float32
        assert len(blackbox.config_space.table) == len(written[task])
        for key, raw in written[task].items():
            config = {f"hp_{name}": value for name, value in json.loads(key).items()}
            for seed in range(4):
                values = blackbox.evaluate(config, seed, blackbox.fidelity_values)  # (100, 5)
                np.testing.assert_array_equal(values[:, 0], raw["valid_loss"][seed].astype(np.float32))
                np.testing.assert_array_equal(values[:, 1], raw["train_loss"][seed].astype(np.float32))
                np.testing.assert_array_equal(values[:, 2], np.float32(raw["final_test_error"][seed]))
                np.testing.assert_array_equal(values[:, 3], np.float32(raw["n_params"][seed]))
                # the reference: (epochs / 100) * runtime (float32), stored as float32
                runtime = np.float32(raw["runtime"][seed])
                expected = (np.arange(1, 101) / 100 * runtime).astype(np.float32)
                np.testing.assert_array_equal(values[:, 4], expected)
                assert values[-1, 4] == pytest.approx(raw["runtime"][seed], rel=1e-6)


def test_rows_follow_the_group_names_and_the_space_is_the_reference_grid(converted):
    written, cache = converted
    blackbox = fcnet.fcnet_blackbox("protein", str(cache))  # the short name of the YAML
    rows = [json.dumps(dict(zip(fcnet.GRID, row)), sort_keys=True) for row in blackbox.config_space.table]
    assert rows == sorted(written["protein_structure"])
    space = blackbox.config_space
    assert space.names == [f"hp_{name}" for name in fcnet.GRID]
    for hp, values in zip(space.hyperparameters, fcnet.GRID.values()):
        assert all(hp.contains(v) for v in values)
    assert fcnet.TOTAL_CONFIGS == 62208
    assert blackbox.describe()["partial"] is True


def test_the_extracted_folder_and_single_files_convert_too(tmp_path):
    written = write_fcnet_folder(tmp_path / "in", n_configs=3, tasks=("slice_localization",))
    path = tmp_path / "in" / "fcnet_tabular_benchmarks" / "fcnet_slice_localization_data.hdf5"
    fcnet.convert(path, tmp_path / "cache", allow_partial=True)
    blackbox = fcnet.fcnet_blackbox("slice", str(tmp_path / "cache"))
    assert len(blackbox.config_space.table) == len(written["slice_localization"]) == 3
    with pytest.raises(BlackboxDataError, match="has no task 'naval_propulsion'"):
        fcnet.fcnet_blackbox("naval", str(tmp_path / "cache"))


def test_an_incomplete_table_needs_allow_partial(tmp_path):
    write_fcnet_archive(tmp_path / fcnet.ARCHIVE, n_configs=2)
    with pytest.raises(BlackboxDataError, match="2 of FCNet's 62208 configurations.*--allow-partial"):
        fcnet.convert(tmp_path / fcnet.ARCHIVE, tmp_path / "cache")
    assert not (tmp_path / "cache" / fcnet.NAME).exists()
    assert not [p for p in (tmp_path / "cache").iterdir()]  # the extracted files are gone too


def test_bad_inputs_say_what_to_do(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(BlackboxDataError, match="does not exist.*download fcnet"):
        fcnet.convert(tmp_path / "nowhere.tar.gz", cache)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BlackboxDataError, match="holds none of FCNet's files.*download fcnet"):
        fcnet.convert(tmp_path / "empty", cache)
    truncated = tmp_path / "truncated" / fcnet.ARCHIVE
    write_fcnet_archive(truncated, n_configs=2)
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(BlackboxDataError, match="not a readable tar.gz archive.*fetch it again"):
        fcnet.convert(truncated, cache, allow_partial=True)
    corrupt = tmp_path / "corrupt" / "fcnet_naval_propulsion_data.hdf5"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"not an hdf5 file" * 10)
    with pytest.raises(BlackboxDataError, match="not a readable HDF5 file.*fetch it again"):
        fcnet.convert(corrupt, cache, allow_partial=True)
    assert not (cache / fcnet.NAME).exists()


def test_files_that_are_not_fcnet_are_refused(tmp_path):
    import h5py

    odd = tmp_path / "odd" / "fcnet_naval_propulsion_data.hdf5"
    configs = grid_configs(2)
    configs[1] = {**configs[1], "batch_size": 12}  # not on the grid
    write_fcnet_hdf5(odd, configs, seed=0)
    with pytest.raises(BlackboxDataError, match="batch_size=12, not one of FCNet's"):
        fcnet.convert(odd, tmp_path / "cache", allow_partial=True)
    short = tmp_path / "short" / "fcnet_naval_propulsion_data.hdf5"
    write_fcnet_hdf5(short, grid_configs(2), seed=0)
    with h5py.File(short, "a") as data:
        key = sorted(data.keys())[0]
        del data[key]["valid_loss"]
        data[key].create_dataset("valid_loss", data=np.zeros((4, 50)))
    with pytest.raises(BlackboxDataError, match=r"valid_loss of .* has shape \(4, 50\), expected \(4, 100\)"):
        fcnet.convert(short, tmp_path / "cache", allow_partial=True)
    # data sets of one archive that hold different configurations
    folder = tmp_path / "mixed" / "fcnet_tabular_benchmarks"
    write_fcnet_hdf5(folder / "fcnet_protein_structure_data.hdf5", grid_configs(3), seed=0)
    write_fcnet_hdf5(folder / "fcnet_naval_propulsion_data.hdf5", grid_configs(3, stride=7), seed=1)
    with pytest.raises(BlackboxDataError, match="lacks 2 of the 3 of the first data set"):
        fcnet.convert(folder.parent, tmp_path / "cache", allow_partial=True)


def test_unknown_data_set_lists_them(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown data set 'protien'.*did you mean protein"):
        fcnet.fcnet_blackbox("protien", str(tmp_path))
    with pytest.raises(BlackboxDataError, match="download fcnet"):
        fcnet.fcnet_blackbox("protein", str(tmp_path))


def test_download_from_a_mirror_converts_and_verifies(file_server, tmp_path, monkeypatch, capsys):  # noqa: F811
    root, base = file_server
    write_fcnet_archive(root / fcnet.ARCHIVE, n_configs=5)  # the archive as the server holds it
    with tarfile.open(root / fcnet.ARCHIVE) as tar:
        assert sorted(tar.getnames())[0] == "fcnet_tabular_benchmarks"
    cache = tmp_path / "cache"
    # the served archive holds 5 configurations: the download refuses it as incomplete ...
    assert main(["download", "fcnet", "--url", f"{base}/", "--cache-dir", str(cache), "--no-progress"]) == 2
    assert "--allow-partial" in capsys.readouterr().err and not (cache / fcnet.NAME).exists()
    kept = cache / "downloads" / "fcnet" / "ml4aad" / fcnet.ARCHIVE
    assert kept.is_file()  # ... and keeps it, to convert with --allow-partial
    assert main(["convert", "fcnet", "--from", str(kept), "--allow-partial", "--cache-dir", str(cache),
                 "--no-progress"]) == 0
    assert main(["verify", "fcnet", "--cache-dir", str(cache)]) == 0
    # a full table (here: 5 configurations declared full) goes from download to ready in one command
    monkeypatch.setattr(fcnet, "TOTAL_CONFIGS", 5)
    assert main(["download", "fcnet", "--url", f"{base}/", "--cache-dir", str(cache), "--no-progress"]) == 0
    assert not kept.exists()  # converted, then removed
    assert "partial" not in fcnet.fcnet_blackbox("naval", str(cache)).describe()
