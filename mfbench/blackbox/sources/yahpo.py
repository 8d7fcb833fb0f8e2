"""YAHPO Gym: the ONNX surrogates of every scenario of yahpo_data 1.0.2, run with onnxruntime.

One data source for the 15 scenarios of the release
(:data:`~mfbench.blackbox.sources.yahpo_scenarios.SCENARIOS`): ``lcbench``, ``nb301``,
``fcnet``, ``iaml_{glmnet,rpart,ranger,xgboost,super}`` and
``rbv2_{glmnet,rpart,ranger,xgboost,svm,aknn,super}``. Each scenario is one folder of
yahpo_data (``config_space.json``, ``encoding.json``, ``model.onnx``); ``python -m
mfbench.data download yahpo`` fetches them all, ``convert yahpo --from YAHPO_DATA`` copies a
local copy (all scenario folders found, or one ``<scenario>/`` folder), into the cache folders
``yahpo_<scenario>``; ``data_dir=FOLDER`` uses a scenario folder in place.

The scenarios' catalogue is :mod:`mfbench.blackbox.sources.yahpo_scenarios`; reading a
config space and its conditions, :mod:`mfbench.blackbox.sources.yahpo_space`.

Input encoding (exactly yahpo-gym 1.0.2's ``BenchmarkSet._config_to_xs``)
    The model takes ``x_cat`` (int32, one code per categorical input, the instance included,
    from ``encoding.json``) and ``x_cont`` (float32, the raw values of the numeric inputs, the
    fidelity included: the network holds its own input transforms), in the orders of the
    scenario's ``cat_names`` / ``cont_names``
    (:class:`~mfbench.blackbox.sources.yahpo_scenarios.Scenario`). A hyperparameter that is
    *missing* from the configuration is imputed: ``"#na#"`` (which every ``encoding.json``
    codes) for a categorical, ``0`` for a numeric.

Fidelities
    * ``epoch`` (lcbench 1..52, nb301 1..98, fcnet 1..100): the integer epochs themselves;
      cumulative (a trial resumes), the time objective is cumulative.
    * ``trainsize`` (iaml, rbv2): the fraction of the training set, a continuous input in
      ``[0.03, 1]``. Each evaluation trains from scratch on that fraction, so the fidelity is
      *not cumulative* (``fidelity_is_cumulative = False``: the simulator charges a whole
      evaluation at each level) and ``timetrain`` is the time of that one training. It is
      discretised into the levels ``1..K`` of a :class:`~mfbench.blackbox.fidelity.FidelityLevels`:
      by default Syne Tune's choice, 20 levels ``trainsize = 0.05 k`` (``cs.randint(1, 20)``
      times ``0.05``); ``fidelity_levels=[0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]`` is the
      reference's ``restrict_fidelities`` for iaml (and ``[0.05, 0.1, 0.15, 0.2, 0.3, ...,
      1.0]`` for rbv2), any other list or ``{kind: linear|geometric, low, high, num}`` works.
    * ``repl`` (rbv2): the replication (cross-validation fold) of the data; a constant 10 as
      in the reference, which removes it from the fidelities (``repl=`` sets another).
    * fcnet's ``replication`` (1..4) is the blackbox's seed: seed ``s`` is replication ``s+1``.

The model is deterministic: one seed (fcnet: four).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.cache import BlackboxDataError, cache_root, read_manifest, sha256_of, staging, write_manifest
from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.sources.registry import COMMAND, DataSource, Remote
from mfbench.blackbox.sources.yahpo_scenarios import (DEFAULT_TRAINSIZE_LEVELS, FILES, PINNED, REMOTE_FILES,
                                                      SCENARIOS, YAHPO_DATA, Scenario, did_you_mean, rebuild,
                                                      scenario_of)
from mfbench.blackbox.sources.yahpo_space import YahpoSpace, search_space
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.errors import ConfigError
from mfbench.space import Categorical, Integer

NAME = "yahpo"
#: what the model's categorical encoding uses for a missing (inactive) categorical
MISSING_CATEGORY = "#na#"
#: the value yahpo-gym gives a missing (inactive) numeric input
MISSING_NUMBER = 0.0


# ------------------------------------------------------------------------------------- the model
def session(model: Path, scenario: Scenario) -> Any:
    """An onnxruntime session of ``model``, checked to have the scenario's inputs and outputs.

    Raises:
        BlackboxDataError: the file is not a readable ONNX model, or not this scenario's.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # batches are small (<= 100 rows); threads cost more than they give
    options.inter_op_num_threads = 1
    try:
        model_session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise BlackboxDataError(f"{model} is not a readable ONNX model ({error}); fetch it again with: "
                                f"{rebuild(scenario.name)}") from None
    inputs = [(i.name, i.shape[1]) for i in model_session.get_inputs()]
    outputs = [o.shape[1] for o in model_session.get_outputs()]
    expected = [("x_cat", len(scenario.cat_names)), ("x_cont", len(scenario.cont_names))]
    if inputs != expected or outputs != [len(scenario.targets)]:
        raise BlackboxDataError(f"{model} has inputs {inputs} and outputs {outputs}, expected {expected} and "
                                f"[{len(scenario.targets)}]: not the YAHPO {scenario.name} model; fetch it again "
                                f"with: {rebuild(scenario.name)}")
    return model_session


