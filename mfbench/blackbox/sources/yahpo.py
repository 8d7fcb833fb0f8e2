"""YAHPO Gym: the ONNX surrogates of every scenario of yahpo_data 1.0.2, run with onnxruntime.

One data source for the 15 scenarios of the release (:data:`SCENARIOS`): ``lcbench``,
``nb301``, ``fcnet``, ``iaml_{glmnet,rpart,ranger,xgboost,super}`` and
``rbv2_{glmnet,rpart,ranger,xgboost,svm,aknn,super}``. Each scenario is one folder of
yahpo_data (``config_space.json``, ``encoding.json``, ``model.onnx``); ``python -m
mfbench.data download yahpo`` fetches them all, ``convert yahpo --from YAHPO_DATA`` copies a
local copy (all scenario folders found, or one ``<scenario>/`` folder), into the cache folders
``yahpo_<scenario>``; ``data_dir=FOLDER`` uses a scenario folder in place.

Input encoding (exactly yahpo-gym 1.0.2's ``BenchmarkSet._config_to_xs``)
    The model takes ``x_cat`` (int32, one code per categorical input, the instance included,
    from ``encoding.json``) and ``x_cont`` (float32, the raw values of the numeric inputs, the
    fidelity included: the network holds its own input transforms), in the orders of the
    scenario's ``cat_names`` / ``cont_names`` (:class:`Scenario`). A hyperparameter that is
    *missing* from the configuration is imputed: ``"#na#"`` (which every ``encoding.json``
    codes) for a categorical, ``0`` for a numeric.

Conditional spaces (rbv2_xgboost's booster, the ``super`` scenarios, nb301, iaml_ranger...)
    ``config_space.json`` holds conditions (``EQ``, ``NEQ``, ``IN``, ``LT``, ``GT``, ``AND``,
    ``OR``): e.g. rbv2_xgboost's ``eta`` exists only for ``booster in {gbtree, dart}``. Our
    :class:`~mfbench.space.ConfigSpace` has no conditions, so the searchers see the *full*
    space: every hyperparameter always has a value, every sampled or proposed configuration is
    valid. The encoding then does what Syne Tune 0.13's YAHPO wrapper does before it calls
    yahpo-gym (``_prepare_yahpo_configuration``): it computes the *active* hyperparameters (a
    hyperparameter is active when its condition holds and the parents it names are active,
    ConfigSpace's rule) and drops the inactive ones, which yahpo-gym then imputes as
    missing. So an inactive value never reaches the model, and two configurations that differ
    only in inactive values get the same prediction. The cost is for model-based searchers:
    inactive coordinates are flat directions of the objective, and they search them anyway,
    as the reference's searchers do.

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

import difflib
import functools
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mfbench.blackbox.cache import BlackboxDataError, cache_root, read_manifest, sha256_of, staging, write_manifest
from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.sources.registry import COMMAND, DataSource, Remote
from mfbench.blackbox.surrogate import SurrogateBlackbox
from mfbench.errors import ConfigError
from mfbench.space import Categorical, ConfigSpace, Float, Hyperparameter, Integer

NAME = "yahpo"
#: the yahpo_data repository (the release's files; the same place as yahpo_lcbench's remote was)
YAHPO_DATA = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/main/"
#: the files of a scenario folder that a blackbox needs (param_set.R is R's copy of the space)
FILES = ("model.onnx", "config_space.json", "encoding.json")
#: what the model's categorical encoding uses for a missing (inactive) categorical
MISSING_CATEGORY = "#na#"
#: the value yahpo-gym gives a missing (inactive) numeric input
MISSING_NUMBER = 0.0
#: prefix of nb301's hyperparameter names, dropped from our names as Syne Tune does
NB301_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
#: the objectives that are maximised (yahpo-gym 1.0.2's ``y_minimize`` says minimise for rbv2's
#: f1, an error there: the reference maximises f1, as every other accuracy-like score)
MAXIMISED = frozenset({"val_accuracy", "val_balanced_accuracy", "test_balanced_accuracy", "acc", "bac", "auc", "f1"})
#: trainsize levels by default: Syne Tune's ``randint(1, 20) * 0.05``
DEFAULT_TRAINSIZE_LEVELS = FidelityLevels.linear(0.05, 1.0, 20)
#: Syne Tune's ``restrict_fidelities`` choices (the trainsize values the data was acquired at)
SAMPLED_TRAINSIZES = {
    "iaml": (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0),
    "rbv2": (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
}

_IAML_TARGETS = ("mmce", "f1", "auc", "logloss", "ramtrain", "rammodel", "rampredict", "timetrain", "timepredict",
                 "mec", "ias", "nf")
_RBV2_TARGETS = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")


@dataclass(frozen=True)
class Scenario:
    """What yahpo-gym 1.0.2 knows of a scenario (``yahpo_gym/benchmarks/*.py``), plus the reference's defaults.

    Attributes:
        name: the scenario (the yahpo_data folder).
        targets: the model's outputs, in order (``y_names``).
        cont_names: the numeric model inputs, in order (fidelity included).
        cat_names: the categorical model inputs, in order (instance included).
        instance_param: the hyperparameter naming the instance (``None``: nb301's single one).
        fidelity: ``epoch`` or ``trainsize``.
        runtime: the time objective (``runtime_name``), the benchmark's elapsed-time attribute.
        metric: the default metric (the reference's).
        instance: the default instance.
        max_wallclock_time: the default simulated budget in seconds (the reference's).
        reference: where the defaults come from.
        fixed_instances: the instances when there is no instance parameter.
        constants: inputs held fixed (rbv2's ``repl``: 10, as the reference).
        seed_param: the input that is the blackbox's seed (fcnet's ``replication``).
        name_prefix: a prefix dropped from the hyperparameter names (nb301).
    """

    name: str
    targets: tuple[str, ...]
    cont_names: tuple[str, ...]
    cat_names: tuple[str, ...]
    instance_param: str | None
    fidelity: str
    runtime: str
    metric: str
    instance: str
    max_wallclock_time: float
    reference: str
    fixed_instances: tuple[str, ...] = ()
    constants: Mapping[str, float] = field(default_factory=dict)
    seed_param: str | None = None
    name_prefix: str = ""

    @property
    def entry(self) -> str:
        """The cache folder of this scenario."""
        return f"yahpo_{self.name}"

    @property
    def family(self) -> str:
        """``iaml`` / ``rbv2`` for the trainsize scenarios, else the name."""
        return self.name.split("_")[0]


_ST = "Syne Tune 0.13 benchmark_definitions/yahpo.py"
_OURS = "not in the reference (Syne Tune 0.13 leaves it out): our choice"


def _iaml(learner: str, cont: tuple[str, ...], cats: tuple[str, ...], budget: float, reference: str = _ST) -> Scenario:
    return Scenario(f"iaml_{learner}", _IAML_TARGETS, cont + ("trainsize",), ("task_id",) + cats, "task_id",
                    "trainsize", "timetrain", "f1", "1489", budget, reference)


def _rbv2(learner: str, cont: tuple[str, ...], cats: tuple[str, ...], instance: str, reference: str = _ST) -> Scenario:
    # Syne Tune's per-instance budgets (yahpo_rbv2_max_wallclock_time.json) are in the named YAMLs;
    # 900 s is its default for an instance without one
    return Scenario(f"rbv2_{learner}", _RBV2_TARGETS, cont + ("trainsize", "repl"),
                    ("task_id",) + cats + ("num.impute.selected.cpo",), "task_id", "trainsize", "timetrain", "f1",
                    instance, 900.0, reference, constants={"repl": 10.0})


_XGB = ("nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth", "min_child_weight",
        "colsample_bytree", "colsample_bylevel", "rate_drop", "skip_drop")
_NB301_CATS = tuple(f"{NB301_PREFIX}{kind}_{i}" for kind in ("edge_normal", "edge_reduce") for i in range(14)) + tuple(
    f"{NB301_PREFIX}inputs_node_{kind}_{i}" for kind in ("normal", "reduce") for i in (3, 4, 5))

#: every scenario of yahpo_data 1.0.2, by name
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("lcbench", ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
                         "test_balanced_accuracy"),
             ("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
              "max_dropout"), ("OpenML_task_id",), "OpenML_task_id", "epoch", "time", "val_accuracy", "3945", 7200.0,
             _ST),
    Scenario("nb301", ("val_accuracy", "runtime"), ("epoch",), _NB301_CATS, None, "epoch", "runtime", "val_accuracy",
             "CIFAR10", 12 * 3600.0, _ST, fixed_instances=("CIFAR10",), name_prefix=NB301_PREFIX),
    Scenario("fcnet", ("valid_loss", "valid_mse", "runtime", "n_params"),
             ("epoch", "replication", "batch_size", "dropout_1", "dropout_2", "init_lr", "n_units_1", "n_units_2"),
             ("task", "activation_fn_1", "activation_fn_2", "lr_schedule"), "task", "epoch", "runtime", "valid_loss",
             "fcnet_protein_structure", 3600.0, _OURS + " (budget and metric: Syne Tune's tabulated fcnet)",
             seed_param="replication"),
    _iaml("glmnet", ("alpha", "s"), (), 180.0),
    _iaml("rpart", ("cp", "maxdepth", "minbucket", "minsplit"), (), 240.0),
    _iaml("ranger", ("num.trees", "sample.fraction", "mtry.ratio", "min.node.size", "num.random.splits"),
          ("replace", "respect.unordered.factors", "splitrule"), 300.0),
    _iaml("xgboost", _XGB, ("booster",), 300.0),
    _iaml("super", tuple(f"ranger.{n}" for n in ("num.trees", "sample.fraction", "mtry.ratio", "min.node.size",
                                                  "num.random.splits"))
          + tuple(f"rpart.{n}" for n in ("cp", "maxdepth", "minbucket", "minsplit"))
          + ("glmnet.alpha", "glmnet.s") + tuple(f"xgboost.{n}" for n in _XGB),
          ("learner", "ranger.replace", "ranger.respect.unordered.factors", "ranger.splitrule", "xgboost.booster"),
          300.0, _OURS),
    _rbv2("svm", ("cost", "gamma", "tolerance", "degree"), ("kernel",), "29"),
    _rbv2("ranger", ("num.trees", "sample.fraction", "mtry.power", "min.node.size", "num.random.splits"),
          ("respect.unordered.factors", "splitrule"), "151"),
    _rbv2("rpart", ("cp", "maxdepth", "minbucket", "minsplit"), (), "1111"),
    _rbv2("glmnet", ("alpha", "s"), (), "31"),
    _rbv2("xgboost", _XGB, ("booster",), "29"),
    _rbv2("aknn", ("k", "M", "ef", "ef_construction"), ("distance",), "31"),
    _rbv2("super", ("svm.cost", "svm.gamma", "svm.tolerance", "svm.degree", "glmnet.alpha", "glmnet.s", "rpart.cp",
                    "rpart.maxdepth", "rpart.minbucket", "rpart.minsplit", "ranger.num.trees",
                    "ranger.sample.fraction", "ranger.mtry.power", "ranger.min.node.size",
                    "ranger.num.random.splits", "aknn.k", "aknn.M", "aknn.ef", "aknn.ef_construction")
          + tuple(f"xgboost.{n}" for n in _XGB),
          ("learner_id", "svm.kernel", "ranger.respect.unordered.factors", "ranger.splitrule", "aknn.distance",
           "xgboost.booster"), "1040", _OURS),
)}

#: sha256 of the yahpo_data 1.0.2 files we have seen (the four scenarios vendored in tests/data);
#: the others are not pinned: ``download`` checks them against a sha256 the server sends, if any,
#: and ``convert`` checks that the model has the scenario's inputs and outputs
PINNED: dict[str, str] = {
    "lcbench/model.onnx": "b45c0d85ae39abf8820c8bea5ac82f415763afcbaf3b725e36af452b09cb6dcd",
    "lcbench/config_space.json": "4d1c78a91429b4a37628e13f286cf1abe15f778a09722a4c01714f2d72a8200d",
    "lcbench/encoding.json": "d8af928f412bbeb07e58ecd69877fcab35fbc595333d1c1c3f76120d2f2508da",
    "iaml_glmnet/model.onnx": "5c9b1541e37604993098ba23b04695bfe38d009108e9de0a26c3f161265b5a7a",
    "iaml_glmnet/config_space.json": "0ad5fb8f4205f54be13ded2af5f9b34f840914dc0457f1ed6be215b7885fb0f9",
    "iaml_glmnet/encoding.json": "e04ffd8c9bfdcb2e8b9c08c38d828e40d7be3ef90c8895f3e7e84b8b4348c3d1",
    "rbv2_rpart/model.onnx": "af34bb810107fd809bdd74be227685fb2a1c5cb7b1f3c2dde5629e42ef6819f3",
    "rbv2_rpart/config_space.json": "86de5b9c8f9bc2f82eaafa099b9920445ce6edbe56509c9736af71d53ef4a630",
    "rbv2_rpart/encoding.json": "e978cd3de5b8fbad4f7dbb7a15bed94738d37c24a0bfb3cbdf33509ba91df49c",
    "rbv2_xgboost/model.onnx": "85125b6d97f553d10cd50f9e632e1a3f1ad44bcb00300dd2880d70dfd043d9f3",
    "rbv2_xgboost/config_space.json": "acf4485d314d86801f61b615d64ffea7859c414c363da9e7f943621468ebbda4",
    "rbv2_xgboost/encoding.json": "0bd3cf9a4c9459a3148adf740f20b347fd11a6714f89348f41467a8f1206172a",
}
REMOTE_FILES = tuple(f"{scenario}/{file}" for scenario in SCENARIOS for file in FILES)


def rebuild(scenario: str) -> str:
    """The command that (re)builds the cache folder of ``scenario``."""
    return f"{COMMAND} download yahpo  (or: {COMMAND} convert yahpo --from YAHPO_DATA/{scenario})"


def did_you_mean(value: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def scenario_of(name: str) -> Scenario:
    """The scenario called ``name``.

    Raises:
        ConfigError: an unknown name (the message lists the scenarios, with a did-you-mean).
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"unknown YAHPO scenario {name!r}{did_you_mean(name, list(SCENARIOS))}; the scenarios "
                          f"of yahpo_data 1.0.2 are {list(SCENARIOS)}") from None


# ----------------------------------------------------------------------------- the config space
class Condition:
    """One ConfigSpace condition of ``config_space.json`` (``EQ``/``NEQ``/``IN``/``LT``/``GT``/``AND``/``OR``)."""

    KINDS = ("EQ", "NEQ", "IN", "LT", "GT", "AND", "OR")

    def __init__(self, spec: Mapping[str, Any], where: str) -> None:
        self.kind = spec.get("type")
        if self.kind not in self.KINDS:
            raise BlackboxDataError(f"{where}: condition type {self.kind!r} of {spec.get('child')!r} is not one mfbench "
                                    f"reads ({list(self.KINDS)}); this is not a yahpo_data 1.0.2 config space")
        self.parts = [Condition(part, where) for part in spec.get("conditions", ())]
        self.parent: str | None = spec.get("parent")
        self.value = spec.get("values" if self.kind == "IN" else "value")

    def parents(self) -> set[str]:
        """The hyperparameters this condition reads."""
        if self.parts:
            return set().union(*(part.parents() for part in self.parts))
        return {self.parent} if self.parent else set()

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``values`` (the values of its active parents)."""
        if self.kind == "AND":
            return all(part.holds(values) for part in self.parts)
        if self.kind == "OR":
            return any(part.holds(values) for part in self.parts)
        if self.parent not in values:  # an inactive parent makes the condition fail (ConfigSpace)
            return False
        value = values[self.parent]
        return {"EQ": lambda: value == self.value, "NEQ": lambda: value != self.value,
                "IN": lambda: value in self.value, "LT": lambda: value < self.value,
                "GT": lambda: value > self.value}[self.kind]()


@dataclass
class YahpoSpace:
    """A scenario's ``config_space.json``: its hyperparameters, conditions and constants.

    Attributes:
        hyperparameters: every hyperparameter by its yahpo name, as our domain (the instance,
            fidelity, constant and seed inputs included); constants are in :attr:`constants`.
        conditions: the condition of each conditional hyperparameter.
        constants: ``constant`` hyperparameters (always this value).
        fidelity_bounds: the ``(lower, upper)`` of the fidelity input.
    """

    hyperparameters: dict[str, Hyperparameter]
    conditions: dict[str, Condition]
    constants: dict[str, Any]
    fidelity_bounds: tuple[float, float]

    @classmethod
    def read(cls, path: Path, scenario: Scenario) -> YahpoSpace:
        """Parse ``config_space.json`` (ConfigSpace's JSON format 0.2).

        Raises:
            BlackboxDataError: unreadable JSON, a hyperparameter type or condition mfbench does
                not read, forbidden clauses, or the scenario's inputs missing.
        """
        try:
            spec = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise BlackboxDataError(f"{path} is not a readable config space ({error}); fetch it again with: "
                                    f"{rebuild(scenario.name)}") from None
        hyperparameters: dict[str, Hyperparameter] = {}
        constants: dict[str, Any] = {}
        for hp in spec.get("hyperparameters", ()):
            name, kind = hp["name"], hp["type"]
            if kind == "categorical":
                hyperparameters[name] = Categorical(name, tuple(hp["choices"]))
            elif kind == "ordinal":
                hyperparameters[name] = Categorical(name, tuple(hp["sequence"]))
            elif kind == "uniform_int":
                hyperparameters[name] = Integer(name, hp["lower"], hp["upper"], bool(hp.get("log", False)))
            elif kind == "uniform_float":
                hyperparameters[name] = Float(name, float(hp["lower"]), float(hp["upper"]), bool(hp.get("log", False)))
            elif kind == "constant":
                constants[name] = hp["value"]
            else:
                raise BlackboxDataError(f"{path}: hyperparameter {name!r} has type {kind!r}, which mfbench does not "
                                        f"read (categorical, ordinal, uniform_int, uniform_float, constant)")
        if spec.get("forbiddens"):
            raise BlackboxDataError(f"{path} has forbidden clauses, which mfbench's spaces cannot express: scenario "
                                    f"{scenario.name} is refused (yahpo_data 1.0.2 has none)")
        conditions = {c["child"]: Condition(c, str(path)) for c in spec.get("conditions", ())}
        known = set(hyperparameters) | set(constants)
        needed = (set(scenario.cont_names) | set(scenario.cat_names)) - known
        if needed:
            raise BlackboxDataError(f"{path} lacks the inputs {sorted(needed)} of scenario {scenario.name}: not its "
                                    f"config space; fetch it again with: {rebuild(scenario.name)}")
        fidelity = hyperparameters[scenario.fidelity]
        assert isinstance(fidelity, (Integer, Float))
        return cls(hyperparameters, conditions, constants, (fidelity.lower, fidelity.upper))

    def active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without the hyperparameters that are inactive (ConfigSpace's rule).

        A hyperparameter is active when it has no condition, or its condition holds on the
        values of its parents and each parent is active itself.
        """
        memo: dict[str, bool] = {}

        def is_active(name: str, depth: int = 0) -> bool:
            if name not in memo:
                condition = self.conditions.get(name)
                if condition is None:
                    memo[name] = True
                elif depth > len(self.conditions):
                    raise BlackboxDataError(f"the conditions of {name!r} form a cycle")
                else:
                    parents = {p: values[p] for p in condition.parents() if p in values and is_active(p, depth + 1)}
                    memo[name] = condition.holds(parents)
            return memo[name]

        return {name: value for name, value in values.items() if is_active(name)}


def search_space(space: YahpoSpace, scenario: Scenario) -> tuple[ConfigSpace, dict[str, str]]:
    """Our search space (every hyperparameter the searchers choose) and ``{our name: yahpo name}``.

    Left out: the instance, the fidelity, rbv2's ``repl`` and fcnet's ``replication`` (inputs the
    benchmark sets) and constants. Conditional hyperparameters stay in (see the module docstring).
    """
    fixed = {scenario.instance_param, scenario.fidelity, scenario.seed_param, *scenario.constants}
    names: dict[str, str] = {}
    hyperparameters = []
    for name, hp in space.hyperparameters.items():  # the file's order (LCBench: what yahpo_lcbench used)
        if name in fixed:
            continue
        ours = name[len(scenario.name_prefix):] if scenario.name_prefix and name.startswith(scenario.name_prefix) else name
        names[ours] = name
        hyperparameters.append(type(hp)(ours, hp.choices) if isinstance(hp, Categorical)
                               else type(hp)(ours, hp.lower, hp.upper, hp.log))
    return ConfigSpace(tuple(hyperparameters)), names


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
        scenario: one of :data:`SCENARIOS`.
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
