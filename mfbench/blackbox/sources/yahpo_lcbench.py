"""YAHPO Gym LCBench: the ONNX surrogate of yahpo_data 1.0.2, run with onnxruntime.

The model predicts the learning curve (epochs 1..52) of a funnel-shaped MLP on 34 OpenML
tasks (the benchmark instances) for any configuration of 7 hyperparameters. The input
encoding is the one of the ``yahpo-gym`` package (``BenchmarkSet._config_to_xs``):

* ``x_cat``: int32 ``(n, 1)``, the task id's code in ``encoding.json``;
* ``x_cont``: float32 ``(n, 8)``, the raw values of ``epoch, batch_size, learning_rate,
  momentum, weight_decay, num_layers, max_units, max_dropout`` (no scaling: the network
  holds its own input transforms);
* output: float32 ``(n, 6)`` = ``time, val_accuracy, val_cross_entropy,
  val_balanced_accuracy, test_cross_entropy, test_balanced_accuracy`` (``time`` is the
  cumulative training time in seconds; val_accuracy is in %).

The model is deterministic: the blackbox has one seed. Files (model.onnx, config_space.json,
encoding.json) come from the yahpo_data repository, folder ``lcbench/``; ``python -m
mfbench.data download yahpo_lcbench`` fetches them, ``convert yahpo_lcbench --from DIR`` copies
a local copy into the cache, and ``data_dir=DIR`` uses a folder in place.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.cache import BlackboxDataError, cache_root, read_manifest, sha256_of, staging, write_manifest
from mfbench.blackbox.sources.registry import COMMAND, DataSource, Remote
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.space import ConfigSpace, Float, Integer

NAME = "yahpo_lcbench"
REBUILD = f"{COMMAND} download yahpo_lcbench  (or: {COMMAND} convert yahpo_lcbench --from YAHPO_DATA/lcbench)"
YAHPO_LCBENCH = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/main/lcbench/"
#: the files we need, with the sha256 of yahpo_data 1.0.2 (checked against tests/data/yahpo-lcbench)
FILES: dict[str, str] = {
    "model.onnx": "b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd",
    "config_space.json": "4d1c78a91429b4a37628e13f286cf1abe15f778a09722a4c01714f2d72a8200d",
    "encoding.json": "d8af928f412bbeb07e58ecd69877fcab35fbc595333d1c1c3f76120d2f2508da",
}
INSTANCE = "OpenML_task_id"
FIDELITY = "epoch"
CONT_NAMES = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
              "max_dropout")
OBJECTIVES = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
              "test_balanced_accuracy")
#: the 34 OpenML task ids (instances), as in config_space.json
INSTANCES = ("3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149", "167152",
             "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201", "168329", "168330",
             "168331", "168335", "168868", "168908", "168910", "189354", "189862", "189865", "189866", "189873",
             "189905", "189906", "189908", "189909")


def check_folder(folder: Path) -> dict[str, str]:
    """Check that ``folder`` holds the LCBench files; return ``{file: sha256}``."""
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise BlackboxDataError(f"{folder} lacks {missing}: point at the lcbench/ folder of yahpo_data "
                                f"(model.onnx, config_space.json, encoding.json)")
    return {name: sha256_of(folder / name) for name in FILES}


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None, progress: bool = True,
            report: Callable[[str], None] | None = None) -> Path:
    """Copy a yahpo_data ``lcbench/`` folder into the cache (checks files and model).

    Args:
        path: the ``lcbench/`` folder, or the yahpo_data folder holding it.
        cache_dir: the cache root override.
        progress, report: unused: copying three files is one quick step (the data-source
            contract passes them).
    """
    folder = Path(path).expanduser()
    if (folder / "lcbench").is_dir():
        folder = folder / "lcbench"
    checksums = check_folder(folder)
    other = [name for name, digest in checksums.items() if digest != FILES[name]]
    if other:
        warnings.warn(f"{other} differ from the yahpo_data 1.0.2 files mfbench was tested with; converting anyway",
                      stacklevel=2)
    _session(folder / "model.onnx")  # refuses a file that is not the LCBench network
    target = cache_root(cache_dir) / NAME
    with staging(target) as directory:
        for name in FILES:
            shutil.copyfile(folder / name, directory / name)
        source = {"kind": "yahpo_data", "version": "1.0.2" if not other else "unknown", "path": str(folder.resolve())}
        body = {"fidelity": {"name": FIDELITY, "values": list(range(1, 53))}, "objectives": list(OBJECTIVES),
                "num_seeds": 1, "tasks": list(INSTANCES),
                "description": "YAHPO Gym LCBench surrogate (ONNX, yahpo_data lcbench)"}
        write_manifest(directory, NAME, "surrogate", source, body)
    return target


def _session(model: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # batches are small (<= 52 rows); threads cost more than they give
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise BlackboxDataError(f"{model} is not a readable ONNX model ({error}); fetch it again with: {REBUILD}") from None
    inputs = [(i.name, i.shape[1]) for i in session.get_inputs()]
    outputs = [o.shape[1] for o in session.get_outputs()]
    if inputs != [("x_cat", 1), ("x_cont", len(CONT_NAMES))] or outputs != [len(OBJECTIVES)]:
        raise BlackboxDataError(f"{model} has inputs {inputs} and outputs {outputs}: not the YAHPO LCBench model")
    return session


def config_space_from_json(path: Path) -> tuple[ConfigSpace, np.ndarray]:
    """The 7-hyperparameter space and the epochs, from yahpo's ``config_space.json``."""
    spec = json.loads(path.read_text())
    hyperparameters = []
    fidelities = None
    for hp in spec["hyperparameters"]:
        if hp["name"] == INSTANCE:
            continue
        if hp["name"] == FIDELITY:
            fidelities = np.arange(int(hp["lower"]), int(hp["upper"]) + 1)
            continue
        cls = {"uniform_int": Integer, "uniform_float": Float}.get(hp["type"])
        if cls is None:
            raise ValueError(f"{path}: unsupported hyperparameter type {hp['type']!r} of {hp['name']!r}")
        hyperparameters.append(cls(hp["name"], hp["lower"], hp["upper"], bool(hp.get("log", False))))
    if fidelities is None:
        raise ValueError(f"{path} has no {FIDELITY!r} hyperparameter")
    return ConfigSpace(tuple(hyperparameters)), fidelities