class YahpoModel:
    """One scenario's ONNX network for one instance, with yahpo-gym's input encoding.

    Args:
        folder: the scenario folder (cache or yahpo_data).
        scenario: the scenario.
        instance: the instance (validated against the config space).
        levels: the trainsize levels (``None`` for epoch fidelities).
        constants: the fixed inputs (rbv2's ``repl``).
    """

    def __init__(self, folder: Path, scenario: Scenario, instance: str, levels: FidelityLevels | None,
                 constants: Mapping[str, float]) -> None:
        self.scenario = scenario
        self.space = YahpoSpace.read(folder / "config_space.json", scenario)
        self.instances = instances_of(self.space, scenario)
        if instance not in self.instances:
            raise ConfigError(f"unknown instance {instance!r} of YAHPO {scenario.name}"
                              f"{did_you_mean(instance, self.instances)}; its {len(self.instances)} instances are "
                              f"{self.instances}")
        self.instance = instance
        try:
            self.encoding: dict[str, dict[str, int]] = json.loads((folder / "encoding.json").read_text())
        except (OSError, ValueError) as error:
            raise BlackboxDataError(f"{folder / 'encoding.json'} is not readable ({error}); fetch it again with: "
                                    f"{rebuild(scenario.name)}") from None
        self.levels = levels
        self.constants = {**self.space.constants, **constants}
        self.search_space, self.names = search_space(self.space, scenario)
        self.session = session(folder / "model.onnx", scenario)

    def fidelity_value(self, fidelities: np.ndarray) -> np.ndarray:
        """The model's fidelity input for our fidelities (trainsize levels -> fractions)."""
        return np.asarray(self.levels.values_at(fidelities) if self.levels is not None else fidelities, dtype=np.float64)

    def inputs(self, config: Mapping[str, Any], fidelity: float, seed: int) -> dict[str, Any]:
        """The yahpo configuration of ``config``: the active hyperparameters, the instance, the fidelity, constants."""
        values = self.space.active({self.names[name]: value for name, value in config.items()})
        values.update(self.constants)
        if self.scenario.instance_param is not None:
            values[self.scenario.instance_param] = self.instance
        if self.scenario.seed_param is not None:
            values[self.scenario.seed_param] = seed + 1
        values[self.scenario.fidelity] = fidelity
        return values

    def encode(self, configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(x_cat (n, C) int32, x_cont (n, D) float32)`` exactly as yahpo-gym builds them."""
        values = self.fidelity_value(np.asarray(fidelities))
        x_cat = np.empty((len(configs), len(self.scenario.cat_names)), dtype=np.int32)
        x_cont = np.empty((len(configs), len(self.scenario.cont_names)), dtype=np.float32)
        # A simulated trial asks for one configuration at many fidelities (the same object,
        # repeated): its inputs are built once, and only the fidelity column differs per row.
        rows_of: dict[int, list[int]] = {}
        for row, config in enumerate(configs):
            rows_of.setdefault(id(config), []).append(row)
        for rows in rows_of.values():
            cat_row, cont_row = self._encoded_row(configs[rows[0]], float(values[rows[0]]), seed)
            x_cat[rows] = cat_row
            x_cont[rows] = cont_row
        x_cont[:, self._fidelity_column] = values  # float64 -> float32, rounded as a row-wise assignment is
        return x_cat, x_cont

    @functools.cached_property
    def _fidelity_column(self) -> int:
        """The position of the fidelity among the numeric inputs (every scenario has it there)."""
        return self.scenario.cont_names.index(self.scenario.fidelity)

    def _encoded_row(self, config: Mapping[str, Any], fidelity: float, seed: int) -> tuple[list[int], list[float]]:
        """One row of ``x_cat`` and ``x_cont`` for ``config`` at ``fidelity`` (the model's value)."""
        inputs = self.inputs(config, fidelity, seed)
        cat_row = [self.encoding[name][str(inputs.get(name, MISSING_CATEGORY))] for name in self.scenario.cat_names]
        return cat_row, [inputs.get(name, MISSING_NUMBER) for name in self.scenario.cont_names]

    def __call__(self, configs: Sequence[Mapping[str, Any]], fidelities: np.ndarray, seed: int = 0) -> np.ndarray:
        x_cat, x_cont = self.encode(configs, np.asarray(fidelities), seed)
        return self.session.run(None, {"x_cat": x_cat, "x_cont": x_cont})[0]


def instances_of(space: YahpoSpace, scenario: Scenario) -> list[str]:
    """The scenario's instances (the choices of its instance parameter, or its fixed list)."""
    if scenario.instance_param is None:
        return list(scenario.fixed_instances)
    hp = space.hyperparameters[scenario.instance_param]
    assert isinstance(hp, Categorical)
    return [str(choice) for choice in hp.choices]


def parse_levels(scenario: Scenario, spec: Any, bounds: tuple[float, float]) -> FidelityLevels | None:
    """The trainsize levels of ``spec`` (``None``: the default), checked against the model's range.

    Raises:
        ConfigError: levels for an epoch fidelity, a malformed spec, or values outside the range.
    """
    if scenario.fidelity != "trainsize":
        if spec is not None:
            raise ConfigError(f"fidelity_levels is for the trainsize scenarios (iaml_*, rbv2_*); {scenario.name}'s "
                              f"fidelity is the integer epoch: use benchmark.max_fidelity to stop earlier")
        return None
    try:
        levels = DEFAULT_TRAINSIZE_LEVELS if spec is None else FidelityLevels.parse(spec)
    except ValueError as error:
        raise ConfigError(f"fidelity_levels: {error}") from None
    low, high = bounds
    if levels.values[0] < low - 1e-12 or levels.values[-1] > high + 1e-12:
        raise ConfigError(f"fidelity_levels {list(levels.values)} leave the trainsize range [{low}, {high}] "
                          f"of the YAHPO {scenario.name} model")
    return levels


# ----------------------------------------------------------------------------------- the factory
def check_folder(folder: Path, scenario: Scenario) -> dict[str, str]:
    """Check that ``folder`` holds a scenario's files; return ``{file: sha256}``.

    Raises:
        BlackboxDataError: a file is missing (the message names the folder to point at).
    """
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise BlackboxDataError(f"{folder} lacks {missing}: point at the {scenario.name}/ folder of yahpo_data "
                                f"({', '.join(FILES)}), or run: {rebuild(scenario.name)}")
    return {name: sha256_of(folder / name) for name in FILES}


def yahpo_blackbox(scenario: str = "lcbench", instance: str | int | None = None, fidelity_levels: Any = None,
                   repl: int = 10, cache_dir: str | None = None, data_dir: str | None = None) -> SurrogateBlackbox:
    """The YAHPO surrogate of one scenario and instance.

    Args:
        scenario: one of :data:`~mfbench.blackbox.sources.yahpo_scenarios.SCENARIOS`.
        instance: the instance (e.g. an OpenML task id; ``None``: the scenario's default).
        fidelity_levels: the trainsize levels (iaml, rbv2): a list of fractions or
            ``{kind: linear|geometric, low, high, num}``; ``None``: 20 levels ``0.05 k`` (the
            reference's). Refused for epoch scenarios.
        repl: rbv2's replication input (1..10; the reference's 10). Ignored elsewhere.
        cache_dir: the cache root override (the model is read from ``<cache>/yahpo_<scenario>``).
        data_dir: a yahpo_data ``<scenario>/`` folder to use in place instead of the cache.

    Raises:
        ConfigError: unknown scenario or instance, bad fidelity levels or repl.
        BlackboxDataError: the data is missing or corrupt (the message names the command that
            fetches it).
    """
    info = scenario_of(scenario)
    instance = info.instance if instance is None else str(instance)
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        check_folder(folder, info)
        source: dict[str, Any] = {"kind": "yahpo_data", "path": str(folder)}
    else:
        folder = cache_root(cache_dir) / info.entry
        source = read_manifest(folder, info.entry, rebuild(info.name), kind="surrogate")["source"]
    space = YahpoSpace.read(folder / "config_space.json", info)
    levels = parse_levels(info, fidelity_levels, space.fidelity_bounds)
    constants: dict[str, float] = {}
    if info.constants:
        if not 1 <= int(repl) <= 10:
            raise ConfigError(f"repl={repl}: rbv2's replication is 1..10 (the reference's is 10)")
        constants["repl"] = float(repl)
    model = YahpoModel(folder, info, instance, levels, constants)
    if levels is not None:
        fidelities = levels.levels()
    else:
        low, high = space.fidelity_bounds
        fidelities = np.arange(int(low), int(high) + 1)
    num_seeds = 1
    if info.seed_param is not None:
        seed_hp = space.hyperparameters[info.seed_param]
        assert isinstance(seed_hp, Integer)
        num_seeds = seed_hp.upper - seed_hp.lower + 1
    description: dict[str, Any] = {
        "name": info.entry, "scenario": info.name, "instance": instance, "source": source,
        "model": f"YAHPO Gym {info.name} ONNX",
        "fidelity": info.fidelity, "fidelity_is_cumulative": levels is None,
        "description": f"YAHPO Gym {info.name} surrogate, instance {instance} (deterministic"
                       + (f", {num_seeds} replications as seeds)" if num_seeds > 1 else ", 1 seed)"),
    }
    if levels is not None:
        description["fidelity_levels"] = list(levels.values)
    if constants:
        description["constants"] = constants
    # trainsize: each evaluation trains from scratch (the simulator charges whole evaluations)
    return SurrogateBlackbox(model.search_space, fidelities, info.targets, model, num_seeds=num_seeds,
                             description=description, fidelity_is_cumulative=levels is None)


# --------------------------------------------------------------------------------- the converter
def _scenario_folders(path: Path) -> dict[str, Path]:
    """The scenario folders under ``path``: a yahpo_data folder, or one ``<scenario>/`` folder."""
    if (path / "config_space.json").is_file():  # one scenario's folder: its name says which
        name = path.name.removeprefix("yahpo-")
        if name not in SCENARIOS:
            raise BlackboxDataError(f"{path} holds one scenario's files, but its name is not a scenario: name the "
                                    f"folder after it (one of {list(SCENARIOS)}) or point at the yahpo_data folder")
        return {name: path}
    return {name: path / name for name in SCENARIOS if (path / name).is_dir()}


def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None, progress: bool = True,
            report: Callable[[str], None] | None = None, scenarios: Sequence[str] | None = None) -> Path:
    """Copy the scenario folders of a yahpo_data copy into the cache, one ``yahpo_<scenario>`` each.

    Every scenario found is checked (files, config space, model inputs and outputs) before it
    is copied; files that differ from the pinned 1.0.2 ones give a warning. Scenarios that are
    absent are reported and skipped (a local copy may hold only some).

    Args:
        path: the yahpo_data folder, or one ``<scenario>/`` folder.
        cache_dir: the cache root override.
        progress: unused (copying a few files per scenario is quick; the contract passes it).
        report: prints one line per converted scenario.
        scenarios: convert only these (default: every scenario found).

    Returns:
        The cache root (the folder holding the ``yahpo_<scenario>`` folders).

    Raises:
        BlackboxDataError: no scenario folder found, or a scenario's files are not usable.
    """
    folder = Path(path).expanduser()
    found = _scenario_folders(folder)
    if scenarios is not None:
        found = {name: found[name] for name in scenarios if name in found}
    if not found:
        raise BlackboxDataError(f"{folder} holds no YAHPO scenario folder ({list(SCENARIOS)}): point at the "
                                f"yahpo_data folder or one of its scenario folders")
    root = cache_root(cache_dir)
    for name, scenario_folder in found.items():
        info = SCENARIOS[name]
        checksums = check_folder(scenario_folder, info)
        other = [f for f, digest in checksums.items() if PINNED.get(f"{name}/{f}", digest) != digest]
        if other:
            warnings.warn(f"{name}: {other} differ from the yahpo_data 1.0.2 files mfbench was tested with; "
                          f"converting anyway", stacklevel=2)
        space = YahpoSpace.read(scenario_folder / "config_space.json", info)  # refuses what we cannot read
        session(scenario_folder / "model.onnx", info)  # refuses a file that is not this scenario's network
        pinned = all(f"{name}/{f}" in PINNED for f in FILES) and not other
        with staging(root / info.entry) as directory:
            for file in FILES:
                shutil.copyfile(scenario_folder / file, directory / file)
            source = {"kind": "yahpo_data", "version": "1.0.2" if pinned else "unknown (not pinned)",
                      "path": str(scenario_folder.resolve())}
            body = {"scenario": name, "fidelity": info.fidelity, "objectives": list(info.targets),
                    "num_seeds": 1, "tasks": instances_of(space, info),
                    "description": f"YAHPO Gym {name} surrogate (ONNX, yahpo_data {name})"}
            write_manifest(directory, info.entry, "surrogate", source, body)
        if report is not None:
            report(f"{info.entry}: {name} converted")
    missing = [name for name in (scenarios or SCENARIOS) if name not in found]
    if missing and report is not None:
        report(f"not in {folder} (not converted): {missing}")
    return root


SOURCE = DataSource(
    name=NAME,
    description="YAHPO Gym: the ONNX surrogates of all 15 scenarios of yahpo_data 1.0.2",
    remotes=(Remote("yahpo_data", YAHPO_DATA, REMOTE_FILES, sha256=tuple(PINNED.get(f) for f in REMOTE_FILES),
                    manual=f"Or get the yahpo_data repository (v1.0.2) by hand and run: "
                           f"{COMMAND} convert yahpo --from FOLDER"),),
    convert=convert,
    factory=yahpo_blackbox,
    entries={info.entry: rebuild(name) for name, info in SCENARIOS.items()},
)
