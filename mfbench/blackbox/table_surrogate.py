"""Surrogates over tables: a scikit-learn regression model fitted to a tabular blackbox.

``benchmark.surrogate=knn`` (and ``surrogate_kwargs``, ``config_space_surrogate``,
``surrogate_seeds``) wraps any :class:`~mfbench.blackbox.base.TabularBlackbox` so that a
configuration that is not in the table gets every objective at every fidelity. This is
Syne Tune 0.13's ``add_surrogate`` (``blackbox_repository/blackbox_surrogate.py``) as its
simulated backend calls it (``BlackboxRepositoryBackend(surrogate=..., surrogate_kwargs=...,
config_space_surrogate=...)``), with the defaults a tabular blackbox gets there:

Inputs and outputs (the reference's ``predict_curves=True``, its default for tables)
    The model maps the hyperparameters of a configuration (not the fidelity) to the whole
    curve: all ``F`` fidelities x ``O`` objectives, one output column each (multi-output
    regression). A prediction is thus a curve at once, and for estimators that average
    training curves (k-NN, forests) properties kept by averaging hold for every prediction
    (a cumulative elapsed time stays increasing). The reference's ``predict_curves=False``
    (fidelity as an input, its default only for its ``BlackboxOffline``) is not offered.

Features (the reference's ``make_model_pipeline``)
    The hyperparameters' types in the *surrogate's* space decide: a categorical is one-hot
    encoded over the values the table holds (a value the table never holds encodes as all
    zeros, as ``OneHotEncoder(handle_unknown="ignore")``), a number is standardised
    (``StandardScaler``: mean 0, standard deviation 1 over the fit set; a constant column
    keeps scale 1); categoricals come first, then numbers, in space order; finally every
    column is divided by its standard deviation (``StandardScaler(with_mean=False)``).
    Numbers are standardised on their linear scale even when declared ``log: true``, as in
    the reference. The encoding is computed with numpy rather than a pandas pipeline (the
    same numbers, about a hundred times faster for one configuration).

Seeds (``surrogate_seeds``)
    ``separate`` (mfbench's default): one model per table seed, fitted on that seed's
    curves; the surrogate has the table's seeds and the simulator draws one per trial as
    on the table, so the seed-to-seed noise stays. With 1-NN every table configuration
    gets exactly its table values at every seed. The reference's ``separate_seeds=True``
    means the same but does not run on its tables in 0.13 (it takes the number of
    *fidelities* as the number of seeds, and the data reshaping assertion fails).
    ``merged`` (the reference's default ``separate_seeds=False``): one model fitted on the
    curves of every seed stacked (each configuration appears once per seed); the surrogate
    has one seed. With 1-NN a table configuration then gets the curve of one of its seeds
    (the neighbour search's tie-break: fixed for a given table, but not a chosen seed);
    with more neighbours, a forest or a network, the seeds are averaged in the fit.

Missing values (the reference's ``_impute_objectives_values``)
    Before fitting, a NaN (a failed evaluation) is replaced by the previous fidelity's value
    of the same curve; a configuration that still has a NaN (at its first fidelity, in any
    seed) is left out of the fit set. The reference does the same, except that a NaN at the
    first fidelity takes the *last* fidelity's value there (index ``-1``), which we do not
    copy. The surrogate therefore never predicts a failure.

The estimator (``surrogate`` / ``surrogate_kwargs``)
    A name in :data:`SURROGATES` and its keyword arguments. ``knn`` defaults to
    ``n_neighbors=1``, the estimator ``add_surrogate`` uses when given none (the reference's
    backend, given ``surrogate="KNeighborsRegressor"`` and no kwargs, builds scikit-learn's
    default of 5 neighbours: write ``surrogate_kwargs: {n_neighbors: 5}`` for that), and to
    ``algorithm="kd_tree"`` where the reference's ``"auto"`` picks brute force: the same
    exact neighbours (only equally distant ones may be ordered otherwise) at about 1 ms
    instead of 60-120 ms per lookup on NAS-Bench-201. An
    estimator with a ``random_state`` gets ``random_state=0`` unless the kwargs set one, so
    the surrogate is the same function in every run and process (the reference leaves it
    unseeded). ``XGBRegressor`` is not offered (no xgboost dependency). The reference's
    ``fit_differences`` and ``max_fit_samples`` are off by default there and not offered
    here: the simulator forces elapsed times to increase within a segment, as the
    reference's backend does after a surrogate lookup.

The space (``config_space_surrogate``)
    The methods search the surrogate's space. By default it is the table's hyperparameters
    with their domains but *not* restricted to the table's rows (the reference's default
    ``blackbox.configuration_space``): on a full grid like NAS-Bench-201 that is the same
    set of configurations, on a sparse table it is every combination. Each entry of
    ``config_space_surrogate`` (specs as :func:`mfbench.space.hyperparameter_from_dict`,
    a list or a mapping ``{name: spec}``) replaces the domain of one table hyperparameter,
    e.g. a float range over a column of numbers; ``lower`` / ``upper`` / ``choices`` left
    out default to the table's range / values. Unlike the reference, an entry must name a
    hyperparameter of the table and its domain must hold every table value (else
    :class:`~mfbench.errors.ConfigError`), and hyperparameters not named keep the table's
    domain (the reference replaces the whole space, and the model ignores what is left out).

Fitting is deterministic and happens once per process for the same table content,
estimator, kwargs, space and seed mode (:func:`table_surrogate` keeps the last fitted
surrogates); nothing is written to the cache. Fit and lookup costs on the offline
NAS-Bench-201 table: ``benchmarks/time_table_surrogate.py`` (figures in docs/byo-benchmark.md).
"""
from __future__ import annotations

