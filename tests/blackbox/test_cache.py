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


def _flip(path, offset=-3):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    with open(path, "r+b") as f:  # in place: same inode, same size
        f.write(bytes(data))


@pytest.mark.parametrize("file", ["t.npy", "configurations.npy", "summary/t.npy"])
def test_a_byte_changed_in_place_is_refused_with_the_rebuild_command(tmp_path, file):
    _write(tmp_path)
    open_tabular("toy", "t", str(tmp_path), "REBUILD-IT")  # verified once: stamped
    _flip(tmp_path / "toy" / file)
    with pytest.raises(BlackboxDataError, match=rf"{file} does not match its checksum.*REBUILD-IT"):
        open_tabular("toy", "t", str(tmp_path), "REBUILD-IT")


def test_resetting_the_modification_time_does_not_hide_an_edit(tmp_path):
    import os

    _write(tmp_path)
    open_tabular("toy", "t", str(tmp_path), "rebuild")
    path = tmp_path / "toy" / "t.npy"
    before = path.stat()
    _flip(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime as verified; ctime moves regardless
    with pytest.raises(BlackboxDataError, match="does not match its checksum"):
        open_tabular("toy", "t", str(tmp_path), "rebuild")


def test_each_file_version_is_hashed_once(tmp_path, monkeypatch):
    _write(tmp_path)
    hashed = []
    real = cache.sha256_of
    monkeypatch.setattr(cache, "sha256_of", lambda path, *a: hashed.append(path) or real(path, *a))
    for _ in range(3):
        open_tabular("toy", "t", str(tmp_path), "rebuild")
    assert len(hashed) == 3  # t.npy, its summary and configurations.npy, on the first open only
    stamp = json.loads((tmp_path / "toy" / cache.STAMP).read_text())
    assert set(stamp) == {"t.npy", "summary/t.npy", "configurations.npy"}


def test_a_read_only_cache_keeps_its_stamp_in_the_users_cache(tmp_path, monkeypatch):
    import os

    _write(tmp_path / "shared")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a read-only shared cache
    open_tabular("toy", "t", str(tmp_path / "shared"), "rebuild")
    assert not (tmp_path / "shared" / "toy" / cache.STAMP).exists()
    assert len(list((tmp_path / "xdg" / "mfbench" / "verified").glob("*.json"))) == 1


def test_a_process_reopening_an_unchanged_table_shares_it_and_a_rewritten_one_is_read_again(tmp_path):
    _write(tmp_path)
    first = open_tabular("toy", "t", str(tmp_path), "REBUILD")
    assert open_tabular("toy", "t", str(tmp_path), "REBUILD") is first  # the runs of one job share it
    encoded = first.config_space.encode_table()
    with pytest.raises(ValueError, match="read-only"):  # shared: no run may change it for the next ones
        encoded[0, 0] = 0.5
    configurations = np.array([[1, 2], [1, 8], [0, 4]], dtype=np.float64)  # another table, same shapes
    write_tabular("toy", tmp_path, HPS, configurations, "epoch", [1, 2], ["loss", "time"],
                  {"t": lambda out: out.__setitem__(..., 7.0)}, 2, {"kind": "test"})
    again = open_tabular("toy", "t", str(tmp_path), "REBUILD")
    assert again is not first and again.config_space.table[0] == ("b", 2)
    np.testing.assert_array_equal(again.evaluate({"op": "b", "width": 8}, 0, np.array([2])), [[7.0, 7.0]])
