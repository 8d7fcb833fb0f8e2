"""A method's answers are checked where they enter the simulator (docs/writing-a-method.md#checked).

Each wrong answer stops the run with a MethodContractError naming the class, the call, what it
returned and what was expected, instead of an AttributeError deep inside the simulator.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

from mfbench.backend.simulator import Simulator
from mfbench.backend.stopping import StoppingCriterion
from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.base import TabularBlackbox
from mfbench.errors import MethodContractError, UserInputError
from mfbench.problem import Problem
from mfbench.schedulers.base import Decision, Scheduler, TrialSuggestion
from mfbench.space import ConfigSpace, Integer

FIDELITIES = np.array([1, 2, 4, 8])


class Scripted(Scheduler):
    """Answers ``suggest`` from a script (one answer per call, then None) and ``on_result`` with a function."""

    def __init__(self, problem: Problem, answers: list[Any], decide: Callable[[int, int], Any]) -> None:
        super().__init__(problem)
        self.answers = list(answers)
        self.decide = decide

    def suggest(self, trial_id: int) -> Any:
        return self.answers.pop(0) if self.answers else None

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Any:
        return self.decide(trial_id, fidelity)


def _simulate(answers: list[Any], decide: Callable[[int, int], Any] = lambda t, f: Decision.CONTINUE,
              n_workers: int = 1) -> Any:
    space = ConfigSpace((Integer("x", 0, 2),), table=[(0,), (1,), (2,)])
    evaluations = np.stack([np.broadcast_to(1.0 / FIDELITIES, (3, 1, 4)),
                            np.broadcast_to(10.0 * FIDELITIES, (3, 1, 4))], axis=-1)
    benchmark = Benchmark(TabularBlackbox(space, FIDELITIES, ["value", "elapsed_time"], evaluations), metric="value")
    problem = Problem(space, FIDELITIES, "value", "min", n_workers, 0)
    stopping = StoppingCriterion(max_wallclock_time=math.inf, max_num_evaluations=100).resolved(math.inf)
    return Simulator().run(benchmark, Scripted(problem, answers, decide), problem, stopping)


def test_a_correct_script_runs() -> None:
    outcome = _simulate([TrialSuggestion.start({"x": 1}, 2), TrialSuggestion.resume(0, 8)])
    assert outcome.recorder.fidelities == [1, 2, 4, 8]


@pytest.mark.parametrize("answers, decide, message", [
    (["start x=1"], None, r"test_simulator_contract\.Scripted\.suggest\(trial_id=0\) returned 'start x=1'; expected a "
                          r"TrialSuggestion .* or None"),
    ([TrialSuggestion.start({"x": 7}, 2)], None, r"suggest\(trial_id=0\) asked to start \{'x': 7\}; expected a dict "
                                                 r"of the search space's values for \['x'\]"),
    ([TrialSuggestion.start({"x": 1, "y": 0}, 2)], None, r"asked to start \{'x': 1, 'y': 0\}"),
    ([TrialSuggestion(milestone=2)], None, r"asked to start None"),
    ([TrialSuggestion.start({"x": 1}, 3)], None, r"gave trial 0 the milestone 3; expected one of the fidelities "
                                                 r"\[1, 2, 4, 8\] above the trial's checkpoint at fidelity 0"),
    ([TrialSuggestion.start({"x": 1}, 16)], None, r"the milestone 16"),
    ([TrialSuggestion.start({"x": 1}, 2), TrialSuggestion.resume(0, 2)], None,
     r"suggest\(trial_id=1\) gave trial 0 the milestone 2; expected .* above the trial's checkpoint at fidelity 2"),
    ([TrialSuggestion.resume(5, 2)], None, r"asked to resume trial 5, which is not a trial of this run; expected "
                                           r"the id of a paused trial \(paused now: none\)"),
    ([TrialSuggestion.start({"x": 1}, 8), TrialSuggestion.resume(0, 8)], lambda t, f: Decision.STOP,
     r"asked to resume trial 0, which is stopped"),
    ([TrialSuggestion(milestone=4, config={"x": 1}, trial_id=0)], None, r"not both"),
    ([TrialSuggestion.start({"x": 1}, 2)], lambda t, f: None,
     r"test_simulator_contract\.Scripted\.on_result\(trial_id=0, fidelity=1, metric=1\.0\) returned None; expected a Decision "
     r"\(Decision\.CONTINUE, Decision\.PAUSE or Decision\.STOP\)"),
    ([TrialSuggestion.start({"x": 1}, 2)], lambda t, f: "stop", r"returned 'stop'; expected a Decision"),
])
def test_a_wrong_answer_names_class_call_and_expectation(answers: list[Any], decide: Any, message: str) -> None:
    with pytest.raises(MethodContractError, match=message) as raised:
        _simulate(answers, decide or (lambda t, f: Decision.CONTINUE))
    assert isinstance(raised.value, UserInputError)  # the entry points print it in one line
    assert "docs/writing-a-method.md" in str(raised.value)


def test_a_resume_of_a_running_trial_is_refused() -> None:
    # two workers: trial 0 still runs when the second worker asks for work
    with pytest.raises(MethodContractError, match=r"asked to resume trial 0, which is running"):
        _simulate([TrialSuggestion.start({"x": 1}, 8), TrialSuggestion.resume(0, 8)], n_workers=2)