import collections
import hashlib
import importlib
import inspect
import json
import os
import threading
from typing import Any, Mapping, Sequence

import numpy as np

from mfbench.blackbox.base import Blackbox, TabularBlackbox
from mfbench.blackbox.sources.user_specs import hyperparameter_specs
from mfbench.errors import ConfigError
from mfbench.space import Categorical, ConfigSpace, Hyperparameter, hyperparameter_from_dict, \
    hyperparameter_to_dict

#: ``benchmark.surrogate`` name -> (scikit-learn class, default kwargs); each must accept a
#: target matrix (multi-output regression), as the reference's curve models need
SURROGATES: dict[str, tuple[str, dict[str, Any]]] = {
    # a k-d tree, not the brute force that algorithm="auto" picks for NB201's 30 one-hot columns:
    # both search exactly (only equally distant neighbours may come in another order), but one
    # query costs about 1 ms in the tree and 60-120 ms by brute force (benchmarks/time_table_surrogate.py)
    "knn": ("sklearn.neighbors.KNeighborsRegressor", {"n_neighbors": 1, "algorithm": "kd_tree"}),
    "random_forest": ("sklearn.ensemble.RandomForestRegressor", {}),
    "extra_trees": ("sklearn.ensemble.ExtraTreesRegressor", {}),
    "mlp": ("sklearn.neural_network.MLPRegressor", {}),
    "ridge": ("sklearn.linear_model.Ridge", {}),
}
#: the reference's ``make_surrogate`` names, for the message that points to ours
REFERENCE_NAMES = {"KNeighborsRegressor": "knn", "RandomForestRegressor": "random_forest",
                   "MLPRegressor": "mlp", "XGBRegressor": None}
SEED_MODES = ("separate", "merged")
#: ``random_state`` given to an estimator that takes one when the kwargs set none
DEFAULT_RANDOM_STATE = 0
#: fitted surrogates kept per process (each holds a copy of the table's curves)
_MEMO_SIZE = 2
_MEMO: collections.OrderedDict[str, "TableSurrogateBlackbox"] = collections.OrderedDict()
_MEMO_LOCK = threading.Lock()
#: predicted curves kept per surrogate for configurations asked again (``F x O`` floats each)
_RECENT_CURVES = 4096


