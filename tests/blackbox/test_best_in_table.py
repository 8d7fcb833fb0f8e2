"""The table's best value every run's metadata records, the reference of the analysis' ``--regret table``."""
from __future__ import annotations

import numpy as np
import pytest

from mfbench.blackbox.analytic import hartmann_blackbox
from mfbench.blackbox.base import TabularBlackbox
from mfbench.space import ConfigSpace, Float


def _table(values: np.ndarray) -> TabularBlackbox:
    """A blackbox whose ``loss`` is ``values`` (shape (configs, seeds, fidelities)); elapsed time 1 s/epoch."""
    n, s, f = values.shape
    space = ConfigSpace((Float("x", 0.0, 1.0),), table=[(i / n,) for i in range(n)])
    elapsed = np.broadcast_to(np.arange(1.0, f + 1)[None, None, :], values.shape)
    return TabularBlackbox(space, np.arange(1, f + 1), ["loss", "elapsed_time"], np.stack([values, elapsed], -1))


def test_best_over_configurations_and_seeds_at_the_max_fidelity():
    # config 0: seeds (0.5, 0.1) at the last fidelity, mean 0.3; config 1: (0.2, 0.2), mean 0.2
    values = np.array([[[0.9, 0.5], [0.9, 0.1]], [[0.0, 0.2], [0.8, 0.2]]])  # (2 configs, 2 seeds, 2 fidelities)
    blackbox = _table(values)
    best = blackbox.best_in_table("loss", "min")
    assert best["best_in_table"] == pytest.approx(0.1)  # one seed's value: what a run can observe
    assert best["best_in_table_seed_mean"] == pytest.approx(0.2)
    assert "2 configurations x 2 table seeds at fidelity 2" in best["best_in_table_definition"]
    assert blackbox.best_in_table("loss", "max")["best_in_table"] == pytest.approx(0.5)
    # at fidelity 1 the lucky 0.0 counts
    assert blackbox.best_in_table("loss", "min", max_fidelity=1)["best_in_table"] == 0.0


def test_nan_cells_are_failed_evaluations_and_ignored():
    values = np.array([[[np.nan], [np.nan]], [[0.4], [np.nan]], [[0.7], [0.5]]])
    best = _table(values).best_in_table("loss", "min")
    assert best["best_in_table"] == pytest.approx(0.4) and best["best_in_table_seed_mean"] == pytest.approx(0.4)
    assert _table(np.full((2, 1, 1), np.nan)).best_in_table("loss", "min") == {}


def test_computed_once_and_errors_are_clear():
    blackbox = _table(np.random.default_rng(0).random((5, 3, 4)))
    first = blackbox.best_in_table("loss", "min")
    blackbox.evaluations = None  # a second call must not read the table again
    assert blackbox.best_in_table("loss", "min") == first
    fresh = _table(np.ones((2, 1, 3)))
    with pytest.raises(KeyError, match="available objectives"):
        fresh.best_in_table("accuracy", "min")
    with pytest.raises(ValueError, match="not among"):
        fresh.best_in_table("loss", "min", max_fidelity=7)
    with pytest.raises(ValueError, match="mode"):
        fresh.best_in_table("loss", "smallest")


def test_hartmann_seed_mean_matches_its_own_description():
    blackbox = hartmann_blackbox(3)
    best = blackbox.best_in_table("value", "min")
    assert best["best_in_table_seed_mean"] == pytest.approx(blackbox.describe()["best_in_table"])
    assert best["best_in_table"] <= best["best_in_table_seed_mean"]


def test_memory_mapped_table_is_read_in_blocks_with_the_same_values(tmp_path, monkeypatch):
    """A memory-mapped table: the cells are read block by block (each block's pages released
    from the mapping), with the same result as the in-memory table, whatever the block size."""
    import mfbench.blackbox.base as base

    rng = np.random.default_rng(0)
    values = rng.random((37, 3, 4))
    values[5, :, -1] = np.nan
    in_memory = _table(values)
    path = tmp_path / "evaluations.npy"
    stored = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=in_memory.evaluations.shape)
    stored[:] = in_memory.evaluations
    stored.flush()
    del stored
    mapped = np.load(path, mmap_mode="r")
    expected = in_memory.best_in_table("loss", "min")
    for block_bytes in (1, 500, 2**30):  # one row per block, a few rows, everything at once
        monkeypatch.setattr(base, "_CELLS_BLOCK_BYTES", block_bytes)
        blackbox = TabularBlackbox(in_memory.config_space, np.arange(1, 5), ["loss", "elapsed_time"], mapped)
        assert blackbox.best_in_table("loss", "min") == expected
        assert blackbox.best_in_table("loss", "max", max_fidelity=2) == in_memory.best_in_table("loss", "max", 2)
        cells = base._cells(mapped, blackbox.fidelity_positions(np.array([3])), 0)
        np.testing.assert_array_equal(cells, values[:, :, 2])


def _bits(best: dict) -> dict:
    """best_in_table's values as their bytes (== would take -0.0 for 0.0)."""
    return {k: np.float64(v).tobytes() if isinstance(v, float) else v for k, v in best.items()}


