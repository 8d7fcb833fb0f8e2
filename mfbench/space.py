"""Configuration spaces: hyperparameter domains, sampling, encodings, finite tables.

A :class:`ConfigSpace` is an ordered tuple of hyperparameters. A configuration is a
plain ``dict`` ``{name: value}``. A space may be *restricted* to a finite table of
configurations (as tabulated benchmarks are); then sampling draws rows of that table,
and every configuration has an integer index.

The encoding maps a configuration to ``[0, 1]^d``: numerics linearly (or on the log
scale), a categorical with ``k > 2`` choices one-hot of size ``k``, with 2 choices one
number in ``[0, 1]`` (as the reference's ``hp_ranges``). It is shared by all searchers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar, Union

import numpy as np

Config = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Categorical:
    """A choice among ``choices``; the order matters (the midpoint takes ``choices[0]``)."""

    name: str
    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) == 0:
            raise ValueError(f"hyperparameter {self.name!r}: a categorical needs at least one choice")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"hyperparameter {self.name!r}: duplicate choices in {self.choices}")

    @property
    def encoded_dim(self) -> int:
        return len(self.choices) if len(self.choices) > 2 else 1

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One choice (``size=None``) or a list of ``size``; a scalar draw takes the same random
        numbers as an array of one, about 5x faster."""
        if size is None:
            return self.choices[int(rng.integers(len(self.choices)))]
        return [self.choices[i] for i in rng.integers(len(self.choices), size=size)]

    def midpoint(self) -> Any:
        return self.choices[0]

    def encode(self, value: Any) -> list[float]:
        index = self.choices.index(value)
        if len(self.choices) > 2:
            one_hot = [0.0] * len(self.choices)
            one_hot[index] = 1.0
            return one_hot
        return [float(index)] if len(self.choices) == 2 else [0.0]

    def decode(self, encoded: np.ndarray) -> Any:
        if len(self.choices) > 2:
            return self.choices[int(np.asarray(encoded).argmax())]
        if len(self.choices) == 2:
            return self.choices[int(encoded[0] >= 0.5)]
        return self.choices[0]

    def contains(self, value: Any) -> bool:
        return value in self.choices


#: float64 holds every integer below this magnitude exactly (2^53)
_EXACT_INTEGERS = 2**53


@dataclass(frozen=True)
class _Numeric:
    name: str
    lower: float
    upper: float
    log: bool = False

    def __post_init__(self) -> None:
        if not self.lower <= self.upper:
            raise ValueError(f"hyperparameter {self.name!r}: lower {self.lower} > upper {self.upper}")
        if self.log and self.lower <= 0:
            raise ValueError(f"hyperparameter {self.name!r}: a log scale needs lower > 0, got {self.lower}")

    encoded_dim = 1

    def _to_unit(self, value: float) -> float:
        lo, hi = (math.log(self.lower), math.log(self.upper)) if self.log else (self.lower, self.upper)
        x = math.log(value) if self.log else float(value)
        return 0.5 if hi == lo else (x - lo) / (hi - lo)

    def _from_unit(self, unit: float) -> float:
        unit = min(max(float(unit), 0.0), 1.0)
        if self.log:
            lo, hi = math.log(self.lower), math.log(self.upper)
            value = math.exp(lo + unit * (hi - lo))
        else:
            value = self.lower + unit * (self.upper - self.lower)
        # exp(log(b)) and a + (b - a) can miss b by an ulp: keep the value inside [lower, upper]
        return min(max(value, float(self.lower)), float(self.upper))

    def encode(self, value: Any) -> list[float]:
        return [self._to_unit(value)]

    def contains(self, value: Any) -> bool:
        try:
            return self.lower <= value <= self.upper
        except TypeError:  # not a number (e.g. the text "0.01"): not a value of the range
            return False


@dataclass(frozen=True)
class Float(_Numeric):
    """A real number in ``[lower, upper]``, optionally on the log scale."""

    def sample(self, rng: np.random.Generator, size: int | None = None) -> float | list[float]:
        """One value (``size=None``) or a list of ``size`` (the same random numbers either way)."""
        if size is None:
            return self._from_unit(rng.random())
        return [self._from_unit(u) for u in rng.random(size)]

    def midpoint(self) -> float:
        return self._from_unit(0.5)

    def decode(self, encoded: np.ndarray) -> float:
        return self._from_unit(encoded[0])