def estimator_kwargs(name: str, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The effective kwargs of surrogate ``name``: its defaults, the user's, a fixed ``random_state``.

    Raises:
        ConfigError: an unknown name, or a kwarg the estimator does not take.
    """
    if name not in SURROGATES:
        hint = ""
        if name in REFERENCE_NAMES:
            ours = REFERENCE_NAMES[name]
            hint = (f" (Syne Tune's {name} is benchmark.surrogate={ours} here)" if ours
                    else f" ({name} needs xgboost, which mfbench does not depend on)")
        raise ConfigError(f"benchmark.surrogate={name!r} is not a surrogate model{hint}; "
                          f"choose one of {', '.join(SURROGATES)}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise ConfigError(f"benchmark.surrogate_kwargs: expected a mapping such as {{n_neighbors: 3}}, got {kwargs!r}")
    path, defaults = SURROGATES[name]
    accepted = list(inspect.signature(_estimator_class(path)).parameters)
    unknown = sorted(set(kwargs or {}) - set(accepted))
    if unknown:
        raise ConfigError(f"benchmark.surrogate_kwargs.{unknown[0]}: {path.rsplit('.', 1)[1]} (surrogate={name}) "
                          f"takes no option {unknown[0]!r}; its options: {', '.join(accepted)}")
    effective = {**defaults, **dict(kwargs or {})}
    if "random_state" in accepted and effective.get("random_state") is None:
        effective["random_state"] = DEFAULT_RANDOM_STATE  # the same fitted function in every process
    return effective


def make_estimator(name: str, kwargs: Mapping[str, Any] | None) -> Any:
    """An unfitted scikit-learn estimator, its options checked (ConfigError naming the option)."""
    effective = estimator_kwargs(name, kwargs)
    path = SURROGATES[name][0]
    estimator = _estimator_class(path)(**effective)
    validate = getattr(estimator, "_validate_params", None)  # scikit-learn >= 1.2 checks values at fit only
    if validate is not None:
        try:
            validate()
        except (ValueError, TypeError) as error:
            raise ConfigError(f"benchmark.surrogate_kwargs: {error} (surrogate={name}, {path})") from None
    return estimator


def _estimator_class(path: str) -> type:
    module, _, attribute = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError as error:
        raise ConfigError(f"benchmark.surrogate needs scikit-learn ({error}); install it: pip install scikit-learn") \
            from None


def check_seed_mode(mode: str | None) -> str:
    """``surrogate_seeds`` with its default (``separate``); ConfigError for another value."""
    if mode is None:
        return "separate"
    if mode not in SEED_MODES:
        raise ConfigError(f"benchmark.surrogate_seeds={mode!r}: choose separate (one model per table seed) "
                          f"or merged (one model over all seeds, Syne Tune's default)")
    return mode


def surrogate_space(table_space: ConfigSpace, spec: Any) -> ConfigSpace:
    """The space the methods search: the table's hyperparameters, widened by ``spec``, no table.

    Args:
        table_space: the table's space (restricted to its ``N`` rows).
        spec: ``config_space_surrogate`` (list of ``{name, type, ...}`` or ``{name: spec}``), or None.

    Raises:
        ConfigError: an entry naming no table hyperparameter, a bad spec, or a domain that
            does not hold every value the table has for that hyperparameter.
    """
    where = "benchmark.config_space_surrogate"
    specs = hyperparameter_specs(spec, where)
    names = table_space.names
    unknown = sorted(set(specs) - set(names))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: the table has no hyperparameter {unknown[0]!r}; its "
                          f"hyperparameters are {', '.join(names)} (fix the name or drop the entry)")
    rows = table_space.table or []
    hyperparameters: list[Hyperparameter] = []
    for position, hp in enumerate(table_space.hyperparameters):
        if hp.name not in specs:
            hyperparameters.append(hp)
            continue
        values = [row[position] for row in rows]
        hyperparameters.append(_widened(specs[hp.name], values, f"{where}.{hp.name}"))
    return ConfigSpace(tuple(hyperparameters))


def _widened(spec: Mapping[str, Any], values: Sequence[Any], where: str) -> Hyperparameter:
    """One hyperparameter of the surrogate's space, checked to hold every table value."""
    kind = spec.get("type")
    spec = dict(spec)
    if kind in ("float", "integer"):
        bad = next((v for v in values if isinstance(v, (bool, str)) or not isinstance(v, (int, float, np.number))), None)
        if bad is not None:
            raise ConfigError(f"{where}: type {kind} over a column that holds {bad!r}, not a number; declare it "
                              f"categorical (type: categorical) or leave it out")
        low, high = (min(values), max(values)) if values else (0, 0)
        if kind == "integer" and any(not float(v).is_integer() for v in values):
            raise ConfigError(f"{where}: type integer over a column with fractional values; use type: float")
        spec.setdefault("lower", low)
        spec.setdefault("upper", high)
    elif kind == "categorical":
        spec.setdefault("choices", list(dict.fromkeys(values)))
    try:
        hp = hyperparameter_from_dict(spec)
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{where}: {str(error).strip(chr(39))}; a hyperparameter is written "
                          f"{{type: float, lower: 0.001, upper: 1, log: true}} or {{type: categorical, choices: [...]}}") \
            from None
    if isinstance(hp, Categorical):
        missing = [v for v in dict.fromkeys(values) if v not in hp.choices]
        if missing:
            raise ConfigError(f"{where}: the choices {list(hp.choices)} leave out table values {missing[:5]}; "
                              f"add them to choices")
    elif values and (min(values) < hp.lower or max(values) > hp.upper):
        raise ConfigError(f"{where}: [{hp.lower}, {hp.upper}] does not cover the table's values "
                          f"[{min(values)}, {max(values)}]; widen lower / upper to at least that range")
    return hp


