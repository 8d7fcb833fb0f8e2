"""The simulator's *wait* answer: a free worker stays idle and is asked again later."""
from __future__ import annotations

import math

import numpy as np

from mfbench.backend.simulator import Simulator
from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.base import TabularBlackbox
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.problem import Problem
from mfbench.space import ConfigSpace, Integer
from mfbench.backend.stopping import StoppingCriterion


class OneTrialTwice(Scheduler):
    """Starts one trial to fidelity 2, waits while it runs, then resumes it to 4; then done."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.answers: list[str] = []
        self.paused = False
        self.resumed = False

    def suggest(self, trial_id: int) -> TrialSuggestion | None:
        if trial_id == 0:
            self.answers.append("start")
            return TrialSuggestion.start({"x": 0}, 2)
        if self.paused and not self.resumed:
            self.resumed = True
            self.answers.append("resume")
            return TrialSuggestion.resume(0, 4)
        if not self.resumed:
            self.answers.append("wait")
            return TrialSuggestion.wait()
        self.answers.append("none")
        return None

    def on_result(self, trial_id: int, fidelity: int, metric: float) -> Decision:
        return Decision.PAUSE if fidelity == 2 else (Decision.STOP if fidelity == 4 else Decision.CONTINUE)

    def on_trial_end(self, trial_id: int, status: TrialStatus) -> None:
        self.paused = status is TrialStatus.PAUSED


def test_wait_leaves_workers_idle_until_another_frees_up() -> None:
    space = ConfigSpace((Integer("x", 0, 1),), table=[(0,), (1,)])
    epochs = np.arange(1, 5)
    evaluations = np.stack([np.broadcast_to(1.0 / epochs, (2, 1, 4)), np.broadcast_to(10.0 * epochs, (2, 1, 4))], axis=-1)
    benchmark = Benchmark(TabularBlackbox(space, epochs, ["value", "elapsed_time"], evaluations), metric="value")
    problem = Problem(space, epochs, "value", "min", 3, 0)
    scheduler = OneTrialTwice(problem)
    outcome = Simulator().run(benchmark, scheduler, problem, StoppingCriterion(max_wallclock_time=math.inf,
                                                                               max_num_evaluations=100).resolved(math.inf))
    # 3 workers: one starts, then a wait ends the round (the third worker is not asked); the
    # pause frees a worker and the free ones are asked again: the resume, then None (nothing
    # more to come), after which the simulator never asks again and the running trial ends
    assert scheduler.answers == ["start", "wait", "resume", "none"]
    assert outcome.recorder.fidelities == [1, 2, 3, 4]
    assert outcome.stop_reason == "space_exhausted" and outcome.num_trials_started == 1
