"""NAS-Bench-201 (NATS-Bench topology search space), converted exactly as Syne Tune does.

The table (Syne Tune's ``nasbench201_import.py``, reproduced value for value):

* hyperparameters ``hp_x0 .. hp_x5``: the operation on edges 0->1, 0->2, 1->2, 0->3,
  1->3, 2->3 (the order of the ops in the arch string), each a choice of
  :data:`OPERATIONS` (in Syne Tune's order); rows in NB201 architecture-index order;
* fidelity ``hp_epoch`` = 1..200 (value ``e`` is the record of epoch index ``e - 1``);
* 3 seeds (777, 888, 999); a missing seed is imputed, per architecture and epoch, by the
  mean of the seeds present (float32, as Syne Tune);
* 7 objectives (float32) per task ``cifar10``, ``cifar100``, ``ImageNet16-120``:

  ======================  ================================================================
  metric_valid_error      ``1 - eval_acc1es["ori-test@{e-1}"] / 100`` (the ori-test split)
  metric_train_error      ``1 - train_acc1es[e-1] / 100``
  metric_runtime          ``train_times[e-1] + eval_times["ori-test@{e-1}"]`` (s, this epoch)
  metric_elapsed_time     cumulative sum of metric_runtime over epochs (after imputation)
  metric_latency          ``latency[0]`` of seed 777
  metric_flops            ``flop`` of seed 777
  metric_params           ``params`` of seed 777
  ======================  ================================================================

Sources that :func:`convert` reads (all from the ``'200'`` training schedule):

(a) the NATS-Bench topology "simple" folder: ``meta.pickle.pbz2`` + ``{index:06d}.pickle.pbz2``;
(b) the single file ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (``{"total_archs", "arch2infos"}``);
    Syne Tune's own input. It is unpickled whole, as Syne Tune does: that needs a machine with
    a lot of memory (tens of GB); prefer (a) or (c);
(c) Syne Tune's converted ``nasbench201/`` folder (``objectives_evaluations.npy`` of shape
    (3, 15625, 3, 200, 7), ``hyperparameters.parquet``, ``metadata.json``), e.g. from its
    Hugging Face dataset ``synetune/blackbox-repository``.

Every pickle is read with the allow-list unpickler (:mod:`mfbench.blackbox.safe_pickle`).
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.stored import encode_configurations, open_tabular, write_tabular
from mfbench.space import Categorical

NAME = "nas201"
#: Syne Tune's order of the operation choices (the first one is the midpoint)
OPERATIONS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
HP_NAMES = tuple(f"hp_x{i}" for i in range(6))
FIDELITY = "hp_epoch"
FIDELITY_VALUES = np.arange(1, 201)
OBJECTIVES = (
    "metric_valid_error",
    "metric_train_error",
    "metric_runtime",
    "metric_elapsed_time",
    "metric_latency",
    "metric_flops",
    "metric_params",
)
TASKS = ("cifar10", "cifar100", "ImageNet16-120")
SEEDS = (777, 888, 999)
TOTAL_ARCHS = 15625
REBUILD = "python -m mfbench.data download nas201  (or: python -m mfbench.data convert nas201 --from PATH)"


def hyperparameters() -> tuple[Categorical, ...]:
    """The six edge operations, as Syne Tune defines them."""
    return tuple(Categorical(name, OPERATIONS) for name in HP_NAMES)


def arch_str_to_ops(arch_str: str) -> list[str]:
    """Operations of an arch string in string order (Syne Tune's ``str_to_list``).

    ``"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|..."`` -> ``["avg_pool_3x3", ...]``.
    """
    ops = []
    for node in arch_str.split("+"):
        for edge in (x for x in node.split("|") if x):
            parts = edge.split("~")
            if len(parts) != 2:
                raise ValueError(f"invalid edge {edge!r} in the arch string {arch_str!r}")
            ops.append(parts[0])
    if len(ops) != 6:
        raise ValueError(f"the arch string {arch_str!r} has {len(ops)} operations, expected 6")
    return ops


# ----------------------------------------------------------------------- one record
def record_values(record_200: Mapping[str, Any], task: str) -> dict[str, np.ndarray]:
    """Per-seed curves and constants of one architecture's ``'200'`` record for one task.

    Returns:
        ``valid_error``, ``train_error``, ``runtime``: float32 ``(3, 200)`` (NaN rows for a
        missing seed); ``latency``, ``flops``, ``params``: float64 scalars (seed 777).
    """
    results = record_200["all_results"]
    n = len(FIDELITY_VALUES)
    out = {k: np.full((len(SEEDS), n), np.nan, dtype=np.float32) for k in ("valid_error", "train_error", "runtime")}
    for s, seed in enumerate(SEEDS):
        try:
            result = results[(task, seed)]
            acc, train_acc = result["eval_acc1es"], result["train_acc1es"]
            train_times, eval_times = result["train_times"], result["eval_times"]
            out["valid_error"][s] = [1 - acc[f"ori-test@{e}"] / 100 for e in range(n)]
            out["train_error"][s] = [1 - train_acc[e] / 100 for e in range(n)]
            out["runtime"][s] = [train_times[e] + eval_times[f"ori-test@{e}"] for e in range(n)]
        except KeyError:  # Syne Tune: a seed with any missing value is missing as a whole
            for key in out:
                out[key][s] = np.nan
    first = results[(task, SEEDS[0])]
    out["latency"] = np.float64(first["latency"][0])
    out["flops"] = np.float64(first["flop"])
    out["params"] = np.float64(first["params"])
    return out


def impute_missing_seeds(values: np.ndarray) -> np.ndarray:
    """Replace NaN at (arch, seed, epoch) by the mean over the other seeds (in place, float32).

    ``values`` has shape ``(N, S, F)``; identical to Syne Tune's ``impute_values``.
    """
    missing = np.isnan(values)
    if missing.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all seeds missing -> NaN, as Syne Tune
            means = np.nanmean(values, axis=1, keepdims=True).astype(values.dtype)
        values[missing] = np.broadcast_to(means, values.shape)[missing]
    return values


def fill_task(per_record: Iterable[Mapping[str, np.ndarray]], out: np.ndarray) -> None:
    """Write one task's ``(N, 3, 200, 7)`` evaluations into ``out`` (float32).

    Args:
        per_record: :func:`record_values` of each architecture, in table row order (``N``).
        out: float32 array (or writable memmap) of shape ``(N, 3, 200, 7)``.
    """
    n_configs = out.shape[0]
    curves = {k: np.empty(out.shape[:3], dtype=np.float32) for k in ("valid_error", "train_error", "runtime")}
    constants = {k: np.empty(n_configs, dtype=np.float64) for k in ("latency", "flops", "params")}
    count = 0
    for i, values in enumerate(per_record):
        for key in curves:
            curves[key][i] = values[key]
        for key in constants:
            constants[key][i] = values[key]
        count += 1
    if count != n_configs:
        raise ValueError(f"expected {n_configs} records, got {count}")
    for key in curves:
        impute_missing_seeds(curves[key])
    out[..., 0] = curves["valid_error"]
    out[..., 1] = curves["train_error"]
    out[..., 2] = curves["runtime"]
    out[..., 3] = np.cumsum(curves["runtime"], axis=-1)
    for k, key in enumerate(("latency", "flops", "params")):
        out[..., 4 + k] = constants[key][:, None, None]


# ------------------------------------------------------------------- the three sources
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
    if (path / "meta.pickle.pbz2").is_file():
        return path
    return next(p for p in path.iterdir() if p.is_dir() and (p / "meta.pickle.pbz2").is_file())


def _load_record(file: str) -> Mapping[str, Any]:
    from mfbench.blackbox.safe_pickle import safe_load

    return safe_load(file)["200"]


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
    columns: dict[str, list[str]] = {name: [] for name in HP_NAMES}
    for index in indices:
        for name, op in zip(HP_NAMES, arch_str_to_ops(arch_strings[index])):
            columns[name].append(op)
    hps = hyperparameters()
    configurations = encode_configurations(hps, columns)

    if files is not None:  # read every file once, keep only the compact per-task values
        cached: list[dict[str, dict[str, np.ndarray]]] = []
        for record in _records_from_files(files, progress):
            if record["arch_str"] != arch_strings[record["arch_index"]]:
                raise ValueError(f"record {record['arch_index']} has arch {record['arch_str']!r}, meta says otherwise")
            cached.append({task: record_values(record, task) for task in TASKS})

        def values_for(task: str) -> Iterator[Mapping[str, np.ndarray]]:
            return (values[task] for values in cached)
    else:
        assert records_by_index is not None

        def values_for(task: str) -> Iterator[Mapping[str, np.ndarray]]:
            return (record_values(records_by_index[i], task) for i in indices)

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
    arch_strings = list(meta["meta_archs"])
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
    arch2infos = data["arch2infos"]
    total = int(data["total_archs"])
    indices = sorted(int(i) for i in arch2infos)
    if len(indices) != total and not allow_partial:
        raise ValueError(f"{path} holds {len(indices)} of {total} architectures; pass --allow-partial to convert them")
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


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
            allow_partial: bool = False, progress: bool = True) -> Path:
    """Convert any of the three NB201 sources into the cache; return the blackbox directory."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    kind = detect_source(path)
    if kind == "syne-tune":
        return convert_syne_tune(path, cache_dir, progress)
    if kind == "nats-simple":
        return convert_nats_simple(path, cache_dir, allow_partial, progress)
    return convert_nats_file(path, cache_dir, allow_partial, progress)


def write_syne_tune_layout(blackbox_dir: Path, out: Path) -> Path:
    """Write a converted nas201 blackbox in Syne Tune's ``nasbench201/`` layout (for parity checks)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mfbench.blackbox.stored import decode_configurations

    out.mkdir(parents=True, exist_ok=True)
    rows = decode_configurations(hyperparameters(), np.load(blackbox_dir / "configurations.npy"))
    pq.write_table(pa.table({name: [row[j] for row in rows] for j, name in enumerate(HP_NAMES)}),
                   out / "hyperparameters.parquet", compression="gzip")
    np.save(out / "fidelities_values.npy", FIDELITY_VALUES)
    stacked = np.stack([np.load(blackbox_dir / f"{task}.npy") for task in TASKS])
    np.save(out / "objectives_evaluations.npy", stacked.astype(np.float32), allow_pickle=False)
    (out / "metadata.json").write_text(json.dumps({
        "metric_elapsed_time": "metric_elapsed_time", "metric_default": "metric_valid_error", "time_attr": FIDELITY,
        "objectives_names": list(OBJECTIVES), "task_names": list(TASKS)}))
    return out


# ---------------------------------------------------------------------- the blackbox
def nas201_blackbox(task: str = "cifar100", cache_dir: str | None = None) -> TabularBlackbox:
    """Open the converted NB201 table of ``task`` from the cache (memory-mapped).

    Raises:
        BlackboxDataError: the data is not converted yet (the message names the command).
    """
    if task not in TASKS:
        raise ValueError(f"nas201: unknown task {task!r}; choose one of {list(TASKS)}")
    return open_tabular(NAME, task, cache_dir, REBUILD)