class _Features:
    """The reference's feature pipeline, in numpy: one-hot categoricals, standardised numbers, rescaled.

    Args:
        space: the surrogate's space (its types decide the encoding).
        rows: the fit set's configurations as value tuples in ``space`` order, ``N`` of them.
    """

    def __init__(self, space: ConfigSpace, rows: Sequence[tuple[Any, ...]]) -> None:
        hps = list(space.hyperparameters)
        self.categorical = [(i, hp.name) for i, hp in enumerate(hps) if isinstance(hp, Categorical)]
        self.numeric = [(i, hp.name) for i, hp in enumerate(hps) if not isinstance(hp, Categorical)]
        # one-hot over the values the table holds: OneHotEncoder's categories (sorted when they sort)
        self.categories = [{v: k for k, v in enumerate(_sorted_if_possible(dict.fromkeys(row[i] for row in rows)))}
                           for i, _ in self.categorical]
        numbers = np.array([[float(row[i]) for i, _ in self.numeric] for row in rows], dtype=np.float64)
        numbers = numbers.reshape(len(rows), len(self.numeric))
        self.mean = numbers.mean(axis=0) if len(rows) else np.zeros(len(self.numeric))
        self.scale = _safe_std(numbers)
        self.width = sum(len(c) for c in self.categories) + len(self.numeric)
        self.final_scale = np.ones(self.width)
        self.final_scale = _safe_std(self.transform(rows))  # StandardScaler(with_mean=False)

    def transform(self, rows: Sequence[tuple[Any, ...]]) -> np.ndarray:
        """Features of configurations (value tuples in space order), shape ``(n, width)``."""
        out = np.zeros((len(rows), self.width), dtype=np.float64)
        offset = 0
        for (i, _), lookup in zip(self.categorical, self.categories):
            for r, row in enumerate(rows):
                k = lookup.get(row[i])
                if k is not None:  # a value the table never holds: all zeros (handle_unknown="ignore")
                    out[r, offset + k] = 1.0
            offset += len(lookup)
        if self.numeric:
            numbers = np.array([[float(row[i]) for i, _ in self.numeric] for row in rows], dtype=np.float64)
            out[:, offset:] = (numbers.reshape(len(rows), -1) - self.mean) / self.scale
        return out / self.final_scale


def _sorted_if_possible(values: Any) -> list[Any]:
    """``values`` sorted, or in their given order when they do not compare (mixed types)."""
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _safe_std(matrix: np.ndarray) -> np.ndarray:
    """Per-column scale as StandardScaler computes it, shape ``(d,)`` for ``matrix`` ``(n, d)``.

    The deviation is taken around the mean also for ``with_mean=False`` (which only skips
    the centring), and a (near) zero deviation becomes 1, as scikit-learn's ``_handle_zeros_in_scale``.
    """
    if matrix.shape[0] == 0:
        return np.ones(matrix.shape[1])
    std = matrix.std(axis=0)
    return np.where(std < 10 * np.finfo(np.float64).eps, 1.0, std)


