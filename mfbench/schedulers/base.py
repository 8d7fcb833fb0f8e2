"""The scheduler interface every method implements (the problem it serves: :mod:`mfbench.problem`).

The simulator asks :meth:`Scheduler.suggest` whenever a worker is free and reports every
result through :meth:`Scheduler.on_result`, whose :class:`Decision` it then executes.
A suggestion either starts a new configuration or resumes a paused trial from its
checkpoint; in both cases it says up to which fidelity (the *milestone*) to run.
docs/writing-a-method.md states the whole call sequence and what the simulator guarantees
and checks; ``python -m mfbench.check`` runs a method through the contract.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mfbench.problem import Problem
from mfbench.space import Config


class Decision(str, Enum):
    """What a reporting trial does next."""

    CONTINUE = "continue"
    PAUSE = "pause"  # keep the checkpoint; the trial may be resumed later
    STOP = "stop"  # end the trial (also the decision at the maximum fidelity)


class TrialStatus(str, Enum):
    """How a trial's segment ended (passed to :meth:`Scheduler.on_trial_end`)."""

    COMPLETED = "completed"  # reached the maximum fidelity
    STOPPED = "stopped"  # stopped by the scheduler before the maximum fidelity
    PAUSED = "paused"  # paused at a milestone; may be resumed
    FAILED = "failed"


@dataclass(frozen=True)
class TrialSuggestion:
    """Start ``config`` as a new trial, or resume trial ``trial_id``; run up to ``milestone``.

    :meth:`wait` is the third answer: no work for this worker *now*, but there may be
    later (e.g. a synchronous rung waiting for its running trials once the space is
    exhausted); the worker stays idle and is asked again when another worker frees up.
    """

    milestone: int
    config: Config | None = None
    trial_id: int | None = None
    is_wait: bool = False

    @classmethod
    def start(cls, config: Config, milestone: int) -> "TrialSuggestion":
        return cls(milestone=int(milestone), config=config)

    @classmethod
    def resume(cls, trial_id: int, milestone: int) -> "TrialSuggestion":
        return cls(milestone=int(milestone), trial_id=int(trial_id))

    @classmethod
    def wait(cls) -> "TrialSuggestion":
        return cls(milestone=0, is_wait=True)

    @property
    def is_resume(self) -> bool:
        return self.trial_id is not None


class Scheduler(ABC):
    """Base class of all methods. Subclasses implement :meth:`suggest` and :meth:`on_result`."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    @abstractmethod
    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        """Work for a free worker, or None when there is none any more.

        Args:
            trial_id: the id a *new* trial started from this suggestion will get.

        Returns None only when the scheduler will never have work again (e.g. a finite
        space is exhausted); the simulator then stops asking and lets running trials end.
        :meth:`TrialSuggestion.wait` leaves the worker idle until another one frees up.
        """

    @abstractmethod
    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        """A trial reported ``metric`` at ``fidelity``; decide whether it goes on."""

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        """A trial's segment ended (completed, stopped, paused or failed)."""

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable facts about the method for the run's metadata."""
        return {"scheduler": type(self).__name__}
