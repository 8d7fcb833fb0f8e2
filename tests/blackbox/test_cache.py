"""The cache: root precedence, manifests (stale / foreign / corrupt), atomic writes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mfbench.blackbox import cache
from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.stored import open_tabular, write_tabular
from mfbench.errors import UserInputError
from mfbench.space import Categorical, Integer

HPS = (Categorical("op", ("a", "b")), Integer("width", 1, 8, log=True))


def _write(root, fail: bool = False):
    configurations = np.array([[0, 1], [1, 8], [0, 4]], dtype=np.float64)

    def fill(out):
        out[...] = np.arange(out.size, dtype=np.float32).reshape(out.shape)
        if fail:
            raise RuntimeError("interrupted")

    return write_tabular("toy", root, HPS, configurations, "epoch", [1, 2], ["loss", "time"], {"t": fill}, 2,
                         {"kind": "test"})


def test_root_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("MFBENCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "mfbench" / "blackboxes"
    monkeypatch.setenv("MFBENCH_CACHE", str(tmp_path / "env"))
    assert cache.cache_root() == tmp_path / "env"
    assert cache.cache_root(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_round_trip_memory_mapped(tmp_path):
    _write(tmp_path)
    bb = open_tabular("toy", "t", str(tmp_path), "REBUILD")
    assert isinstance(bb.evaluations, np.memmap) and not bb.evaluations.flags.writeable
    assert bb.config_space.table == [("a", 1), ("b", 8), ("a", 4)]
    # row 1, seed 0, epoch 2: flat index ((1*2 + 0)*2 + 1)*2 = 10 -> (10, 11)
    np.testing.assert_array_equal(bb.evaluate({"op": "b", "width": 8}, 0, np.array([2])), [[10.0, 11.0]])
    manifest = json.loads((tmp_path / "toy" / "manifest.json").read_text())
    assert manifest["format_version"] == cache.FORMAT_VERSION and "sha256" in manifest["files"]["t.npy"]
    assert cache.verify_checksums(tmp_path / "toy", manifest) == []


def test_interrupted_write_leaves_nothing_and_keeps_the_old_copy(tmp_path):
    with pytest.raises(RuntimeError):
        _write(tmp_path, fail=True)
    assert list(tmp_path.iterdir()) == []
    _write(tmp_path)
    with pytest.raises(RuntimeError):
        _write(tmp_path, fail=True)
    assert [p.name for p in tmp_path.iterdir()] == ["toy"]
    open_tabular("toy", "t", str(tmp_path), "REBUILD")


def test_stale_foreign_and_corrupt_data_are_explained(tmp_path):
    _write(tmp_path)
    manifest_path = tmp_path / "toy" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 0}))
    with pytest.raises(BlackboxDataError, match="format version 0.*Rebuild it with: REBUILD"):
        open_tabular("toy", "t", str(tmp_path), "REBUILD")
    manifest_path.write_text(json.dumps({**manifest, "format": "syne-tune"}))
    with pytest.raises(BlackboxDataError, match="foreign manifest.*REBUILD"):
        open_tabular("toy", "t", str(tmp_path), "REBUILD")
    manifest_path.write_text(json.dumps(manifest))
    with open(tmp_path / "toy" / "t.npy", "ab") as handle:
        handle.write(b"junk")
    with pytest.raises(BlackboxDataError, match="wrong size.*REBUILD"):
        open_tabular("toy", "t", str(tmp_path), "REBUILD")
    manifest_path.unlink()
    with pytest.raises(BlackboxDataError, match="no manifest.json"):
        open_tabular("toy", "t", str(tmp_path), "REBUILD")


def test_missing_data_error_is_a_user_input_error_and_a_file_not_found_error(tmp_path):
    with pytest.raises(BlackboxDataError) as error:
        open_tabular("toy", "t", str(tmp_path), "python -m mfbench.data download toy")
    assert isinstance(error.value, UserInputError) and isinstance(error.value, FileNotFoundError)
    assert "python -m mfbench.data download toy" in str(error.value)