class TableSurrogateBlackbox(Blackbox):
    """A regression model fitted to a table's curves (see the module docstring for the semantics).

    Args:
        table: the tabular blackbox, evaluations of shape ``(N, S, F, O)``.
        surrogate: a name in :data:`SURROGATES`.
        surrogate_kwargs: the estimator's options (checked; ``random_state`` fixed by default).
        config_space_surrogate: domains replacing the table's (see :func:`surrogate_space`).
        surrogate_seeds: ``separate`` (one model per seed, ``S`` seeds) or ``merged`` (one model, 1 seed).
    """

    def __init__(self, table: TabularBlackbox, surrogate: str = "knn", surrogate_kwargs: Mapping[str, Any] | None = None,
                 config_space_surrogate: Any = None, surrogate_seeds: str | None = None) -> None:
        self.name = surrogate
        self.kwargs = estimator_kwargs(surrogate, surrogate_kwargs)
        self.seed_mode = check_seed_mode(surrogate_seeds)
        self.config_space = surrogate_space(table.config_space, config_space_surrogate)
        self.fidelity_values = np.asarray(table.fidelity_values)
        self.objective_names = list(table.objective_names)
        self._table_description = table.describe()
        num_configs, num_seeds, num_fidelities, num_objectives = table.evaluations.shape
        self._curve_shape = (num_fidelities, num_objectives)
        evaluations = _imputed(np.asarray(table.evaluations))  # (N, S, F, O), NaN forward-filled
        keep = ~np.isnan(evaluations).any(axis=(1, 2, 3))
        self.dropped_configs = int(num_configs - keep.sum())
        if not keep.any():
            raise ConfigError("benchmark.surrogate: every configuration of the table has a missing value at its first "
                              "fidelity in some seed; there is nothing to fit the surrogate to")
        rows = [row for row, k in zip(table.config_space.table or [], keep) if k]
        kept = evaluations if keep.all() else evaluations[keep]  # no copy of a complete table
        curves = kept.reshape(len(rows), num_seeds, num_fidelities * num_objectives)
        self._features = _Features(self.config_space, rows)
        features = self._features.transform(rows)  # (N', D)
        if self.seed_mode == "separate":
            fit_sets = [(features, curves[:, s]) for s in range(num_seeds)]
        else:  # seeds stacked seed-major, as the reference's hyperparameter_objectives_values
            fit_sets = [(np.tile(features, (num_seeds, 1)), curves.transpose(1, 0, 2).reshape(-1, curves.shape[2]))]
        self.num_seeds = len(fit_sets)
        self.fit_rows = len(fit_sets[0][0])
        self._recent: collections.OrderedDict[tuple[Any, ...], np.ndarray] = collections.OrderedDict()
        self._models = []
        for x, y in fit_sets:
            model = make_estimator(surrogate, self.kwargs)
            try:
                model.fit(x, y)
                model.predict(x[:1])  # some options fail only here (more neighbours than rows): fail now, not mid-run
            except ValueError as error:
                raise ConfigError(f"benchmark.surrogate={surrogate}: fitting failed on {len(x)} rows: {error}") \
                    from None
            self._models.append(model)

    def _curves(self, configs: Sequence[Mapping[str, Any]], seed: int) -> np.ndarray:
        """Predicted curves, shape ``(n, F, O)``, one model call."""
        if not 0 <= seed < self.num_seeds:
            raise ValueError(f"seed {seed} is out of range: this surrogate has {self.num_seeds} seed(s)")
        for config in configs:
            if not self.config_space.contains(config):
                raise ValueError(f"{dict(config)} is not a configuration of this surrogate's space "
                                 f"{self.config_space.names}")
        features = self._features.transform([self.config_space.key(c) for c in configs])
        predicted = np.asarray(self._models[seed].predict(features), dtype=np.float64)
        return predicted.reshape(len(configs), *self._curve_shape)

    def evaluate(self, config: Mapping[str, Any], seed: int, fidelities: np.ndarray) -> np.ndarray:
        positions = self.fidelity_positions(np.asarray(fidelities))
        # the simulator asks a resumed trial's configuration again at later fidelities: its whole
        # curve was predicted at the first ask, so keep the last curves (a scikit-learn predict
        # of one row costs milliseconds, mostly input checks)
        key = (seed, self.config_space.key(config)) if self.config_space.contains(config) else None
        curve = self._recent.get(key) if key is not None else None
        if curve is None:
            curve = self._curves([config], seed)[0]
            curve.setflags(write=False)
            self._recent[key] = curve
            if len(self._recent) > _RECENT_CURVES:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(key)
        return curve[positions].copy()  # a copy: the caller may not change the kept curve

    def evaluate_many(self, configs: Sequence[Mapping[str, Any]], seed: int, fidelities: np.ndarray) -> np.ndarray:
        """All objectives of every config at ``fidelities``, shape ``(len(configs), len(fidelities), O)``."""
        positions = self.fidelity_positions(np.asarray(fidelities))
        return self._curves(configs, seed)[:, positions]

    def describe(self) -> dict[str, Any]:
        table = self._table_description
        knn1 = self.name == "knn" and self.kwargs.get("n_neighbors") == 1
        what = "1-nearest-neighbour" if knn1 else f"{self.name} {self.kwargs}"
        return {
            "kind": "surrogate",
            "surrogate": self.name,
            "estimator": SURROGATES[self.name][0],
            "surrogate_kwargs": self.kwargs,
            "surrogate_seeds": self.seed_mode,
            "config_space": [hyperparameter_to_dict(hp) for hp in self.config_space.hyperparameters],
            "num_seeds": self.num_seeds,
            "num_fidelities": len(self.fidelity_values),
            "objectives": self.objective_names,
            "fit_rows": self.fit_rows,
            "dropped_configs": self.dropped_configs,
            "table": table,
            "description": f"{what} surrogate fitted to the table: {table.get('description', table.get('kind'))}",
        }