@pytest.mark.parametrize("seeds", [1, 3, 11])  # 11: more seeds than numpy sums in one plain loop
def test_the_stored_summary_gives_the_values_of_the_cells_bit_for_bit(seeds, monkeypatch):
    import mfbench.blackbox.base as base

    rng = np.random.default_rng(seeds)
    values = rng.random((41, seeds, 5)) * 10.0 ** rng.integers(-3, 4, size=(41, seeds, 5))
    values *= rng.choice([-1.0, 1.0], size=values.shape)
    values[3, :, :] = np.nan  # a configuration that failed everywhere
    values[7, 0, -1] = np.nan  # one failed seed
    values[:, :, 1] = np.nan  # a fidelity where every cell failed
    values[:, :, 2] = rng.choice([0.0, -0.0], size=values[:, :, 2].shape)  # zeros of both signs
    values[0, 0, 3], values[1, 0, 3] = np.inf, -np.inf
    plain = _table(values)
    for block_bytes in (1, 1000, 2**30):
        monkeypatch.setattr(base, "_CELLS_BLOCK_BYTES", block_bytes)
        summary = base.best_summary(plain.evaluations)
        assert summary.shape == (4, 5, 2) and summary.dtype == np.float64
        summarised = TabularBlackbox(plain.config_space, np.arange(1, 6), ["loss", "elapsed_time"],
                                     plain.evaluations, summary=summary)
        for mode in ("min", "max"):
            for fidelity in range(1, 6):
                for metric in ("loss", "elapsed_time"):
                    assert _bits(summarised.best_in_table(metric, mode, fidelity)) == \
                        _bits(plain.best_in_table(metric, mode, fidelity))
    assert summarised.best_in_table("loss", "min", 2) == {}
    assert np.signbit(summarised.best_in_table("loss", "min", 3)["best_in_table"]) == False  # noqa: E712 (+0.0)


def test_a_table_without_cells_has_no_best():
    import mfbench.blackbox.base as base

    empty = np.zeros((4, 0, 2, 2))
    assert np.isnan(base.best_summary(empty)).all() and base.best_summary(empty).shape == (4, 2, 2)


def test_a_summary_of_another_shape_is_refused():
    plain = _table(np.ones((2, 1, 3)))
    with pytest.raises(ValueError, match="summary has shape"):
        TabularBlackbox(plain.config_space, np.arange(1, 4), ["loss", "elapsed_time"], plain.evaluations,
                        summary=np.zeros((4, 2, 2)))


def test_a_stored_table_opens_with_its_summary_and_an_older_one_without(tmp_path):
    from mfbench.blackbox import stored
    from mfbench.blackbox.cache import read_manifest, write_manifest

    plain = _table(np.random.default_rng(1).random((6, 2, 3)))

    def fill(out):
        out[...] = plain.evaluations

    stored.write_tabular("toy", str(tmp_path), plain.config_space.hyperparameters,
                         np.array([[i / 6] for i in range(6)]), "epoch", [1, 2, 3], ["loss", "elapsed_time"],
                         {"t": fill}, 2, {"kind": "test"}, dtype=np.float64)
    opened = stored.open_tabular("toy", "t", str(tmp_path), "rebuild")
    assert opened.summary is not None
    assert opened.best_in_table("loss", "min") == plain.best_in_table("loss", "min")
    # a cache written before the summaries existed: no file, no manifest entry; computed from the cells
    manifest = read_manifest(tmp_path / "toy", "toy", "rebuild")
    (tmp_path / "toy" / stored.summary_file("t")).unlink()
    (tmp_path / "toy" / "summary").rmdir()
    body = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "name", "kind", "source",
                                                           "created", "files")}
    write_manifest(tmp_path / "toy", "toy", "tabular", manifest["source"], body)
    older = stored.open_tabular("toy", "t", str(tmp_path), "rebuild")
    assert older.summary is None and older.best_in_table("loss", "min") == plain.best_in_table("loss", "min")


def test_a_vouched_summary_of_the_wrong_shape_is_refused(tmp_path):
    from mfbench.blackbox import stored
    from mfbench.blackbox.cache import BlackboxDataError, read_manifest, write_manifest

    plain = _table(np.ones((3, 1, 2)))
    stored.write_tabular("toy", str(tmp_path), plain.config_space.hyperparameters, np.array([[0.0], [0.3], [0.6]]),
                         "epoch", [1, 2], ["loss", "elapsed_time"], {"t": lambda out: out.fill(1.0)}, 1, {"kind": "t"})
    manifest = read_manifest(tmp_path / "toy", "toy", "rebuild")
    np.save(tmp_path / "toy" / stored.summary_file("t"), np.zeros((4, 3, 2)))  # re-vouched below: only the shape is off
    body = {k: v for k, v in manifest.items() if k not in ("format", "format_version", "name", "kind", "source",
                                                           "created", "files")}
    write_manifest(tmp_path / "toy", "toy", "tabular", manifest["source"], body)
    with pytest.raises(BlackboxDataError, match="summary/t.npy holds float64 \\(4, 3, 2\\).*corrupt.*rebuild with: rebuild"):
        stored.open_tabular("toy", "t", str(tmp_path), "rebuild")
