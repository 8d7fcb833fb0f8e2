"""A benchmark: a blackbox plus what to optimise and the default experiment size."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from mfbench.blackbox.base import Blackbox
from mfbench.blackbox.fidelity import describe_values
from mfbench.errors import ConfigError, UserInputError, message_of


@dataclass
class Benchmark:
    """What a run simulates.

    Args:
        blackbox: the blackbox (or a zero-argument factory returning it, so data is
            opened only when a run needs it).
        metric: objective to optimise.
        mode: ``"min"`` or ``"max"``.
        fidelity_attr: name of the fidelity (e.g. ``"epoch"``), used in results.
        elapsed_time_attr: objective holding the training time in simulated seconds at each
            fidelity; this is what the simulator charges. Cumulative (from the start of
            training) unless the blackbox declares ``fidelity_is_cumulative = False``; then
            the time of that fidelity's evaluation from scratch (docs/simulator.md#non-cumulative).
        n_workers: default number of parallel workers.
        max_wallclock_time: default simulated budget in seconds.
        max_fidelity: the largest fidelity a trial runs to (default: the blackbox's last).
        description: a sentence saying what this benchmark is (goes into the metadata).
        surrogate: a regression model fitted to the table (e.g. ``knn``, one of
            :data:`mfbench.blackbox.table_surrogate.SURROGATES`), so that configurations that are
            not in the table can be evaluated; None (default): the table itself. Tabulated
            blackboxes only; see :mod:`mfbench.blackbox.table_surrogate` for the semantics.
        surrogate_kwargs: the estimator's options (e.g. ``{n_neighbors: 3}``).
        config_space_surrogate: domains replacing table hyperparameters' (specs as
            :func:`mfbench.space.hyperparameter_from_dict`, list or ``{name: spec}``); the methods
            search the resulting space.
        surrogate_seeds: ``separate`` (default: one model per table seed) or ``merged``
            (one model over every seed, Syne Tune's default).

    The four surrogate options default to None, and a None-valued one is left out of the
    config fingerprint (:data:`mfbench.config.fingerprint.OPTIONAL_KEYS`), so runs of before
    they existed keep their fingerprint.
    """

    blackbox: Blackbox | Callable[[], Blackbox]
    metric: str
    mode: Literal["min", "max"] = "min"
    fidelity_attr: str = "epoch"
    elapsed_time_attr: str = "elapsed_time"
    n_workers: int = 4
    max_wallclock_time: float = 3600.0
    max_fidelity: int | None = None
    description: str = ""
    surrogate: str | None = None
    surrogate_kwargs: dict[str, Any] | None = None
    config_space_surrogate: Any = None
    surrogate_seeds: str | None = None
    _opened: Blackbox | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"benchmark.mode must be 'min' or 'max', got {self.mode!r}")
        if self.n_workers < 1:
            raise ValueError(f"benchmark.n_workers must be >= 1, got {self.n_workers}")
        if not self.max_wallclock_time > 0:
            raise ValueError(f"benchmark.max_wallclock_time must be > 0 seconds, got {self.max_wallclock_time}")
        if self.surrogate is None:
            given = [name for name in ("surrogate_kwargs", "config_space_surrogate", "surrogate_seeds")
                     if getattr(self, name) is not None]
            if given:
                raise ConfigError(f"benchmark.{given[0]} is set but benchmark.surrogate is not: add "
                                  f"benchmark.surrogate=knn (or another model), or drop benchmark.{given[0]}")
        else:  # bad names and options fail at start, not after the table is read
            from mfbench.blackbox.table_surrogate import check_seed_mode, make_estimator

            make_estimator(self.surrogate, self.surrogate_kwargs)
            check_seed_mode(self.surrogate_seeds)

    def open(self) -> Blackbox:
        """The blackbox, opened once (and wrapped by the surrogate, if any); checks that metric and elapsed time exist."""
        if self._opened is None:
            blackbox = self.blackbox if isinstance(self.blackbox, Blackbox) else _built(self.blackbox)
            if self.surrogate is not None:
                from mfbench.blackbox.table_surrogate import table_surrogate

                blackbox = table_surrogate(blackbox, self.surrogate, self.surrogate_kwargs,
                                           self.config_space_surrogate, self.surrogate_seeds)
            for option, name in (("metric", self.metric), ("elapsed_time_attr", self.elapsed_time_attr)):
                if name not in blackbox.objective_names:
                    raise ConfigError(f"benchmark.{option}={name!r} is not an objective of this benchmark; its "
                                      f"objectives are {list(blackbox.objective_names)}")
            if self.max_fidelity is not None and self.max_fidelity not in set(blackbox.fidelity_values.tolist()):
                raise ConfigError(f"benchmark.max_fidelity={self.max_fidelity} is not a fidelity of the blackbox "
                                  f"({describe_values(blackbox.fidelity_values)})")
            self._opened = blackbox
        return self._opened

    @property
    def fidelities(self) -> np.ndarray:
        """Fidelity values a trial can reach, sorted, up to :attr:`max_fidelity`."""
        values = self.open().fidelity_values
        return values if self.max_fidelity is None else values[values <= self.max_fidelity]


def _built(factory: Callable[[], Blackbox]) -> Blackbox:
    """The blackbox of a factory (a partial of the ``benchmark.blackbox`` node); its complaint
    about an option (ValueError, KeyError, TypeError) as a ConfigError naming that node."""
    try:
        return factory()
    except UserInputError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"benchmark.blackbox: {message_of(error)}") from error
