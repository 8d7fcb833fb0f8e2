import pytest

from mfbench.results.store import FinishedRunExists, RunDirectory, remove_stale_temporaries


def test_write_is_atomic_and_marker_comes_last(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    run = RunDirectory(tmp_path / "run")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # an interruption in the middle of writing

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        run.write({"a": [1, 2]}, {"x": 1})
    assert not run.is_complete()
    assert [p.name for p in run.path.iterdir()] == []  # no half-written or temporary file


def test_finished_run_is_not_overwritten_unless_asked(tmp_path):
    run = RunDirectory(tmp_path)
    run.write({"a": [1]}, {"config_fingerprint": "f1"})
    assert run.is_complete() and run.finished_fingerprint() == "f1"
    with pytest.raises(FinishedRunExists, match="overwrite=true"):
        run.write({"a": [2]}, {"config_fingerprint": "f2"})
    run.write({"a": [2]}, {"config_fingerprint": "f2"}, overwrite=True)
    assert run.finished_fingerprint() == "f2"


def test_stale_temporaries_are_removed(tmp_path):
    (tmp_path / ".results.parquet.abc.tmp").write_text("partial")
    remove_stale_temporaries(tmp_path)
    assert list(tmp_path.iterdir()) == []


def _finished(tmp_path):
    run = RunDirectory(tmp_path / "run")
    run.write({"a": list(range(100)), "b": [0.5] * 100}, {"config_fingerprint": "f1", "x": 1})
    assert run.is_complete() and run.verify() is None
    return run


@pytest.mark.parametrize("damage, expected", [
    (lambda run: run.results_path.write_bytes(run.results_path.read_bytes()[:50]), "results.parquet is 50 bytes"),
    (lambda run: run.results_path.write_bytes(b""), "results.parquet is 0 bytes"),
    (lambda run: run.metadata_path.write_text(run.metadata_path.read_text()[:20]), "metadata.json is 20 bytes"),
    (lambda run: run.metadata_path.write_text(run.metadata_path.read_text().replace('"x": 1', '"x": 2')),
     "metadata.json has other contents"),
    (lambda run: run.results_path.unlink(), "results.parquet is missing"),
])
def test_a_damaged_finished_run_is_corrupt_not_complete(tmp_path, damage, expected):
    run = _finished(tmp_path)
    damage(run)
    assert expected in run.verify()
    assert not run.is_complete() and run.finished_fingerprint() is None


def test_a_flipped_byte_in_the_results_is_detected(tmp_path):
    run = _finished(tmp_path)
    data = bytearray(run.results_path.read_bytes())
    data[len(data) // 2] ^= 0x01
    run.results_path.write_bytes(bytes(data))
    assert "checksum differs" in run.verify()


def test_a_corrupt_run_is_redone_and_its_files_kept_aside(tmp_path):
    run = _finished(tmp_path)
    run.results_path.write_bytes(b"")
    run.write({"a": [7]}, {"config_fingerprint": "f1"})  # no overwrite=true needed: nothing trusted is replaced
    assert run.is_complete() and run.finished_fingerprint() == "f1"
    assert (run.path / "results.parquet.corrupt").read_bytes() == b""
    assert (run.path / "DONE.corrupt").is_file() and (run.path / "metadata.json.corrupt").is_file()


def test_a_marker_of_an_older_version_is_checked_by_reading_the_files(tmp_path):
    run = _finished(tmp_path)
    run.marker_path.write_text("complete\n")  # the marker mfbench wrote before DONE held checksums
    assert run.is_complete()
    run.results_path.write_bytes(run.results_path.read_bytes()[:30])
    assert "does not read as parquet" in run.verify()
    run = _finished(tmp_path / "other")
    run.marker_path.write_text("complete\n")
    run.metadata_path.write_text('{"config_fi')
    assert "does not read as JSON" in run.verify()
