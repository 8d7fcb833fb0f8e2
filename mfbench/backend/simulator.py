"""The simulator backend: runs a scheduler against a blackbox in simulated time.

An event heap keyed by ``(time, insertion counter)`` (ties in FIFO order) holds, for each
running trial segment, its *next* result, plus "worker free" events. A segment's results
come from one vectorised blackbox lookup when it starts; a stop or pause drops the
segment's remaining results lazily. Semantics follow the reference simulator
(docs/simulator.md) with these documented choices:

* the table seed of a trial is drawn once, from the run's own random stream;
* pause/resume keeps the checkpoint: a resumed trial reports only fidelities above the
  one it paused at, and its elapsed time is offset by the time already spent;
* a blackbox whose fidelity is not cumulative (``fidelity_is_cumulative = False``, e.g. a
  training-set fraction) has each fidelity evaluated from scratch: a segment still reports
  every fidelity above the checkpoint up to the milestone, and each is charged its whole
  tabulated elapsed time, one after the other;
* the scheduler's decision time is *not* charged to the simulated clock unless
  ``charge_decision_time=True`` (then runs are no longer bit-reproducible);
* the run ends at the first limit of the stopping criterion; a result stamped after
  the wall-clock budget is not counted, and running trials are dropped;
* once :meth:`Scheduler.suggest` returns None the simulator never asks again (the
  space is exhausted) and the run ends when the running trials end; a *wait*
  suggestion leaves the worker idle until the next worker frees up;
* by default the tuner reacts at every event: a result is decided on when it arrives
  and a worker is refilled the moment it frees up. The reference's tuner instead sleeps
  ``tuner_sleep_time = 5`` simulated seconds whenever every worker is busy, so it sees
  results and free workers only at those polls; ``poll_interval=5`` reproduces that
  (see :meth:`_Run.execute`). The polls idle workers: ~10% fewer results in the first
  hour of synchronous Hyperband on NB201, where most jobs are one 20-s epoch.
"""
from __future__ import annotations

import heapq
import math
import time as real_time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mfbench.benchmarks.base import Benchmark
from mfbench.blackbox.fidelity import describe_values
from mfbench.errors import DataError, MethodContractError
from mfbench.results.recorder import ResultRecorder
from mfbench.schedulers.base import Decision, Scheduler, TrialStatus, TrialSuggestion
from mfbench.schedulers.contract import describe_class
from mfbench.problem import Problem
from mfbench.space import Config
from mfbench.backend.stopping import StoppingCriterion

_RESULT, _WORKER_FREE = 0, 1
#: the shortest poll interval (s): shorter ones only count polls (and overflow their count)
MIN_POLL_INTERVAL = 1e-3
#: elapsed times within a segment are forced strictly increasing by at least this (s)
_MIN_ELAPSED_STEP = 0.01


@dataclass
class _Trial:
    trial_id: int
    config: Config
    table_seed: int
    status: str = "running"
    last_fidelity: int = 0
    last_elapsed: float = 0.0  # cumulative table elapsed time at last_fidelity


@dataclass
class _Segment:
    """One contiguous run of a trial on a worker, from a checkpoint to a milestone."""

    trial: _Trial
    worker: int
    fidelities: np.ndarray  # (n,)
    objectives: np.ndarray  # (n, O)
    times: np.ndarray  # (n,) simulated arrival time of each result
    position: int = 0
    cancelled: bool = False


@dataclass
class SimulationOutcome:
    """What a finished simulation returns (besides the recorded results)."""

    recorder: ResultRecorder
    stop_reason: str
    simulated_time: float
    num_trials_started: int
    num_trials_completed: int
    space_exhausted: bool
    decision_seconds: float
    trial_configs: dict[int, Config] = field(default_factory=dict)


