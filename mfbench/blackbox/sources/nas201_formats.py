"""The three on-disk formats of NAS-Bench-201 that ``convert nas201`` reads, and their detection.

All three hold the ``'200'`` training schedule and give the same table
(:mod:`mfbench.blackbox.sources.nas201_table`):

(a) ``nats-simple``: the NATS-Bench topology "simple" folder, ``meta.pickle.pbz2`` +
    ``{index:06d}.pickle.pbz2`` (one file per architecture; read in parallel);
(b) ``nats-file``: the single file ``NATS-tss-v1_0-3ffb9.pickle.pbz2``
    (``{"total_archs", "arch2infos"}``), Syne Tune's own input. It is unpickled whole, as
    Syne Tune does: that needs a machine with a lot of memory (tens of GB); prefer (a) or (c);
(c) ``syne-tune``: Syne Tune's converted ``nasbench201/`` folder
    (``objectives_evaluations.npy`` of shape (3, 15625, 3, 200, 7),
    ``hyperparameters.parquet``, ``metadata.json``), e.g. from its Hugging Face dataset
    ``synetune/blackbox-repository``.

Every pickle is read with the allow-list unpickler (:mod:`mfbench.blackbox.safe_pickle`).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources.nas201_table import (FIDELITY, FIDELITY_VALUES, HP_NAMES, NAME, OBJECTIVES, SEEDS,
                                                   TASKS, TOTAL_ARCHS, arch_str_to_ops, fill_task, hyperparameters,
                                                   record_values)
from mfbench.blackbox.stored import encode_configurations, write_tabular

#: the formats, as :func:`detect_source` names them (and the manifests' ``source.kind``)
FORMATS = ("nats-simple", "nats-file", "syne-tune")


def detect_source(path: Path) -> str:
    """``"nats-simple"`` (a), ``"nats-file"`` (b) or ``"syne-tune"`` (c); ValueError otherwise."""
    if path.is_dir():
        if (path / "objectives_evaluations.npy").is_file():
            return "syne-tune"
        if (path / "nasbench201" / "objectives_evaluations.npy").is_file():
            return "syne-tune"
        if (path / "meta.pickle.pbz2").is_file():
            return "nats-simple"
        nested = [p for p in path.iterdir() if p.is_dir() and (p / "meta.pickle.pbz2").is_file()]
        if len(nested) == 1:
            return "nats-simple"
    elif path.is_file() and path.name.endswith((".pickle.pbz2", ".pbz2")):
        return "nats-file"
    raise ValueError(
        f"{path} is none of the NB201 sources mfbench converts: (a) the NATS-tss-v1_0-3ffb9-simple folder "
        "(meta.pickle.pbz2 + 000000.pickle.pbz2 ...), (b) the file NATS-tss-v1_0-3ffb9.pickle.pbz2, or (c) Syne "
        "Tune's nasbench201/ folder (objectives_evaluations.npy, hyperparameters.parquet, metadata.json)"
    )


def _simple_folder(path: Path) -> Path:
    """The folder holding ``meta.pickle.pbz2``: ``path`` itself or its one subfolder (an extracted tar)."""
    if (path / "meta.pickle.pbz2").is_file():
        return path
    return next(p for p in path.iterdir() if p.is_dir() and (p / "meta.pickle.pbz2").is_file())


@contextlib.contextmanager
def _nats_structure(path: str | os.PathLike[str]) -> Iterator[None]:
    """A pickle that unpickles (allowed types only) but is not NATS-Bench's data structure: a
    BlackboxDataError naming the file, not the KeyError / TypeError of the first missing key."""
    try:
        yield
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        raise BlackboxDataError(f"{path} does not hold NAS-Bench-201 data as NATS-Bench writes it "
                                f"({type(error).__name__}: {error}); point at the NATS-tss-v1_0-3ffb9-simple folder "
                                f"(or the single NATS-tss-v1_0-3ffb9.pickle.pbz2), extracted again") from None


def _load_record(file: str) -> Mapping[str, Any]:
    """The ``'200'`` record of one architecture file (module level: worker processes pickle it by name)."""
    from mfbench.blackbox.safe_pickle import safe_load

    data = safe_load(file)
    with _nats_structure(file):
        record = data["200"]
        if not isinstance(record["arch_str"], str) or not isinstance(record["arch_index"], int):
            raise TypeError("its arch_str / arch_index are not a string and an integer")
    return record


def _records_from_files(files: list[Path], progress: bool) -> Iterator[Mapping[str, Any]]:
    """``'200'`` records of the per-architecture files, in order (in parallel for many files)."""
    if len(files) < 64:
        yield from (_load_record(str(f)) for f in files)
        return
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        stream = pool.map(_load_record, [str(f) for f in files], chunksize=32)
        yield from tqdm(stream, total=len(files), desc="reading NATS records", disable=not progress, unit="arch")


def _convert_nats(records_by_index: Mapping[int, Mapping[str, Any]] | None, files: list[Path] | None,
                  arch_strings: list[str], indices: list[int], cache_dir: str | os.PathLike[str] | None,
                  source: Mapping[str, Any], progress: bool) -> Path:
    """Write the table of formats (a) and (b): from per-architecture ``files`` or in-memory records.

    Args:
        records_by_index: (b) the ``'200'`` records by architecture index, or ``None``.
        files: (a) the per-architecture files in ``indices`` order, or ``None``.
        arch_strings: the arch string of every NB201 index (from the meta data).
        indices: the architectures present, sorted (the table's rows).
        cache_dir: the cache root override.
        source: the manifest's ``source`` entry.
        progress: show a progress bar while reading the files.
    """
    columns: dict[str, list[str]] = {name: [] for name in HP_NAMES}
    for index in indices:
        for name, op in zip(HP_NAMES, arch_str_to_ops(arch_strings[index])):
            columns[name].append(op)
    hps = hyperparameters()
    configurations = encode_configurations(hps, columns)

    if files is not None:  # read every file once, keep only the compact per-task values
        cached: list[dict[str, dict[str, np.ndarray]]] = []
        for file, record in zip(files, _records_from_files(files, progress)):
            with _nats_structure(file):
                if record["arch_str"] != arch_strings[record["arch_index"]]:
                    raise ValueError(f"{file}: record {record['arch_index']} has arch {record['arch_str']!r}, the "
                                     f"meta data says otherwise")
                cached.append({task: record_values(record, task) for task in TASKS})

        def values_for(task: str) -> Iterator[Mapping[str, np.ndarray]]:
            return (values[task] for values in cached)
    else:
        assert records_by_index is not None

        def values_for(task: str) -> Iterator[Mapping[str, np.ndarray]]:
            for i in indices:
                with _nats_structure(source.get("path", "the NATS file")):
                    values = record_values(records_by_index[i], task)
                yield values

    partial = len(indices) != len(arch_strings)
    extra = {
        "description": "NAS-Bench-201 (NATS-Bench topology, 200 epochs), converted like Syne Tune's nasbench201",
        "partial": (f"only {len(indices)} of {len(arch_strings)} architectures (indices {indices[:10]}"
                    f"{'...' if len(indices) > 10 else ''})") if partial else False,
        "arch_indices": indices if partial else None,
    }
    return write_tabular(NAME, cache_dir, hps, configurations, FIDELITY, FIDELITY_VALUES, OBJECTIVES,
                         {task: (lambda out, task=task: fill_task(values_for(task), out)) for task in TASKS},
                         len(SEEDS), source, extra)


def convert_nats_simple(path: Path, cache_dir: str | os.PathLike[str] | None = None, allow_partial: bool = False,
                        progress: bool = True) -> Path:
    """Convert source (a), the NATS-tss "simple" folder."""
    from mfbench.blackbox.safe_pickle import safe_load

    folder = _simple_folder(path)
    meta = safe_load(folder / "meta.pickle.pbz2")
    with _nats_structure(folder / "meta.pickle.pbz2"):
        arch_strings = [str(arch) for arch in meta["meta_archs"]]
    indices = sorted(int(p.name.split(".")[0]) for p in folder.glob("[0-9]*.pickle.pbz2"))
    if len(indices) != len(arch_strings) and not allow_partial:
        raise ValueError(
            f"{folder} holds {len(indices)} of the {len(arch_strings)} architecture files: the archive is incomplete "
            "(extract all of NATS-tss-v1_0-3ffb9-simple.tar). To convert only these, pass --allow-partial."
        )
    if not indices:
        raise ValueError(f"{folder} holds no architecture files ({{index:06d}}.pickle.pbz2)")
    files = [folder / f"{i:06d}.pickle.pbz2" for i in indices]
    source = {"kind": "nats-simple", "path": str(folder.resolve()), "num_archs": len(indices)}
    return _convert_nats(None, files, arch_strings, indices, cache_dir, source, progress)


def convert_nats_file(path: Path, cache_dir: str | os.PathLike[str] | None = None, allow_partial: bool = False,
                      progress: bool = True) -> Path:
    """Convert source (b), the single ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (loads it whole)."""
    from mfbench.blackbox.safe_pickle import safe_load

    if progress:
        print(f"mfbench: unpickling {path} whole, as Syne Tune does (this takes long and needs much memory)")
    data = safe_load(path)
    with _nats_structure(path):
        arch2infos = data["arch2infos"]
        total = int(data["total_archs"])
        indices = sorted(int(i) for i in arch2infos)
        if len(indices) != total and not allow_partial:
            raise ValueError(f"{path} holds {len(indices)} of {total} architectures; pass --allow-partial to convert "
                             f"them")
        if data.get("meta_archs"):
            arch_strings = list(data["meta_archs"])
        else:
            arch_strings = [""] * total
            for i in indices:
                arch_strings[i] = arch2infos[i]["200"]["arch_str"]
        records = {i: arch2infos[i]["200"] for i in indices}
    source = {"kind": "nats-file", "path": str(Path(path).resolve()), "num_archs": len(indices)}
    return _convert_nats(records, None, arch_strings, indices, cache_dir, source, progress)


def convert_syne_tune(path: Path, cache_dir: str | os.PathLike[str] | None = None, progress: bool = True) -> Path:
    """Convert source (c), Syne Tune's ``nasbench201/`` folder (split per task, streamed)."""
    import pyarrow.parquet as pq

    folder = path if (path / "objectives_evaluations.npy").is_file() else path / "nasbench201"
    metadata = json.loads((folder / "metadata.json").read_text())
    objectives = list(metadata.get("objectives_names", []))
    if objectives != list(OBJECTIVES):
        raise ValueError(f"{folder}/metadata.json lists objectives {objectives}, expected {list(OBJECTIVES)}")
    task_names = list(metadata["task_names"])
    if sorted(task_names) != sorted(TASKS):
        raise ValueError(f"{folder}/metadata.json lists tasks {task_names}, expected {list(TASKS)}")
    evaluations = np.load(folder / "objectives_evaluations.npy", mmap_mode="r")
    table = pq.read_table(folder / "hyperparameters.parquet").to_pydict()
    n = len(table[HP_NAMES[0]])
    if evaluations.shape != (len(task_names), n, len(SEEDS), len(FIDELITY_VALUES), len(OBJECTIVES)):
        raise ValueError(f"{folder}/objectives_evaluations.npy has shape {evaluations.shape}, expected "
                         f"({len(task_names)}, {n}, 3, 200, 7): the download is incomplete or not NB201")
    fidelities = folder / "fidelities_values.npy"
    if fidelities.is_file() and not np.array_equal(np.load(fidelities).ravel(), FIDELITY_VALUES):
        raise ValueError(f"{fidelities} does not hold the epochs 1..200")
    configurations = encode_configurations(hyperparameters(), table)

    def fill(out: np.ndarray, position: int) -> None:
        for start in range(0, n, 1024):  # stream: at most ~17 MB in memory at a time
            out[start:start + 1024] = evaluations[position, start:start + 1024]

    source = {"kind": "syne-tune", "path": str(folder.resolve()), "metadata": metadata}
    extra = {"description": "NAS-Bench-201 (NATS-Bench topology, 200 epochs), Syne Tune's converted nasbench201",
             "partial": False if n == TOTAL_ARCHS else f"only {n} of {TOTAL_ARCHS} architectures"}
    tasks = {task: (lambda out, p=task_names.index(task): fill(out, p)) for task in TASKS}
    return write_tabular(NAME, cache_dir, hyperparameters(), configurations, FIDELITY, FIDELITY_VALUES, OBJECTIVES,
                         tasks, len(SEEDS), source, extra)
