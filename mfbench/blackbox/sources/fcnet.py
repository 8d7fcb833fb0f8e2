"""The FCNet data source: the tabular benchmarks of Klein & Hutter (2019), from the original HDF5 files.

*Tabular Benchmarks for Joint Architecture and Hyperparameter Optimization* (A. Klein, F. Hutter,
arXiv:1905.04970): a two-layer fully connected network trained for 100 epochs, 4 times (seeds),
for every one of the 62,208 configurations of a grid, on 4 regression data sets. The archive
``fcnet_tabular_benchmarks.tar.gz`` holds one HDF5 file per data set,
``fcnet_tabular_benchmarks/fcnet_<dataset>_data.hdf5``, with one group per configuration, named
by the JSON of the configuration (``json.dumps(config, sort_keys=True)``), holding
``valid_loss``, ``train_loss``, ``valid_mse``, ``train_mse`` (4 seeds x 100 epochs), ``runtime``,
``n_params``, ``final_test_error`` (4 seeds).

The table is Syne Tune 0.13's ``fcnet`` (its ``fcnet_import.py``), value for value:

* hyperparameters ``hp_<name>`` (:data:`GRID`, in that order), rows sorted by the group name
  (the HDF5 name order, which the reference iterates);
* fidelity ``hp_epoch`` = 1..100; 4 seeds (the HDF5 files' seed axis, in order);
* 5 objectives (float32): ``metric_valid_loss`` and ``metric_train_loss`` (the MSE curves;
  ``*_mse`` hold the same numbers and are not kept, as in the reference),
  ``metric_final_test_error`` and ``metric_n_params`` (constant over epochs), and
  ``metric_elapsed_time`` = ``e / 100 * runtime`` (the seed's total training time spread
  evenly over its epochs, as the original benchmark does; cumulative).

The one cache folder ``fcnet`` holds the 4 data sets as tasks; the benchmark YAMLs
``conf/benchmark/fcnet_{protein,naval,parkinsons,slice}.yaml`` name :func:`fcnet_blackbox`.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.cache import BlackboxDataError, cache_root
from mfbench.blackbox.sources.registry import COMMAND, ConvertOption, DataSource, Remote
from mfbench.blackbox.stored import encode_configurations, open_tabular, write_tabular
from mfbench.errors import ConfigError
from mfbench.space import Categorical, Float, Hyperparameter, Integer

#: the cache folder of the converted table
NAME = "fcnet"
REBUILD = f"{COMMAND} download fcnet  (or: {COMMAND} convert fcnet --from fcnet_tabular_benchmarks.tar.gz)"
ARCHIVE = "fcnet_tabular_benchmarks.tar.gz"
#: the reference's download location (``fcnet_import.py``), over https
URL_BASE = "https://ml4aad.org/wp-content/uploads/2019/01/"
#: the data sets (tasks), in the reference's order, and the short names of the benchmark YAMLs
TASKS = ("protein_structure", "naval_propulsion", "parkinsons_telemonitoring", "slice_localization")
SHORT_NAMES = {"protein": "protein_structure", "naval": "naval_propulsion", "parkinsons": "parkinsons_telemonitoring",
               "slice": "slice_localization"}
#: the grid of every hyperparameter (name in the HDF5 keys -> values), as the reference's space:
#: ``choice`` for the activations, ``init_lr`` and the schedule, ``(log)finrange`` for the others
GRID: dict[str, tuple[Any, ...]] = {
    "activation_fn_1": ("tanh", "relu"),
    "activation_fn_2": ("tanh", "relu"),
    "batch_size": (8, 16, 32, 64),
    "dropout_1": (0.0, 0.3, 0.6),
    "dropout_2": (0.0, 0.3, 0.6),
    "init_lr": (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1),
    "lr_schedule": ("cosine", "const"),
    "n_units_1": (16, 32, 64, 128, 256, 512),
    "n_units_2": (16, 32, 64, 128, 256, 512),
}
TOTAL_CONFIGS = int(np.prod([len(values) for values in GRID.values()]))  # 62,208
FIDELITY = "hp_epoch"
MAX_EPOCH = 100
FIDELITY_VALUES = np.arange(1, MAX_EPOCH + 1)
NUM_SEEDS = 4
OBJECTIVES = ("metric_valid_loss", "metric_train_loss", "metric_final_test_error", "metric_n_params",
              "metric_elapsed_time")
#: the per-configuration datasets read, with the shape each must have
CURVES = ("valid_loss", "train_loss")
PER_SEED = ("final_test_error", "n_params", "runtime")
_FILE = re.compile(r"(?:^|/)fcnet_(?P<task>[a-z_]+)_data\.hdf5$")


def hyperparameters() -> tuple[Hyperparameter, ...]:
    """The space of the table, as the reference declares it (``hp_`` + the HDF5 name).

    The finite ranges (batch size, units, dropout) are numbers, on the log scale where the
    reference's ``logfinrange`` is, so that model-based searchers see their order; the space
    is restricted to the table, so only grid values are ever proposed.
    """
    hps: list[Hyperparameter] = []
    for name, values in GRID.items():
        if name in ("batch_size", "n_units_1", "n_units_2"):
            hps.append(Integer(f"hp_{name}", min(values), max(values), log=True))
        elif name in ("dropout_1", "dropout_2"):
            hps.append(Float(f"hp_{name}", min(values), max(values)))
        else:
            hps.append(Categorical(f"hp_{name}", values))
    return tuple(hps)


# ----------------------------------------------------------------------- the input
def _task_of(path: Path | str) -> str | None:
    match = _FILE.search(str(path).replace(os.sep, "/"))
    return match["task"] if match and match["task"] in TASKS else None


def _corrupt(path: Path, what: str) -> BlackboxDataError:
    return BlackboxDataError(f"{path}: {what}; the file is corrupt or truncated: delete it and fetch it again: "
                             f"{REBUILD}")


def _extract(archive: Path, scratch: Path) -> dict[str, Path]:
    """The data sets' HDF5 files of ``archive`` (tar.gz), copied into ``scratch``; by task.

    Only the members named ``fcnet_<task>_data.hdf5`` are read, and written under names of
    our own, so a member's path cannot point outside ``scratch``.
    """
    found: dict[str, Path] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                task = _task_of(member.name)
                if task is None or not member.isfile():
                    continue
                target = scratch / f"fcnet_{task}_data.hdf5"
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 22)
                found[task] = target
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _corrupt(archive, f"not a readable tar.gz archive ({error})") from None
    return found


def _find_files(path: Path, scratch: Path) -> dict[str, Path]:
    """Each data set's HDF5 file in ``path``: the archive, its extracted folder (or the folder
    holding that), or one ``fcnet_<dataset>_data.hdf5``; archives are extracted into ``scratch``."""
    if path.is_file():
        if _task_of(path.name):
            return {_task_of(path.name): path}  # type: ignore[dict-item]
        return _extract(path, scratch)
    for folder in (path, path / "fcnet_tabular_benchmarks"):
        found = {task: folder / f"fcnet_{task}_data.hdf5" for task in TASKS
                 if (folder / f"fcnet_{task}_data.hdf5").is_file()}
        if found:
            return found
    if (path / ARCHIVE).is_file():
        return _extract(path / ARCHIVE, scratch)
    return {}


def _parse_key(key: str, path: Path) -> dict[str, Any]:
    """The configuration a group name stands for (JSON; the reference reads it as a Python literal)."""
    try:
        config = json.loads(key)
    except ValueError:
        try:
            config = ast.literal_eval(key)  # literals only: no code runs
        except (ValueError, SyntaxError):
            config = None
    if not isinstance(config, dict):
        raise BlackboxDataError(f"{path}: the group {key!r} is not named by a configuration (JSON); not an FCNet "
                                f"file of {ARCHIVE}")
    if set(config) != set(GRID):
        raise BlackboxDataError(f"{path}: the configuration {key!r} has the hyperparameters {sorted(config)}, "
                                f"FCNet's are {list(GRID)}")
    for name, value in config.items():
        if value not in GRID[name] or isinstance(value, bool):
            raise BlackboxDataError(f"{path}: the configuration {key!r} has {name}={value!r}, not one of FCNet's "
                                    f"{list(GRID[name])}")
    return config


def _open_hdf5(path: Path) -> Any:
    import h5py  # only the conversion needs it

    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise _corrupt(path, f"not a readable HDF5 file ({error})") from None


def read_keys(path: Path) -> list[str]:
    """The group names (configurations) of one data set's HDF5 file, sorted."""
    with _open_hdf5(path) as data:
        return sorted(data.keys())


