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