class Simulator:
    """Simulated-time backend with ``n_workers`` workers.

    Args:
        charge_decision_time: add the measured real time of scheduler calls to the
            simulated clock, as the reference does (breaks exact reproducibility).
        start_delay: seconds between scheduling a segment and its start.
        result_delay: seconds between a result being computed and being received.
        complete_delay: seconds after a segment's final result until its worker is free.
        stop_delay: seconds after a stop or pause decision until the worker is free.
        poll_interval: 0 (default) = react at every event; > 0 = the reference tuner's loop:
            the simulator looks at results and free workers only at polls this many simulated
            seconds apart while every worker is busy (Syne Tune's ``tuner_sleep_time``, 5 s).
    """

    def __init__(
        self,
        charge_decision_time: bool = False,
        start_delay: float = 0.05,
        result_delay: float = 0.05,
        complete_delay: float = 0.05,
        stop_delay: float = 0.1,
        poll_interval: float = 0.0,
    ) -> None:
        for name, value in [("start_delay", start_delay), ("result_delay", result_delay),
                            ("complete_delay", complete_delay), ("stop_delay", stop_delay),
                            ("poll_interval", poll_interval)]:
            if not value >= 0 or value == float("inf"):
                raise ValueError(f"backend.{name} must be a finite number of seconds >= 0, got {value}")
        if 0 < poll_interval < MIN_POLL_INTERVAL:
            raise ValueError(f"backend.poll_interval must be 0 (react at every event) or at least "
                             f"{MIN_POLL_INTERVAL} s, got {poll_interval}")
        self.charge_decision_time = charge_decision_time
        self.start_delay = start_delay
        self.result_delay = result_delay
        self.complete_delay = complete_delay
        self.stop_delay = stop_delay
        self.poll_interval = poll_interval

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "simulator",
            "charge_decision_time": self.charge_decision_time,
            "delays": [self.start_delay, self.result_delay, self.complete_delay, self.stop_delay],
            "poll_interval": self.poll_interval,
        }

    def run(
        self,
        benchmark: Benchmark,
        scheduler: Scheduler,
        problem: Problem,
        stopping: StoppingCriterion,
        progress: Callable[[float], None] | None = None,
    ) -> SimulationOutcome:
        """Simulate until the stopping criterion (or exhaustion) ends the run."""
        return _Run(self, benchmark, scheduler, problem, stopping, progress).execute()


def _contiguous_offset(fidelities: np.ndarray, values: np.ndarray) -> int | None:
    """The position of ``fidelities`` ``(F,)`` within ``values`` (a blackbox's sorted fidelity values)
    if they are a run of consecutive values, strictly increasing; else None."""
    if len(fidelities) == 0 or np.any(np.diff(fidelities) <= 0):
        return None
    start = int(np.searchsorted(values, fidelities[0]))
    stop = start + len(fidelities)
    if stop > len(values) or not np.array_equal(values[start:stop], fidelities):
        return None
    return start