def read_task(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """The raw values of the configurations ``keys`` (in that order) of one HDF5 file.

    Returns:
        ``valid_loss``, ``train_loss``: float32 ``(N, 4, 100)``; ``final_test_error``,
        ``n_params``, ``runtime`` (seconds for 100 epochs): float32 ``(N, 4)``.
    """
    n = len(keys)
    out = {name: np.empty((n, NUM_SEEDS, MAX_EPOCH), np.float32) for name in CURVES}
    out.update({name: np.empty((n, NUM_SEEDS), np.float32) for name in PER_SEED})
    with _open_hdf5(path) as data:
        present = set(data.keys())
        missing = [key for key in keys if key not in present]
        if missing or len(present) != n:
            raise BlackboxDataError(f"{path} holds {len(present)} configurations and lacks {len(missing)} of the "
                                    f"{n} of the first data set (e.g. {missing[:1]}), but every data set of {ARCHIVE} "
                                    f"holds the same ones: fetch it again: {REBUILD}")
        for i, key in enumerate(keys):
            group = data[key]
            for name in (*CURVES, *PER_SEED):
                try:
                    values = np.asarray(group[name][:], dtype=np.float32)
                except KeyError:
                    raise BlackboxDataError(f"{path}: configuration {key!r} has no {name!r}; not an FCNet file "
                                            f"of {ARCHIVE}") from None
                if values.shape != out[name].shape[1:]:
                    raise BlackboxDataError(f"{path}: {name} of {key!r} has shape {values.shape}, expected "
                                            f"{out[name].shape[1:]} (seeds{', epochs' if name in CURVES else ''})")
                out[name][i] = values
    return out


def fill_task(raw: Mapping[str, np.ndarray], out: np.ndarray) -> None:
    """Write one data set's ``(N, 4, 100, 5)`` evaluations (float32) from :func:`read_task`'s values.

    ``metric_elapsed_time`` is computed as the reference does: ``(e / 100)`` in float64 times
    the float32 runtime, then stored as float32.
    """
    out[..., 0] = raw["valid_loss"]
    out[..., 1] = raw["train_loss"]
    out[..., 2] = raw["final_test_error"][:, :, None]
    out[..., 3] = raw["n_params"][:, :, None]
    out[..., 4] = (FIDELITY_VALUES / MAX_EPOCH)[None, None, :] * raw["runtime"][:, :, None]


# ----------------------------------------------------------------------- converter
def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
            allow_partial: bool = False, progress: bool = True,
            report: Callable[[str], None] | None = None) -> Path:
    """Convert the FCNet HDF5 files into the cache; return the blackbox directory.

    Args:
        path: ``fcnet_tabular_benchmarks.tar.gz``, the folder it extracts to (or the one
            holding that), or a single ``fcnet_<dataset>_data.hdf5``.
        cache_dir: the cache root override.
        allow_partial: convert fewer than the 4 data sets or 62,208 configurations (a test
            fixture); the table is then marked ``partial``.
        progress: unused (one report line per data set instead).
        report: prints one line per converted data set.

    Raises:
        BlackboxDataError: no data set found, a corrupt archive or HDF5 file, data sets that
            disagree, values not in FCNet's layout, or an incomplete table without ``allow_partial``.
    """
    say = report or (lambda line: None)
    path = Path(path).expanduser()
    if not path.exists():
        raise BlackboxDataError(f"{path} does not exist; download {ARCHIVE}: {REBUILD}")
    root = cache_root(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    # an archive is extracted next to the cache (the same disk as the table, not /tmp)
    with tempfile.TemporaryDirectory(prefix=".fcnet-extract-", dir=root) as scratch:
        files = _find_files(path, Path(scratch))
        if not files:
            raise BlackboxDataError(f"{path} holds none of FCNet's files fcnet_<dataset>_data.hdf5 "
                                    f"(datasets {list(TASKS)}); give {ARCHIVE} or its extracted folder: {REBUILD}")
        tasks = [task for task in TASKS if task in files]
        keys = read_keys(files[tasks[0]])
        if not keys:
            raise _corrupt(files[tasks[0]], "no configuration in the file")
        configs = [_parse_key(key, files[tasks[0]]) for key in keys]
        missing_tasks = [task for task in TASKS if task not in files]
        partial = bool(missing_tasks) or len(keys) != TOTAL_CONFIGS
        if partial and not allow_partial:
            raise BlackboxDataError(
                f"{path} holds {len(keys)} of FCNet's {TOTAL_CONFIGS} configurations and the data sets {tasks}"
                f"{f' (missing: {missing_tasks})' if missing_tasks else ''}: an incomplete download? Pass --allow-partial to "
                f"convert what is there, or fetch it again: {REBUILD}")
        space = hyperparameters()
        columns = {f"hp_{name}": [config[name] for config in configs] for name in GRID}

        def filler(task: str) -> Callable[[np.ndarray], None]:
            def fill(out: np.ndarray) -> None:
                fill_task(read_task(files[task], keys), out)
                say(f"fcnet: converted {task} ({len(keys)} configurations x {NUM_SEEDS} seeds x {MAX_EPOCH} epochs)")
            return fill

        extra: dict[str, Any] = {"description": "FCNet tabular benchmarks (Klein & Hutter 2019), converted as Syne "
                                                "Tune's fcnet"}
        if partial:
            extra["partial"] = True
        return write_tabular(NAME, cache_dir, space, encode_configurations(space, columns), FIDELITY,
                             FIDELITY_VALUES, OBJECTIVES, {task: filler(task) for task in tasks}, NUM_SEEDS,
                             source={"kind": "fcnet-hdf5", "path": str(path)}, extra=extra)


def fcnet_blackbox(task: str = "protein_structure", cache_dir: str | None = None) -> TabularBlackbox:
    """Open the converted FCNet table of one data set from the cache (memory-mapped).

    Args:
        task: the data set (one of :data:`TASKS`, or its short name: ``protein``, ``naval``,
            ``parkinsons``, ``slice``).
        cache_dir: the cache root override.

    Raises:
        ConfigError: an unknown data set (the message lists them).
        BlackboxDataError: the data is not converted yet (the message names the command).
    """
    name = SHORT_NAMES.get(task, task)
    if name not in TASKS:
        from mfbench.config.choices import did_you_mean

        hint = did_you_mean(str(task), [*TASKS, *SHORT_NAMES])
        raise ConfigError(f"fcnet: unknown data set {task!r}; choose one of {list(TASKS)} (or {list(SHORT_NAMES)})"
                          + (f"; {hint}" if hint else ""))
    return open_tabular(NAME, name, cache_dir, REBUILD)


SOURCE = DataSource(
    name=NAME,
    description="FCNet tabular benchmarks (Klein & Hutter 2019): 62,208 configurations x 4 seeds x 100 epochs x 4 "
                "data sets, from the original HDF5 files, as Syne Tune converts them",
    remotes=(
        Remote("ml4aad", URL_BASE, (ARCHIVE,),
               manual=f"Or download {URL_BASE}{ARCHIVE} by hand (the URL of Syne Tune's fcnet_import.py) and run: "
                      f"{COMMAND} convert fcnet --from {ARCHIVE}",
               convert_file=True),
    ),
    convert=convert,
    factory=fcnet_blackbox,
    entries={NAME: REBUILD},
    options=(ConvertOption("--allow-partial", "allow_partial",
                           "convert fewer data sets or configurations than the full table (a test fixture)",
                           is_switch=True),),
)
