"""The user-table source: its sidecar, column roles and the cache keyed by content.

The benchmark around it (benchmark=table) is tested in tests/benchmarks/test_table.py.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from mfbench.blackbox.sources import user_table
from mfbench.blackbox.sources.user_table import TableColumns, UserTable, column_roles, open_user_table
from mfbench.blackbox.long_table import TableError
from mfbench.errors import ConfigError
from tests.blackbox.sources.byo_fixtures import write_small_csv

#: the small CSV's time is per epoch, and its metric is not inferable (val_loss beside epoch_seconds)
SMALL_COLUMNS = TableColumns(metric="val_loss", elapsed_time="epoch_seconds", elapsed_time_is_per_epoch=True)


def _small(tmp_path, **options) -> UserTable:
    path = tmp_path / "small.csv"
    if not path.exists():
        write_small_csv(path)
    column_options = {k: options.pop(k) for k in list(options) if k in TableColumns.__dataclass_fields__}
    return open_user_table(str(path), dataclasses.replace(SMALL_COLUMNS, **column_options), **options)


def test_column_roles_of_the_small_csv(tmp_path):
    path = write_small_csv(tmp_path / "small.csv")
    header = path.read_text().splitlines()[0].split(",")
    spec, metric = column_roles(path, header, None, SMALL_COLUMNS)
    assert metric == "val_loss"
    assert (spec.hyperparameters, spec.fidelity, spec.seed) == (["optimizer", "lr", "width"], "epoch", "seed")
    assert spec.objectives == ["val_loss", "epoch_seconds"] and spec.elapsed_time_attr == "elapsed_time"
    # a derived cumulative time never shadows a column of the table
    renamed = [("elapsed_time" if c == "lr" else c) for c in header]
    spec, _ = column_roles(path, renamed, None, SMALL_COLUMNS)
    assert spec.elapsed_time_attr == "epoch_seconds_cumulative"


def test_an_opened_table_knows_its_metric_and_sidecar(tmp_path):
    table = _small(tmp_path)
    assert table.metric == "val_loss" and table.sidecar == {}
    assert table.blackbox.objective_names == ["val_loss", "epoch_seconds", "elapsed_time"]
    assert table.blackbox.evaluations.shape == (6, 2, 9, 3)


def test_a_foreign_json_beside_the_table_is_refused_unless_ignored(tmp_path):
    write_small_csv(tmp_path / "small.csv")
    (tmp_path / "small.json").write_text(json.dumps({"whatever": 1}))
    with pytest.raises(ConfigError, match=r"small\.json is not a sidecar.*benchmark\.sidecar=false"):
        _small(tmp_path)
    assert _small(tmp_path, sidecar=False).metric == "val_loss"


# ------------------------------------------------------------------------------- cache
def test_cache_converts_once_keyed_by_content_and_options(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    memory = _small(tmp_path, cache="never").blackbox
    cached = _small(tmp_path, cache="always", cache_dir=str(cache)).blackbox
    assert "converting" in capsys.readouterr().err
    assert isinstance(cached.evaluations, np.memmap)
    np.testing.assert_array_equal(cached.evaluations, memory.evaluations)
    assert cached.config_space.table == memory.config_space.table
    sha = user_table.content_hash(tmp_path / "small.csv", str(cache))
    [folder] = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert folder.name.startswith(f"table-{sha[:20]}-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["source"]["sha256"] == sha and manifest["seed_labels"] == [7, 9]

    # opened again: neither converted nor hashed again (the hash is remembered by path, size, mtime)
    monkeypatch.setattr(user_table, "read_long_table", lambda *a: pytest.fail("the table was read again"))
    monkeypatch.setattr(user_table, "sha256_of", lambda *a: pytest.fail("the file was hashed again"))
    again = _small(tmp_path, cache="always", cache_dir=str(cache)).blackbox
    np.testing.assert_array_equal(again.evaluations, memory.evaluations)
    assert again.summary is not None and memory.summary is None  # the stored best values are used
    metric = again.objective_names[0]
    assert again.best_in_table(metric, "min") == memory.best_in_table(metric, "min")
    monkeypatch.undo()

    # other options -> another conversion; other content -> another conversion
    _small(tmp_path, cache="always", cache_dir=str(cache), hyperparameters={"width": "categorical"})
    text = (tmp_path / "small.csv").read_text().replace("0.799", "0.7991")
    (tmp_path / "small.csv").write_text(text)
    changed = _small(tmp_path, cache="always", cache_dir=str(cache)).blackbox
    assert len([p for p in cache.iterdir() if p.name.startswith("table-")]) == 3
    assert changed.evaluations[0, 0, 0, 0] == 0.7991


def test_a_corrupt_cached_copy_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    _small(tmp_path, cache="always", cache_dir=str(cache))
    [folder] = [p for p in cache.iterdir() if p.name.startswith("table-")]
    (folder / "table.npy").write_bytes(b"truncated")
    blackbox = _small(tmp_path, cache="always", cache_dir=str(cache)).blackbox
    assert blackbox.evaluations.shape == (6, 2, 9, 3)


def test_auto_caches_only_large_files(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    _small(tmp_path, cache_dir=str(cache))
    assert not cache.exists()
    monkeypatch.setattr(user_table, "CACHE_MIN_BYTES", 100)
    _small(tmp_path, cache_dir=str(cache))
    assert len([p for p in cache.iterdir() if p.name.startswith("table-")]) == 1


# ------------------------------------------------------------------------ NaN notice
def _with_nan_cells(path, lines: tuple[int, ...]):
    """The small CSV with the val_loss of the given 0-based data lines emptied (failed evaluations)."""
    rows = write_small_csv(path).read_text().splitlines()
    for line in lines:
        cells = rows[line + 1].split(",")
        cells[5] = "" if line % 2 else "nan"
        rows[line + 1] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("cache", ["never", "always"])
def test_nan_metric_cells_are_one_notice_line(tmp_path, capsys, cache):
    path = _with_nan_cells(tmp_path / "small.csv", (3, 10, 11, 40))  # 3 curves: lines 10 and 11 share one
    open_user_table(str(path), TableColumns(metric="val_loss", elapsed_time="epoch_seconds",
                                            elapsed_time_is_per_epoch=True), cache=cache, cache_dir=str(tmp_path))
    notices = [line for line in capsys.readouterr().err.splitlines() if "NaN" in line]
    assert notices == [
        "mfbench: small.csv: 4 of 108 'val_loss' cells are NaN, in 3 curve(s) (failed evaluations: the methods "
        "treat them as the worst result), e.g. {optimizer: 'adam', lr: 0.001, width: 32} seed 7 at epoch=4; "
        "{optimizer: 'adam', lr: 0.001, width: 32} seed 9 at epoch=2; {optimizer: 'adam', lr: 0.001, width: 32} "
        "seed 9 at epoch=3"]


def test_a_table_without_nan_prints_nothing(tmp_path, capsys):
    _small(tmp_path)
    assert capsys.readouterr().err == ""


def test_a_table_edited_after_its_export_names_the_sidecar_in_its_error(tmp_path):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mfbench.blackbox.export import export_long_format
    from tests.conftest import tiny_blackbox

    path = export_long_format(tiny_blackbox(), tmp_path / "t.parquet", metric="loss", elapsed_time_attr="elapsed_time")
    import pyarrow as pa

    table = pq.read_table(path)
    extra = table.filter(pc.equal(table.column("x"), "c"))
    extra = extra.set_column(0, "x", pa.array(["d"] * len(extra)))  # a configuration added after the export
    pq.write_table(pa.concat_tables([table, extra]), path)
    with pytest.raises((ConfigError, TableError), match=r"read from the sidecar .*t\.json.*benchmark\.sidecar=false"):
        open_user_table(str(path), TableColumns(metric="loss"), cache="never")
    assert open_user_table(str(path), TableColumns(metric="loss", elapsed_time="elapsed_time"), sidecar=False,
                           cache="never").blackbox.evaluations.shape[0] == 4


def test_cost_per_fidelity_beside_an_elapsed_time_column_says_what_to_do_with_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,epoch,loss,elapsed_time\na,1,0.5,10\na,2,0.4,20\nb,1,0.6,5\nb,2,0.2,10\n")
    with pytest.raises(ConfigError, match=r"has a column 'elapsed_time': leave it out with benchmark\.ignore="):
        open_user_table(str(path), TableColumns(metric="loss", cost_per_fidelity=3.0), cache="never")
    table = open_user_table(str(path), TableColumns(metric="loss", cost_per_fidelity=3.0, ignore=["elapsed_time"]),
                            cache="never")
    assert table.blackbox.config_space.names == ["x"]


def test_an_unnamed_column_is_named_as_a_pandas_index_with_the_fix(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",x,epoch,loss,elapsed_time\n0,a,1,0.5,10\n1,a,2,0.4,20\n2,b,1,0.6,5\n3,b,2,0.2,10\n")
    with pytest.raises(ConfigError, match=r"column '' has no name \(a pandas index.*benchmark\.ignore=\[''\]"):
        open_user_table(str(path), TableColumns(metric="loss"), cache="never")
    table = open_user_table(str(path), TableColumns(metric="loss", ignore=[""]), cache="never")
    assert table.blackbox.config_space.names == ["x"]


def test_an_objective_column_with_every_cell_empty_is_all_failed_evaluations(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,epoch,loss,acc,elapsed_time\na,1,0.5,,10\na,2,0.4,,20\nb,1,0.6,,5\nb,2,0.2,,10\n")
    table = open_user_table(str(path), TableColumns(metric="loss", objectives=["loss", "acc"]), cache="never")
    acc = table.blackbox.evaluations[..., table.blackbox.objective_index("acc")]
    assert np.isnan(acc).all()