class _Run:
    """The state of one simulation (kept apart from the reusable :class:`Simulator`)."""

    def __init__(self, sim: Simulator, benchmark: Benchmark, scheduler: Scheduler, problem: Problem,
                 stopping: StoppingCriterion, progress: Callable[[float], None] | None) -> None:
        self.sim = sim
        self.blackbox = benchmark.open()
        self.scheduler = scheduler
        self.problem = problem
        self.stopping = stopping
        self.progress = progress
        self.budget = stopping.budget
        self.fidelities = problem.fidelities
        #: where the problem's fidelities start among the blackbox's, if they are a contiguous run of
        #: them in order (the usual case): a segment's objectives are then read by position
        #: (Blackbox.evaluate_run) and its fidelities found by bisection; None: by value (also for
        #: an object that only has ``evaluate``, not derived from Blackbox)
        self.fidelity_offset = _contiguous_offset(np.asarray(problem.fidelities),
                                                  np.asarray(self.blackbox.fidelity_values)) \
            if hasattr(self.blackbox, "evaluate_run") else None
        self.max_fidelity = problem.max_fidelity
        self.fidelity_set = frozenset(int(f) for f in problem.fidelities)  # legal milestones
        #: fidelity -> its position + 1 among the (strictly increasing) fidelities
        self.position_after = {f: i + 1 for i, f in enumerate(np.asarray(problem.fidelities).tolist())}
        self.space = problem.config_space
        self.num_hyperparameters = len(problem.config_space.names)
        self.metric_index = self.blackbox.objective_index(benchmark.metric)
        self.elapsed_index = self.blackbox.objective_index(benchmark.elapsed_time_attr)
        self.elapsed_name = benchmark.elapsed_time_attr
        #: False: every fidelity is an evaluation from scratch, charged in full (see _start_segment)
        self.cumulative = bool(getattr(self.blackbox, "fidelity_is_cumulative", True))
        self.seed_rng = problem.rng("simulator.table_seed")
        self.recorder = ResultRecorder(self.blackbox.objective_names, benchmark.fidelity_attr, problem.config_space)
        self.trials: dict[int, _Trial] = {}
        self.heap: list[tuple[float, int, int, _Segment]] = []
        self.counter = 0
        self.now = 0.0
        self.free_workers = list(range(problem.n_workers))
        self.exhausted = False
        self.num_completed = 0
        self.decision_seconds = 0.0

    # -------------------------------------------------------------- helpers
    def _push(self, time: float, kind: int, segment: _Segment) -> None:
        heapq.heappush(self.heap, (time, self.counter, kind, segment))
        self.counter += 1

    def _charge(self, spent: float) -> None:
        """Count ``spent`` real seconds of a call to the method (and charge them to the clock if asked).

        Each call to the scheduler is timed inline around it (a closure and an extra frame per
        result would be a measurable share of a non-model-based run)."""
        self.decision_seconds += spent
        if self.sim.charge_decision_time:
            self.now += spent

    # ------------------------------------------------- the method's answers, checked
    def _contract_error(self, call: str, got: str, expected: str) -> MethodContractError:
        """The error for an answer of the method outside its contract (built only when one is wrong)."""
        return MethodContractError(f"{describe_class(type(self.scheduler))}.{call} {got}; expected {expected} "
                                   f"(docs/writing-a-method.md)")

    def _checked_trial(self, suggestion: TrialSuggestion, next_id: int) -> _Trial:
        """The trial a suggestion starts or resumes, after checking what the method asked for.

        Cheap on purpose (a few comparisons per segment, messages built only on failure): this
        runs for every start and resume of the speed-critical loop.
        """
        if suggestion.trial_id is not None:  # a resume
            trial = self.trials.get(suggestion.trial_id)
            if trial is None or trial.status != "paused" or suggestion.config is not None:
                raise self._bad_resume(suggestion, next_id, trial)
        else:
            config = suggestion.config
            if not isinstance(config, dict) or not self._in_space(config):
                raise self._contract_error(f"suggest(trial_id={next_id})", f"asked to start {config!r}",
                                           f"a dict of the search space's values for {self.space.names} (a "
                                           "configuration from problem.config_space.sample(rng) or a Searcher)")
            trial = _Trial(next_id, config, -1)  # the table seed is drawn once the whole suggestion is valid
        milestone = suggestion.milestone
        try:
            legal = milestone in self.fidelity_set and milestone > trial.last_fidelity and milestone.__class__ is not bool
        except TypeError:  # unhashable or not comparable: not a fidelity either
            legal = False
        if not legal:
            raise self._contract_error(f"suggest(trial_id={next_id})",
                                       f"gave trial {trial.trial_id} the milestone {milestone!r}",
                                       f"one of the fidelities {_shorten(self.fidelities)} above the trial's "
                                       f"checkpoint at fidelity {trial.last_fidelity}")
        return trial

    def _in_space(self, config: dict[str, Any]) -> bool:
        """``config`` is a configuration of the space: on a table, one of its rows (a dict lookup:
        the table *is* the space, and the full :meth:`ConfigSpace.contains` costs 4x more per trial)."""
        if self.space.table is None:
            return self.space.contains(config)
        if len(config) != self.num_hyperparameters:
            return False
        try:
            self.space.index_of(config)
        except (KeyError, TypeError):  # a missing name, or an unhashable value
            return False
        return True

    def _bad_resume(self, suggestion: TrialSuggestion, next_id: int, trial: _Trial | None) -> MethodContractError:
        call = f"suggest(trial_id={next_id})"
        if suggestion.config is not None:
            return self._contract_error(call, f"returned {suggestion!r}", "either a new config "
                                        "(TrialSuggestion.start) or a paused trial_id (TrialSuggestion.resume), not both")
        state = "not a trial of this run" if trial is None else trial.status
        paused = sorted(t.trial_id for t in self.trials.values() if t.status == TrialStatus.PAUSED.value)
        return self._contract_error(call, f"asked to resume trial {suggestion.trial_id!r}, which is {state}",
                                    f"the id of a paused trial (paused now: {paused[:10] or 'none'})")

    def _start_segment(self, suggestion: TrialSuggestion, next_id: int) -> None:
        trial = self._checked_trial(suggestion, next_id)
        if not suggestion.is_resume:
            trial.table_seed = int(self.seed_rng.integers(self.blackbox.num_seeds))
            self.trials[trial.trial_id] = trial
            self.recorder.configs[trial.trial_id] = trial.config
        milestone = suggestion.milestone
        if self.fidelity_offset is None:
            mask = (self.fidelities > trial.last_fidelity) & (self.fidelities <= milestone)
            fidelities = self.fidelities[mask]
            objectives = self.blackbox.evaluate(trial.config, trial.table_seed, fidelities)
        else:  # the fidelities above the checkpoint up to the milestone: one run of the sorted values
            start = self._position_after(trial.last_fidelity)
            stop = self._position_after(milestone)
            fidelities = self.fidelities[start:stop]
            offset = self.fidelity_offset
            objectives = self.blackbox.evaluate_run(trial.config, trial.table_seed, offset + start, offset + stop)
        if self.cumulative:
            elapsed = objectives[:, self.elapsed_index] - trial.last_elapsed
        else:
            # each fidelity of the segment is its own evaluation from scratch, run one after the
            # other and charged its whole elapsed time (at least the minimum step): the checkpoint
            # saves the re-evaluation of the fidelities at or below it, not their time
            elapsed = np.cumsum(np.maximum(objectives[:, self.elapsed_index], _MIN_ELAPSED_STEP))
        # written as "not >=" so that a NaN (no elapsed time) takes this branch too, at no extra cost
        if not elapsed[0] >= _MIN_ELAPSED_STEP or (len(elapsed) > 1 and not (elapsed[1:] - elapsed[:-1]).min() >= _MIN_ELAPSED_STEP):
            if np.isnan(elapsed).any():
                raise self._no_elapsed_time(trial, fidelities, objectives)
            elapsed = elapsed.copy()
            previous = 0.0
            for i in range(len(elapsed)):
                elapsed[i] = max(elapsed[i], previous + _MIN_ELAPSED_STEP)
                previous = elapsed[i]
        times = self.now + self.sim.start_delay + elapsed + self.sim.result_delay
        trial.status = "running"
        segment = _Segment(trial, self.free_workers.pop(0), fidelities, objectives, times)
        self._push(float(times[0]), _RESULT, segment)

    def _no_elapsed_time(self, trial: _Trial, fidelities: np.ndarray, objectives: np.ndarray) -> DataError:
        """The error for a segment whose elapsed time is NaN: the simulated clock cannot place its results."""
        missing = [int(f) for f, value in zip(fidelities, objectives[:, self.elapsed_index]) if value != value]
        return DataError(f"the benchmark's elapsed time ({self.elapsed_name!r}) is NaN for the configuration "
                         f"{trial.config} (table seed {trial.table_seed}) at fidelities {describe_values(missing)}: "
                         "the simulator cannot place these results in time; fill the elapsed time of every "
                         "evaluation (a failed evaluation keeps the time it took, with its metric NaN)")

    def _position_after(self, fidelity: Any) -> int:
        """``fidelities.searchsorted(fidelity, "right")``: a dict lookup for one of the fidelities
        (milestones and checkpoints always are, but for the start at 0), bisection otherwise."""
        position = self.position_after.get(fidelity)
        return int(self.fidelities.searchsorted(fidelity, "right")) if position is None else position

    def _fill_workers(self) -> None:
        limit = self.stopping.max_num_trials_started
        while self.free_workers and not self.exhausted:
            if limit is not None and len(self.trials) >= limit:
                return
            next_id = len(self.trials)
            started = real_time.perf_counter()
            suggestion = self.scheduler.suggest(next_id)
            self._charge(real_time.perf_counter() - started)
            if suggestion is None:
                self.exhausted = True
                return
            if not isinstance(suggestion, TrialSuggestion):
                raise self._contract_error(f"suggest(trial_id={next_id})", f"returned {suggestion!r}",
                                           "a TrialSuggestion (TrialSuggestion.start(config, milestone), "
                                           ".resume(trial_id, milestone) or .wait()) or None")
            if suggestion.is_wait:
                return
            self._start_segment(suggestion, next_id)

    def _end_trial(self, trial: _Trial, status: TrialStatus) -> None:
        trial.status = status.value
        if status is TrialStatus.COMPLETED:
            self.num_completed += 1
        started = real_time.perf_counter()
        self.scheduler.on_trial_end(trial.trial_id, status)
        self._charge(real_time.perf_counter() - started)

    # ----------------------------------------------------------------- loop
    def _on_result(self, time: float, segment: _Segment) -> str | None:
        i = segment.position
        trial = segment.trial
        fidelity = int(segment.fidelities[i])
        objectives = segment.objectives[i]
        trial.last_fidelity = fidelity
        trial.last_elapsed = float(objectives[self.elapsed_index])
        metric = float(objectives[self.metric_index])
        started = real_time.perf_counter()
        decision = self.scheduler.on_result(trial.trial_id, fidelity, metric)
        self._charge(real_time.perf_counter() - started)
        if decision.__class__ is not Decision:  # one identity test per result: the check costs nothing
            raise self._contract_error(f"on_result(trial_id={trial.trial_id}, fidelity={fidelity}, metric={metric})",
                                       f"returned {decision!r}", "a Decision (Decision.CONTINUE, Decision.PAUSE or "
                                       "Decision.STOP)")
        self.recorder.add(trial.trial_id, segment.worker, trial.table_seed, fidelity, objectives, time,
                          decision.value)
        last = i == len(segment.fidelities) - 1
        if decision is Decision.CONTINUE and not last:
            segment.position += 1
            self._push(float(segment.times[i + 1]), _RESULT, segment)
        else:
            segment.cancelled = True
            if fidelity >= self.max_fidelity:
                status = TrialStatus.COMPLETED
            elif decision is Decision.STOP:
                status = TrialStatus.STOPPED
            else:
                status = TrialStatus.PAUSED
            if self.sim.poll_interval > 0 and status is not TrialStatus.COMPLETED:
                # the reference's stop / pause blocks the tuner for the delay, then the worker is free
                self.now += self.sim.stop_delay
                self._free(segment.worker)
            else:
                self._push(time + (self.sim.complete_delay if last else self.sim.stop_delay), _WORKER_FREE, segment)
            self._end_trial(trial, status)
        if self.stopping.max_num_evaluations is not None and len(self.recorder) >= self.stopping.max_num_evaluations:
            return "max_num_evaluations"
        if self.stopping.max_num_trials_completed is not None and self.num_completed >= self.stopping.max_num_trials_completed:
            return "max_num_trials_completed"
        return None

    def _free(self, worker: int) -> None:
        self.free_workers.append(worker)
        self.free_workers.sort()

    def _next_event_time(self) -> float | None:
        """Time of the next live event (cancelled results are dropped), None if there is none."""
        while self.heap and self.heap[0][2] == _RESULT and self.heap[0][3].cancelled:
            heapq.heappop(self.heap)
        return self.heap[0][0] if self.heap else None

    def _next_poll(self, time: float) -> float:
        """The first poll at or after ``time``: the tuner sleeps ``poll_interval`` at a time from now."""
        interval = self.sim.poll_interval
        polls = max(1, int(np.ceil((time - self.now) / interval)))
        while self.now + polls * interval < time:  # rounding
            polls += 1
        return self.now + polls * interval

    def _process_events_until(self, until: float, at_each_event: bool = False) -> str | None:
        """Process every event up to ``until`` in time order; the stop reason if the run ends.

        ``at_each_event`` (``poll_interval == 0``, called once with ``until = inf``): the clock
        follows each event, a freed worker is refilled at once and progress is reported after
        every event. Otherwise (the events up to a poll at ``until``) decisions wait for the poll.
        One flat loop either way: it runs once per result of a run, so it makes no calls it need not.
        """
        heap, budget = self.heap, self.budget  # the run never rebinds these (the heap is changed in place)
        progress = self.progress if at_each_event else None
        while (time := self._next_event_time()) is not None and time <= until:
            if time > budget:
                self.now = max(self.now, budget)
                return "max_wallclock_time"
            _, _, kind, segment = heapq.heappop(heap)
            if at_each_event and time > self.now:
                self.now = time
            if kind == _RESULT:
                reason = self._on_result(time, segment)
                if reason is not None:
                    return reason
            else:
                self._free(segment.worker)
                if at_each_event:
                    self._fill_workers()
            if progress is not None:
                progress(self.now)
        return None

    def _react_at_polls(self) -> str | None:
        """The loop of ``poll_interval > 0`` (see :meth:`execute`); the stop reason, None when no
        event is left."""
        stop_reason = None
        while stop_reason is None and (time := self._next_event_time()) is not None:
            if time > self.now:
                self.now = self._next_poll(time)
            stop_reason = self._process_events_until(self.now)
            if stop_reason is None and self.now > self.budget:  # a poll after the budget starts nothing
                stop_reason = "max_wallclock_time"
            if stop_reason is None:
                self._fill_workers()
            if self.progress is not None:
                self.progress(self.now)
        return stop_reason

    def execute(self) -> SimulationOutcome:
        """Run the event loop.

        ``poll_interval == 0``: each event is handled at its time and a freed worker is refilled
        at once. ``poll_interval > 0`` (the reference tuner's loop): the clock jumps to the first
        poll at or after the next event; all events up to the poll are handled in time order
        (results keep their own time stamps, decisions take effect at the poll); then the free
        workers are refilled.
        """
        self._fill_workers()
        if self.sim.poll_interval == 0:
            stop_reason = self._process_events_until(math.inf, at_each_event=True)
            if stop_reason is not None and self.progress is not None:  # a limit ended it: show where
                self.progress(self.now)
        else:
            stop_reason = self._react_at_polls()
        if stop_reason is None:
            limit = self.stopping.max_num_trials_started
            if self.exhausted:
                stop_reason = "space_exhausted"
            elif limit is not None and len(self.trials) >= limit:  # reached: the method may stop asking before
                stop_reason = "max_num_trials_started"
            else:
                stop_reason = "no_more_work"
        return SimulationOutcome(
            recorder=self.recorder,
            stop_reason=stop_reason,
            simulated_time=min(self.now, self.budget),
            num_trials_started=len(self.trials),
            num_trials_completed=self.num_completed,
            space_exhausted=self.exhausted,
            decision_seconds=self.decision_seconds,
            trial_configs={t: trial.config for t, trial in self.trials.items()},
        )


def _shorten(values: np.ndarray) -> str:
    """``[1, 2, 3, ..., 200]`` for a long list of fidelities, the list itself for a short one."""
    items = [int(v) for v in values]
    return str(items) if len(items) <= 8 else f"[{items[0]}, {items[1]}, {items[2]}, ..., {items[-1]}]"