class LCBenchModel:
    """The ONNX network with yahpo-gym's input encoding, for one instance."""

    def __init__(self, folder: Path, instance: str) -> None:
        encoding = json.loads((folder / "encoding.json").read_text())[INSTANCE]
        if instance not in INSTANCES or instance not in encoding:
            raise ValueError(f"yahpo_lcbench: unknown instance {instance!r}; the 34 OpenML task ids are {list(INSTANCES)}")
        self.code = int(encoding[instance])
        self.session = _session(folder / "model.onnx")
        self.input_names = [i.name for i in self.session.get_inputs()]

    def encode(self, configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x_cat (n, 1) int32, x_cont (n, 8) float32)`` exactly as yahpo-gym builds them."""
        x_cont = np.empty((len(configs), len(CONT_NAMES)), dtype=np.float32)
        x_cont[:, 0] = fidelities
        for j, name in enumerate(CONT_NAMES[1:], start=1):
            x_cont[:, j] = [c[name] for c in configs]
        x_cat = np.full((len(configs), 1), self.code, dtype=np.int32)
        return x_cat, x_cont

    def __call__(self, configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray, seed: int = 0) -> np.ndarray:
        x_cat, x_cont = self.encode(configs, np.asarray(fidelities))
        return self.session.run(None, {self.input_names[0]: x_cat, self.input_names[1]: x_cont})[0]


def yahpo_lcbench_blackbox(instance: str = "3945", cache_dir: str | None = None,
                           data_dir: str | None = None) -> SurrogateBlackbox:
    """The LCBench surrogate of one OpenML task.

    Args:
        instance: the OpenML task id (one of :data:`INSTANCES`).
        cache_dir: the cache root override (the model is read from ``<cache>/yahpo_lcbench``).
        data_dir: a yahpo_data ``lcbench/`` folder to use in place instead of the cache.
    """
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        check_folder(folder)
        source: dict[str, Any] = {"kind": "yahpo_data", "path": str(folder)}
    else:
        folder = cache_root(cache_dir) / NAME
        source = read_manifest(folder, NAME, REBUILD, kind="surrogate")["source"]
    space, fidelities = config_space_from_json(folder / "config_space.json")
    model = LCBenchModel(folder, str(instance))
    description = {"name": NAME, "instance": str(instance), "source": source, "model": "YAHPO Gym LCBench ONNX",
                   "description": f"YAHPO Gym LCBench surrogate, OpenML task {instance} (deterministic, 1 seed)"}
    return SurrogateBlackbox(space, fidelities, OBJECTIVES, model, num_seeds=1, description=description)


SOURCE = DataSource(
    name=NAME,
    description="YAHPO Gym LCBench: the ONNX surrogate of yahpo_data 1.0.2 (34 OpenML tasks, 52 epochs)",
    remotes=(Remote("yahpo_data", YAHPO_LCBENCH, tuple(FILES), sha256=tuple(FILES.values()),
                    manual=f"Or get the lcbench/ folder of the yahpo_data repository (v1.0.2) by hand and run: "
                           f"{COMMAND} convert yahpo_lcbench --from FOLDER"),),
    convert=convert,
    factory=yahpo_lcbench_blackbox,
    entries={NAME: REBUILD},
)
