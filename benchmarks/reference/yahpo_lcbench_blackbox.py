"""YAHPO Gym LCBench as a Syne Tune 0.13.0 ``Blackbox``: the reference side of the LCBench side-by-side.

Syne Tune 0.13 runs ``yahpo-lcbench`` through ``BlackBoxYAHPO``
(``syne_tune/blackbox_repository/conversion_scripts/scripts/yahpo_import.py``), which needs
``yahpo_gym`` and ``ConfigSpace``; neither is in the reference venv. This module gives the same
blackbox with onnxruntime alone, from a yahpo_data 1.0.2 ``lcbench/`` folder
(``config_space.json``, ``encoding.json``, ``model.onnx``; the repository vendors one in
``tests/data/yahpo-lcbench``). It runs in the reference venv (numpy 1.23.5) and never imports
mfbench; the model part (:class:`LCBenchModel`) needs only numpy and onnxruntime, so mfbench's
tests can import it too.

What is reproduced from ``BlackBoxYAHPO`` + ``yahpo_gym.BenchmarkSet`` (1.0.2):

* **Space.** ``get_opt_space(drop_fidelity_params=True)`` after ``set_instance``: the 7
  hyperparameters of ``config_space.json`` in its (ConfigSpace-sorted) order, integers as
  ``randint`` / ``lograndint`` and floats as ``uniform`` / ``loguniform`` (``cs_to_synetune``),
  plus ``OpenML_task_id`` as a constant (the instance). The fidelity ``epoch`` is
  ``randint(1, 52)``; ``fidelity_values`` are ``1..52``. One seed (the model is deterministic).
* **Inputs.** ``BenchmarkSet._config_to_xs``: ``x_cat`` (int32, shape ``(n, 1)``) = the code
  of the instance in ``encoding.json``; ``x_cont`` (float32, shape ``(n, 8)``) = the raw values
  of ``epoch, batch_size, learning_rate, momentum, weight_decay, num_layers, max_units,
  max_dropout`` (yahpo-gym's ``cont_names`` for lcbench; the network holds its own input
  transforms). LCBench has no conditions, so ``_prepare_yahpo_configuration`` drops nothing.
* **Outputs.** The network's 6 outputs in yahpo-gym's ``y_names`` order: ``time`` (cumulative
  training seconds), ``val_accuracy`` (%), ``val_cross_entropy``, ``val_balanced_accuracy``,
  ``test_cross_entropy``, ``test_balanced_accuracy``; float32 predictions stored as float64.
  Without a fidelity the blackbox returns all 52 epochs, shape ``(52, 6)`` (one ONNX batch, as
  ``BlackBoxYAHPO._objective_function`` does with a list of configurations).

``UserBlackboxBackend`` then does what it does for every blackbox: every result of a trial up
to its ``epochs`` comes from this ``(52, 6)`` array, ``time`` made strictly increasing by at
least 0.01 s (``_run_job_and_collect_results``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

#: the instance hyperparameter of the lcbench scenario (a categorical input of the model)
INSTANCE_PARAM = "OpenML_task_id"
#: the fidelity input
FIDELITY = "epoch"
#: yahpo-gym 1.0.2's ``cont_names`` of lcbench: the order of the model's ``x_cont`` columns
CONT_NAMES = ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
              "max_dropout")
#: yahpo-gym 1.0.2's ``y_names`` of lcbench: the order of the model's outputs
OBJECTIVES = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
              "test_balanced_accuracy")
FILES = ("config_space.json", "encoding.json", "model.onnx")


class LCBenchModel:
    """The LCBench ONNX network of one OpenML task, with yahpo-gym's input encoding.

    Args:
        folder: a yahpo_data 1.0.2 ``lcbench/`` folder (``config_space.json``, ``encoding.json``,
            ``model.onnx``).
        instance: the OpenML task id (a choice of ``OpenML_task_id`` in ``config_space.json``).

    Raises:
        FileNotFoundError: a file of the folder is missing.
        ValueError: an unknown instance, or a model without lcbench's inputs and outputs.
    """

    def __init__(self, folder: str | Path, instance: str) -> None:
        import onnxruntime

        folder = Path(folder)
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} lacks {missing}: point at a yahpo_data 1.0.2 lcbench/ folder "
                                    f"(the repository has one in tests/data/yahpo-lcbench)")
        spec = json.loads((folder / "config_space.json").read_text(encoding="utf-8"))
        by_name = {hp["name"]: hp for hp in spec["hyperparameters"]}
        instances = [str(c) for c in by_name[INSTANCE_PARAM]["choices"]]
        if str(instance) not in instances:
            raise ValueError(f"unknown LCBench instance {instance!r}; the OpenML task ids are {instances}")
        self.instance = str(instance)
        #: the search space's hyperparameter specs (``config_space.json`` entries), in the file's order
        self.hyperparameters: list[dict[str, Any]] = [hp for hp in spec["hyperparameters"]
                                                      if hp["name"] not in (INSTANCE_PARAM, FIDELITY)]
        fidelity = by_name[FIDELITY]
        #: the epochs, 1..52
        self.fidelity_values = np.arange(int(fidelity["lower"]), int(fidelity["upper"]) + 1)
        encoding = json.loads((folder / "encoding.json").read_text(encoding="utf-8"))
        self.instance_code = int(encoding[INSTANCE_PARAM][self.instance])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # as mfbench's session: small batches, and the result must not
        options.inter_op_num_threads = 1  # depend on the machine's thread count
        self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])
        inputs = [(i.name, i.shape[1]) for i in self.session.get_inputs()]
        outputs = [o.shape[1] for o in self.session.get_outputs()]
        if inputs != [("x_cat", 1), ("x_cont", len(CONT_NAMES))] or outputs != [len(OBJECTIVES)]:
            raise ValueError(f"{folder / 'model.onnx'} has inputs {inputs} and outputs {outputs}: not the YAHPO "
                             f"lcbench model")

    def encode(self, configs: Sequence[Mapping[str, Any]], epochs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """``(x_cat (n, 1) int32, x_cont (n, 8) float32)`` for ``configs[i]`` at ``epochs[i]``."""
        x_cat = np.full((len(configs), 1), self.instance_code, dtype=np.int32)
        x_cont = np.array([[float(epoch) if name == FIDELITY else float(config[name]) for name in CONT_NAMES]
                           for config, epoch in zip(configs, epochs)], dtype=np.float32).reshape(-1, len(CONT_NAMES))
        return x_cat, x_cont

    def predict(self, configs: Sequence[Mapping[str, Any]], epochs: Sequence[float]) -> np.ndarray:
        """The predictions, shape ``(n, 6)`` float64, columns :data:`OBJECTIVES`."""
        x_cat, x_cont = self.encode(configs, epochs)
        return self.session.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0].astype(np.float64)

    def curve(self, config: Mapping[str, Any]) -> np.ndarray:
        """Every epoch of one configuration, shape ``(52, 6)``."""
        return self.predict([config] * len(self.fidelity_values), self.fidelity_values)


def syne_tune_space(model: LCBenchModel) -> dict[str, Any]:
    """``cs_to_synetune(get_opt_space(drop_fidelity_params=True))`` with the instance set (needs Syne Tune)."""
    from syne_tune.config_space import loguniform, lograndint, randint, uniform

    space: dict[str, Any] = {INSTANCE_PARAM: model.instance}  # a Constant in the opt space: passed as is
    for hp in model.hyperparameters:
        if hp["type"] == "uniform_int":
            space[hp["name"]] = (lograndint if hp.get("log") else randint)(int(hp["lower"]), int(hp["upper"]))
        elif hp["type"] == "uniform_float":
            space[hp["name"]] = (loguniform if hp.get("log") else uniform)(float(hp["lower"]), float(hp["upper"]))
        else:
            raise ValueError(f"hyperparameter {hp['name']!r} of type {hp['type']!r}: not an lcbench space")
    return space


def make_blackbox(folder: str | Path, instance: str) -> Any:
    """A Syne Tune ``Blackbox`` evaluating the LCBench model of ``instance`` (needs Syne Tune 0.13)."""
    from syne_tune.blackbox_repository.blackbox import Blackbox
    from syne_tune.config_space import randint

    model = LCBenchModel(folder, instance)

    class YahpoLCBenchBlackbox(Blackbox):
        """``BlackBoxYAHPO`` for lcbench, one instance, without yahpo_gym (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__(configuration_space=syne_tune_space(model),
                             fidelity_space={FIDELITY: randint(int(model.fidelity_values[0]),
                                                               int(model.fidelity_values[-1]))},
                             objectives_names=list(OBJECTIVES))
            self.model = model
            self.num_seeds = 1

        @property
        def fidelity_values(self) -> np.ndarray:
            return self.model.fidelity_values

        def _objective_function(self, configuration: dict[str, Any], fidelity: dict | None = None,
                                seed: int | None = None) -> Any:
            if fidelity is not None:
                epoch = float(fidelity[FIDELITY])
                return dict(zip(self.objectives_names, self.model.predict([configuration], [epoch])[0].tolist()))
            return self.model.curve(configuration)

    return YahpoLCBenchBlackbox()