def _imputed(evaluations: np.ndarray) -> np.ndarray:
    """NaN replaced by the previous fidelity's value of the same curve, shape ``(N, S, F, O)`` (a copy if needed)."""
    missing = np.isnan(evaluations)
    if not missing.any():
        return evaluations
    filled = np.array(evaluations, dtype=np.float64)
    for f in range(1, filled.shape[2]):  # forward fill along fidelity; a leading NaN stays NaN
        gap = np.isnan(filled[:, :, f])
        filled[:, :, f][gap] = filled[:, :, f - 1][gap]
    return filled


def table_key(table: TabularBlackbox) -> str:
    """What identifies a table's content within a process, cheaply.

    A memory-mapped table (a verified cache entry) is named by its file's identity (path,
    size, modification and change times, inode, device: a rewrite changes the change time);
    an in-memory table by the SHA-256 of its values. The config rows, fidelities and
    objective names are hashed in either case.
    """
    digest = hashlib.sha256()
    evaluations = table.evaluations
    filename = getattr(evaluations, "filename", None)
    if isinstance(evaluations, np.memmap) and filename:
        stat = os.stat(filename)
        digest.update(repr((os.path.realpath(filename), evaluations.offset, evaluations.shape, str(evaluations.dtype),
                            stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)).encode())
    else:
        values = np.ascontiguousarray(evaluations)
        digest.update(repr((values.shape, str(values.dtype))).encode())
        digest.update(memoryview(values).cast("B"))
    digest.update(repr(table.config_space.table).encode())
    digest.update(repr([hyperparameter_to_dict(hp) for hp in table.config_space.hyperparameters]).encode())
    digest.update(repr((np.asarray(table.fidelity_values).tolist(), table.objective_names)).encode())
    return digest.hexdigest()


def table_surrogate(table: Blackbox, surrogate: str, surrogate_kwargs: Mapping[str, Any] | None = None,
                    config_space_surrogate: Any = None, surrogate_seeds: str | None = None) -> TableSurrogateBlackbox:
    """``table`` wrapped by a fitted surrogate, fitted once per process for the same inputs.

    Raises:
        ConfigError: ``table`` is not tabular, or a bad surrogate name, option or space.
    """
    if not isinstance(table, TabularBlackbox):
        raise ConfigError(f"benchmark.surrogate={surrogate}: this benchmark's blackbox is not a table "
                          f"(kind {table.describe().get('kind')!r}); a surrogate is fitted to tabulated benchmarks "
                          f"only: remove benchmark.surrogate")
    kwargs = estimator_kwargs(surrogate, surrogate_kwargs)
    key = json.dumps([table_key(table), surrogate, kwargs, config_space_surrogate, check_seed_mode(surrogate_seeds)],
                     sort_keys=True, default=repr)
    with _MEMO_LOCK:
        fitted = _MEMO.get(key)
        if fitted is not None:
            _MEMO.move_to_end(key)
            return fitted
    fitted = TableSurrogateBlackbox(table, surrogate, surrogate_kwargs, config_space_surrogate, surrogate_seeds)
    with _MEMO_LOCK:
        _MEMO[key] = fitted
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return fitted
