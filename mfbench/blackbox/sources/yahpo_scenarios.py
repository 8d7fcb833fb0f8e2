"""The 15 scenarios of yahpo_data 1.0.2: what each model takes and returns, and the reference's defaults.

:class:`Scenario` holds what yahpo-gym 1.0.2 knows of a scenario (its model's inputs and
outputs, in order; its instance, fidelity and time inputs) and the defaults Syne Tune 0.13
gives it (metric, instance, budget); :data:`SCENARIOS` lists them all, :data:`PINNED` the
checksums of the files we have seen. Read by the data source
(:mod:`mfbench.blackbox.sources.yahpo`), the space reader
(:mod:`mfbench.blackbox.sources.yahpo_space`) and the benchmark factory
(:mod:`mfbench.benchmarks.yahpo`); nothing here opens a file.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.sources.registry import COMMAND
from mfbench.errors import ConfigError

#: the yahpo_data repository (the release's files; the same place as yahpo_lcbench's remote was)
YAHPO_DATA = "https://raw.githubusercontent.com/slds-lmu/yahpo_data/main/"
#: the files of a scenario folder that a blackbox needs (param_set.R is R's copy of the space)
FILES = ("model.onnx", "config_space.json", "encoding.json")
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