@dataclass(frozen=True)
class Integer(_Numeric):
    """An integer in ``[lower, upper]`` (both included), optionally on the log scale.

    The unit interval is cut into ``upper - lower + 1`` equal cells, one per value,
    so that decoding a uniform number gives a uniform integer.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "lower", int(self.lower))
        object.__setattr__(self, "upper", int(self.upper))
        if max(abs(self.lower), abs(self.upper)) >= _EXACT_INTEGERS:
            # the encoding works in float64: beyond 2^53 neighbouring integers share one float
            raise ValueError(f"hyperparameter {self.name!r}: integers of magnitude 2^53 or more ({self.lower}..."
                             f"{self.upper}) cannot be encoded exactly; declare it as a float (or, in a table, "
                             f"leave the column out)")

    def sample(self, rng: np.random.Generator, size: int | None = None) -> int | list[int]:
        """One value (``size=None``) or a list of ``size`` (the same random numbers either way)."""
        if size is None:
            if self.log:
                return self.decode((rng.random(),))
            return int(rng.integers(self.lower, self.upper + 1))
        if self.log:
            return [self.decode(np.array([u])) for u in rng.random(size)]
        return [int(v) for v in rng.integers(self.lower, self.upper + 1, size=size)]

    def midpoint(self) -> int:
        return int(round(self._from_unit(0.5)))

    def decode(self, encoded: np.ndarray | Sequence[float]) -> int:
        lo, hi = self.lower - 0.5 + 1e-9, self.upper + 0.5 - 1e-9
        unit = min(max(float(encoded[0]), 0.0), 1.0)
        if self.log:
            lo, hi = math.log(max(lo, 1e-12)), math.log(hi)
            return int(min(max(round(math.exp(lo + unit * (hi - lo))), self.lower), self.upper))
        return int(min(max(round(lo + unit * (hi - lo)), self.lower), self.upper))

    def encode(self, value: Any) -> list[float]:
        lo, hi = self.lower - 0.5 + 1e-9, self.upper + 0.5 - 1e-9
        if self.log:
            lo, hi, value = math.log(max(lo, 1e-12)), math.log(hi), math.log(value)
        return [(value - lo) / (hi - lo)]

    def contains(self, value: Any) -> bool:
        try:
            return not isinstance(value, str) and float(value).is_integer() and self.lower <= value <= self.upper
        except (TypeError, ValueError):  # not a number: not a value of the range
            return False


Hyperparameter = Union[Categorical, Float, Integer]

#: the most configurations :meth:`ConfigSpace.enumerate` lists from a grid (a table is listed whole)
MAX_ENUMERATED = 1_000_000


def _grid_of(hp: Hyperparameter) -> Sequence[Any] | None:
    """The values of a hyperparameter with finitely many (None for a float range): a categorical's
    choices, an integer's ``lower..upper``, a float's single value when ``lower == upper`` (as
    :meth:`Float.sample` gives it)."""
    if isinstance(hp, Categorical):
        return hp.choices
    if isinstance(hp, Integer):
        return range(hp.lower, hp.upper + 1)
    return [hp.midpoint()] if hp.lower == hp.upper else None


@dataclass
class ConfigSpace:
    """An ordered set of hyperparameters, optionally restricted to a finite table.

    Args:
        hyperparameters: the domains, in the order of the encoding.
        table: optional finite list of configurations (a sequence of value tuples in
            the order of ``hyperparameters``). When given, the space *is* this table:
            sampling draws its rows and :meth:`index_of` returns the row index.
    """

    hyperparameters: tuple[Hyperparameter, ...]
    table: Sequence[tuple[Any, ...]] | None = None
    _index: dict[tuple[Any, ...], int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.hyperparameters = tuple(self.hyperparameters)
        names = [hp.name for hp in self.hyperparameters]
        self._names = tuple(names)
        # each hyperparameter's slice of the encoding, computed once (decode runs once per
        # proposal of a model-based method: thousands of times a run)
        slices, offset = [], 0
        for hp in self.hyperparameters:
            slices.append(slice(offset, offset + hp.encoded_dim))
            offset += hp.encoded_dim
        self._slices = tuple(slices)
        self._encoded_dim = offset
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate hyperparameter names in {names}")
        if self.table is not None:
            self.table = [tuple(row) for row in self.table]
            self._index = {row: i for i, row in enumerate(self.table)}
            if len(self._index) != len(self.table):
                raise ValueError("the configuration table holds duplicate configurations")

    # ----------------------------------------------------------------- basics
    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def is_finite(self) -> bool:
        """True if the space has finitely many configurations: a table, or a grid of
        categoricals, integers and floats with ``lower == upper`` (one value)."""
        return self.table is not None or all(_grid_of(hp) is not None for hp in self.hyperparameters)

    @property
    def size(self) -> int | float:
        """Number of configurations (``inf`` for continuous spaces)."""
        if self.table is not None:
            return len(self.table)
        grids = [_grid_of(hp) for hp in self.hyperparameters]
        if all(grid is not None for grid in grids):
            return math.prod(len(grid) for grid in grids)  # type: ignore[arg-type]
        return math.inf

    @property
    def encoded_dim(self) -> int:
        return self._encoded_dim

    def key(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        """The hashable tuple of a configuration's values, in hyperparameter order."""
        return tuple([config[name] for name in self._names])

    def contains(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` has exactly this space's keys and legal values (in the table)."""
        if set(config) != set(self.names):
            return False
        if not all(hp.contains(config[hp.name]) for hp in self.hyperparameters):
            return False
        return self.table is None or self.key(config) in self._index

    # ------------------------------------------------------------- finite spaces
    def has_row(self, config: Mapping[str, Any]) -> bool:
        """True if the values of ``config``, one per hyperparameter (e.g. a decoded point), are a
        row of the table: :meth:`contains` without its checks of the names and values, which a
        configuration built from the space's own hyperparameters passes anyway."""
        if self.table is None:
            raise TypeError("has_row needs a space restricted to a table")
        return self.key(config) in self._index

    def index_of(self, config: Mapping[str, Any]) -> int:
        """Row index of a configuration in the finite table (KeyError if absent)."""
        if self.table is None:
            raise TypeError("index_of needs a space restricted to a table")
        return self._index[self.key(config)]

    def config_at(self, index: int) -> Config:
        """The configuration in row ``index`` of the finite table."""
        if self.table is None:
            raise TypeError("config_at needs a space restricted to a table")
        return dict(zip(self._names, self.table[index]))

    def enumerate(self) -> list[Config]:
        """All configurations of a finite space (the table, or the grid; :attr:`is_finite`), in
        the order of the table or of the grid (the last hyperparameter varying fastest).

        Raises:
            TypeError: the space is not finite.
            ValueError: the grid has more than :data:`MAX_ENUMERATED` configurations.
        """
        if self.table is not None:
            return [self.config_at(i) for i in range(len(self.table))]
        if not self.is_finite:
            raise TypeError("cannot enumerate a space with continuous hyperparameters and no table")
        if self.size > MAX_ENUMERATED:
            raise ValueError(f"the space {self.names} holds {self.size:,} configurations, too many to list "
                             f"(at most {MAX_ENUMERATED:,})")
        import itertools

        grids = [_grid_of(hp) for hp in self.hyperparameters]
        return [dict(zip(self.names, values)) for values in itertools.product(*grids)]  # type: ignore[arg-type]

    def coerce(self, values: Mapping[str, Any]) -> Config:
        """A configuration given by another library (its own number types, numpy scalars,
        equal copies of our choices) as ours: our key order, our choice objects, ``int`` for
        an Integer and ``float`` for a Float.

        Raises:
            ValueError: a categorical value that is none of the hyperparameter's choices.
        """
        config: Config = {}
        for hp in self.hyperparameters:
            value = values[hp.name]
            if isinstance(hp, Categorical):
                config[hp.name] = hp.choices[hp.choices.index(value)]
            else:
                config[hp.name] = int(value) if isinstance(hp, Integer) else float(value)
        return config

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator) -> Config:
        """One configuration drawn uniformly (a uniform row of the table if restricted)."""
        if self.table is not None:
            return self.config_at(int(rng.integers(len(self.table))))
        return {hp.name: hp.sample(rng) for hp in self.hyperparameters}

    def midpoint(self) -> Config:
        """The reference's default first configuration.

        Numerics take their (log-)midpoint and categoricals their first choice. On a
        table, the table row nearest to that point in the encoding is returned.
        """
        config = {hp.name: hp.midpoint() for hp in self.hyperparameters}
        if self.table is None or self.key(config) in self._index:
            return config
        encoded = self.encode_table()
        target = self.encode(config)
        return self.config_at(int(np.argmin(((encoded - target) ** 2).sum(axis=1))))

    # ----------------------------------------------------------------- encoding
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Encode one configuration, shape ``(encoded_dim,)`` in ``[0, 1]``."""
        out: list[float] = []
        for hp in self.hyperparameters:
            out.extend(hp.encode(config[hp.name]))
        return np.asarray(out, dtype=np.float64)

    def encode_many(self, configs: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Encode configurations, shape ``(n, encoded_dim)``."""
        rows = [self.encode(c) for c in configs]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), self.encoded_dim)

    def encode_table(self) -> np.ndarray:
        """Encoding of every table row, shape ``(size, encoded_dim)`` (kept with the space,
        read-only: the space of a stored table is shared by the runs of a process)."""
        return self.derived("encoded_table", self._build_encoded_table)

    def _build_encoded_table(self) -> np.ndarray:
        if self.table is not None:
            # column by column, a categorical's distinct values encoded once and gathered:
            # the same floats as encoding row by row, ~10x faster on a 15,625-row table
            columns = []
            for hp, values in zip(self.hyperparameters, zip(*self.table)):
                if not isinstance(hp, Categorical):  # numbers: one by one (keeps e.g. the sign of a zero)
                    columns.append(np.asarray([hp.encode(v) for v in values], dtype=np.float64).reshape(-1, 1))
                    continue
                # a categorical's encoding depends only on the value's position among the choices
                codes = {value: i for i, value in enumerate(dict.fromkeys(values))}  # distinct, first-seen order
                index = np.fromiter(map(codes.__getitem__, values), dtype=np.intp, count=len(values))
                distinct = np.asarray([hp.encode(value) for value in codes], dtype=np.float64)
                columns.append(distinct.reshape(len(codes), hp.encoded_dim)[index])
            encoded = np.hstack(columns) if columns else np.zeros((len(self.table), 0))
        else:
            encoded = self.encode_many(self.enumerate())
        encoded.flags.writeable = False
        return encoded

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed on the first call for ``key`` and kept with the space.

        For read-only data derived from the space alone (the table's encoding, a searcher's
        index of the table rows): the space of a stored table is shared by the runs of a process, so each
        run after the first finds it built. ``key`` names what ``build`` makes; the
        caller must not modify the result.
        """
        store = self.__dict__.setdefault("_derived", {})
        if key not in store:
            store[key] = build()
        return store[key]

    def decode(self, encoded: np.ndarray) -> Config:
        """Decode a point of ``[0, 1]^encoded_dim`` (one-hot relaxed: argmax)."""
        encoded = np.asarray(encoded)
        return {hp.name: hp.decode(encoded[part]) for hp, part in zip(self.hyperparameters, self._slices)}

    def categorical_groups(self) -> list[slice]:
        """Slices of the encoding, one per hyperparameter (crossover works per group)."""
        return list(self._slices)


def hyperparameter_from_dict(spec: Mapping[str, Any]) -> Hyperparameter:
    """Build a hyperparameter from ``{"name", "type", "choices" | "lower", "upper", "log"}``."""
    kind = spec.get("type")
    if kind == "categorical":
        return Categorical(spec["name"], tuple(spec["choices"]))
    if kind == "integer":
        return Integer(spec["name"], spec["lower"], spec["upper"], bool(spec.get("log", False)))
    if kind == "float":
        return Float(spec["name"], float(spec["lower"]), float(spec["upper"]), bool(spec.get("log", False)))
    raise ValueError(f"unknown hyperparameter type {kind!r} in {dict(spec)}; use categorical, integer or float")


def hyperparameter_to_dict(hp: Hyperparameter) -> dict[str, Any]:
    """The inverse of :func:`hyperparameter_from_dict` (JSON-serialisable)."""
    if isinstance(hp, Categorical):
        return {"name": hp.name, "type": "categorical", "choices": list(hp.choices)}
    kind = "integer" if isinstance(hp, Integer) else "float"
    return {"name": hp.name, "type": kind, "lower": hp.lower, "upper": hp.upper, "log": hp.log}
