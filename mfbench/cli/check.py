"""``python -m mfbench.check <overrides>``: the contract every method honours, as a pass/fail list.

The same checks hold mfbench's own methods (``tests/test_method_contract.py`` runs them on
every YAML in ``conf/method/``) and a researcher's method:

    python -m mfbench.check --config-dir conf method=my_method
    python -m mfbench.check method._target_=my_method.py:MedianStopping

Each *scenario* composes the method with a small built-in benchmark, runs it in-process into
a temporary folder (nothing is written where the command is started) and checks the results:

* ``hartmann3``: 40 results, run twice with seed 3: the budget and the workers are respected,
  the budget is used, every configuration is in the space, one configuration per trial and no
  configuration twice, results in arrival order, each trial's fidelities increasing (a resumed
  trial continues from its checkpoint), and the second run bit-identical to the first;
* a tiny finite space (8 configurations, 2 workers) without a time limit, event-driven and with
  Syne Tune's 5-s polls (``backend.poll_interval=5``): the same checks, at most 8 distinct
  configurations, and a clean end once every configuration was tried.

A run that fails (a config error, a contract error of the simulator, an exception in the
method) fails its scenario with the error's message; the scenario's other checks are then
skipped. The exit status is 0 only if every check passed, 1 if one failed, 2 if the overrides
do not compose into a config at all.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

#: results per analytic run: small, so that all methods' contract stays within a few minutes
MAX_RESULTS = 40
#: configurations of the tiny finite space (``grid_size=2`` on Hartmann-3)
TINY_SPACE_SIZE = 8
#: how a run on the tiny space may end: every configuration tried, no work left, or its result limit
CLEAN_END = ("space_exhausted", "no_more_work", "max_num_evaluations")
#: top-level keys a scenario sets itself; the user's overrides of these are ignored (and listed)
_SCENARIO_KEYS = ("benchmark", "stopping", "seed", "n_workers", "backend.poll_interval", "progress",
                  "experiment_name", "overwrite", "experiment")


@dataclass(frozen=True)
class Scenario:
    """A benchmark and budget a method is run on, and the checks applied to its runs.

    Attributes:
        title: shown above the scenario's checks.
        benchmark: the ``benchmark=`` option.
        overrides: the scenario's own overrides (budget, workers, polling).
        max_results: the result limit the run must stay within.
        uses_budget: the run must use all ``max_results`` (the space is large enough).
        twice: run twice with the same seed; the runs must be bit-identical.
        finite_space: at most this many distinct configurations, and a clean end.
        charged_whole: the fidelity is not cumulative: every result must come at least its own
            evaluation's time after the trial's previous one (docs/simulator.md#non-cumulative).
    """

    title: str
    benchmark: str
    overrides: tuple[str, ...]
    max_results: int
    uses_budget: bool = False
    twice: bool = False
    finite_space: int | None = None
    charged_whole: bool = False


ANALYTIC = Scenario(f"hartmann3, {MAX_RESULTS} results, seed 3, run twice", "hartmann3",
                    (f"stopping.max_num_evaluations={MAX_RESULTS}", "seed=3"), MAX_RESULTS, uses_budget=True,
                    twice=True)


def finite_space(poll_interval: float) -> Scenario:
    """2^3 = 8 configurations, 2 workers, no time limit: the method must try each at most once and
    then end, also with the reference tuner's polls (results and free workers seen every 5 s)."""
    loop = "event-driven" if poll_interval == 0 else f"polling every {poll_interval:g} s like Syne Tune"
    return Scenario(f"tiny finite space ({TINY_SPACE_SIZE} configurations, 2 workers), {loop}", "hartmann3",
                    ("benchmark.blackbox.grid_size=2", "benchmark.blackbox.max_epoch=9", "stopping=evaluations",
                     "stopping.max_num_evaluations=500", "n_workers=2", f"backend.poll_interval={poll_interval:g}"),
                    500, finite_space=TINY_SPACE_SIZE)


def table_scenario(benchmark: str) -> Scenario:
    """A short run on a tabulated benchmark (the tests use the NB201 fixtures)."""
    return Scenario(f"{benchmark}, {MAX_RESULTS} results", benchmark, (f"stopping.max_num_evaluations={MAX_RESULTS}",),
                    MAX_RESULTS)


#: a fidelity that is a training-set fraction: each level trained from scratch and charged whole
NON_CUMULATIVE = Scenario(f"trainsize_toy (non-cumulative fidelity), {MAX_RESULTS} results, seed 3", "trainsize_toy",
                          (f"stopping.max_num_evaluations={MAX_RESULTS}", "seed=3"), MAX_RESULTS, uses_budget=True,
                          charged_whole=True)

#: what ``python -m mfbench.check`` runs
DEFAULT_SCENARIOS = (ANALYTIC, finite_space(0), finite_space(5), NON_CUMULATIVE)


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: a check, whether it passed, and what was expected / what happened."""

    scenario: str
    name: str
    passed: bool | None  # None: skipped (the run it needs failed)
    detail: str = ""

    def line(self) -> str:
        mark = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"  {mark}  {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class _Run:
    metadata: dict[str, Any]
    columns: dict[str, list[Any]]
    space: Any = field(repr=False)


# ------------------------------------------------------------------ method overrides
def method_overrides(overrides: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """``(overrides to compose, method name, ignored overrides)`` for a check of ``overrides``.

    Keeps what selects and configures the method (``method=...``, ``method.*``, ``+method.*``,
    ``hydra.searchpath``, ``backend.*``); a scenario sets the benchmark, budget, seed and workers
    itself. Without ``method=NAME``, ``method._target_=X`` names the class alone: the shipped
    default method's options are dropped (``~method``) and the method node is ``X``'s.
    """
    kept, ignored = [], []
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in _SCENARIO_KEYS or key.split(".")[0] in ("benchmark", "stopping"):
            ignored.append(override)
        else:
            kept.append(override)
    choice = next((o.split("=", 1)[1] for o in kept if o.startswith("method=")), None)
    target = next((o.split("=", 1)[1] for o in kept if o.lstrip("+").startswith("method._target_=")), None)
    if choice is None and target is not None:
        kept = [("+" + o.lstrip("+") if o.lstrip("+").startswith("method.") else o) for o in kept]
        kept.insert(0, "~method")
        return kept, _class_name(target), ignored
    return kept, choice, ignored


def _class_name(target: str) -> str:
    return target.rpartition(":")[2] if ":" in target else target.rpartition(".")[2]


# --------------------------------------------------------------------------- runs
def _run(overrides: Sequence[str], scenario: Scenario, method: str | None, out: Path) -> _Run:
    """Compose and run one scenario run into ``out`` (its console output swallowed)."""
    from mfbench.cli.compose import compose
    from mfbench.cli.app import run
    from mfbench.config.resolve import instantiate

    cfg = compose([*overrides, f"benchmark={scenario.benchmark}", *scenario.overrides, "progress=false"])
    choices = {key: value for key, value in dict(cfg.hydra.runtime.choices).items() if value is not None}
    choices.setdefault("method", method or "custom")
    with contextlib.redirect_stdout(io.StringIO()):
        metadata = run(cfg, out, choices)
    import pyarrow.parquet as pq

    columns = pq.read_table(out / "results.parquet").to_pydict()
    stored = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    if stored["config_fingerprint"] != metadata["config_fingerprint"]:
        raise AssertionError("metadata.json does not hold the run's fingerprint")
    space = instantiate(metadata["config"]["benchmark"]).open().config_space
    return _Run(metadata, columns, space)


def run_scenario(scenario: Scenario, overrides: Sequence[str], workdir: Path,
                 method: str | None = None) -> list[CheckResult]:
    """Run ``scenario`` for the method of ``overrides`` (in ``workdir``) and check the runs."""
    def result(name: str, passed: bool | None, detail: str = "") -> CheckResult:
        return CheckResult(scenario.title, name, passed, detail)

    try:
        first = _run(overrides, scenario, method, workdir / "a")
        second = _run(overrides, scenario, method, workdir / "b") if scenario.twice else None
    except Exception as error:  # the method's, the config's or the simulator's complaint: the report's line
        return [result("runs to its end", False, _error_text(error)),
                result("the other checks of this scenario", None, "skipped: they need a finished run")]
    results = [result("runs to its end", True, f"{len(first.columns['trial_id'])} results, stop reason "
                                               f"{first.metadata['stop_reason']}")]
    results += [result(name, *check(first, scenario)) for name, check in _CHECKS]
    if scenario.finite_space is not None:
        results.append(result("ends cleanly on an exhausted finite space", *_clean_end(first, scenario)))
    if scenario.charged_whole:
        results.append(result("each evaluation of a non-cumulative fidelity is charged whole",
                              *_charged_whole(first, scenario)))
    if second is not None:
        results.append(result("is reproducible (same seed, bit-identical results)", *_reproducible(first, second)))
    return results


def _error_text(error: BaseException) -> str:
    from mfbench.errors import UserInputError

    if isinstance(error, UserInputError):
        return str(error)
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return (f"raised {type(error).__name__}: {error} (at {frame.filename}:{frame.lineno}, in {frame.name}); "
            f"expected the run to finish")


# ------------------------------------------------------------------------- checks
Verdict = tuple[bool, str]


def _budget(run: _Run, scenario: Scenario) -> Verdict:
    n = len(run.columns["trial_id"])
    if n > scenario.max_results:
        return False, f"expected at most {scenario.max_results} results, got {n}"
    limit = run.metadata["stopping"]["max_wallclock_time"]
    if isinstance(limit, (int, float)):
        late = [t for t in run.columns["sim_time"] if t > limit]
        if run.metadata["simulated_time"] > limit or late:
            return False, f"expected every result within {limit} simulated s, got {len(late)} later"
    if scenario.uses_budget and n < scenario.max_results:
        return False, (f"expected the run to use its budget of {scenario.max_results} results, it ended after {n} "
                       f"({run.metadata['stop_reason']}): suggest() returned None or wait() although the space "
                       f"has configurations left")
    return True, f"{n} results (limit {scenario.max_results})"


def _workers(run: _Run, scenario: Scenario) -> Verdict:
    n_workers = run.metadata["n_workers"]
    used = sorted(set(run.columns["worker"]))
    if not set(used) <= set(range(n_workers)):
        return False, f"expected workers 0..{n_workers - 1}, results came from workers {used}"
    return True, f"{len(used)} of {n_workers}"


def _trial_configs(run: _Run) -> tuple[dict[int, tuple], list[str]]:
    """``{trial: configuration key}`` and the problems found (a config outside the space, one that changed)."""
    names = run.space.names
    configs: dict[int, tuple] = {}
    problems = []
    for i, trial in enumerate(run.columns["trial_id"]):
        config = {name: run.columns[f"config_{name}"][i] for name in names}
        if not run.space.contains(config):
            problems.append(f"trial {trial} evaluated {config}, which is not in the search space")
            continue
        key = run.space.key(config)
        if configs.setdefault(trial, key) != key:
            problems.append(f"trial {trial} changed its configuration from {configs[trial]} to {key}")
    return configs, problems


def _in_space(run: _Run, scenario: Scenario) -> Verdict:
    _, problems = _trial_configs(run)
    outside = [p for p in problems if "not in the search space" in p]
    if outside:
        return False, f"expected configurations of the search space; {outside[0]} ({len(outside)} such results)"
    return True, ""


def _one_config_per_trial(run: _Run, scenario: Scenario) -> Verdict:
    _, problems = _trial_configs(run)
    changed = [p for p in problems if "changed" in p]
    return (False, f"expected a trial to keep its configuration; {changed[0]}") if changed else (True, "")


def _no_duplicates(run: _Run, scenario: Scenario) -> Verdict:
    configs, _ = _trial_configs(run)
    by_key: dict[tuple, list[int]] = {}
    for trial, key in configs.items():
        by_key.setdefault(key, []).append(trial)
    twice = [(key, trials) for key, trials in by_key.items() if len(trials) > 1]
    if twice and run.metadata["scheduler"].get("restarts_at_higher_fidelity"):
        return _restarts_at_higher_fidelity(run, twice, len(configs), len(by_key))
    if twice:
        key, trials = twice[0]
        return False, (f"expected each configuration in at most one trial; trials {trials} evaluated {key} "
                       f"({len(twice)} such configurations): resume a paused trial instead of starting its "
                       f"configuration again, and let a Searcher propose (it never repeats one)")
    return True, f"{len(configs)} trials, {len(by_key)} configurations"


def _restarts_at_higher_fidelity(run: _Run, repeated: list[tuple[tuple, list[int]]], n_trials: int,
                                 n_configs: int) -> Verdict:
    """Repeats of a method that declares ``restarts_at_higher_fidelity`` in ``describe()``.

    Such a method (SMAC's Hyperband: a promoted configuration is a new trial trained from
    scratch to a higher budget) may start a configuration again, but only after its earlier
    trial's last result, and to a higher fidelity than that trial reached (unless the run
    ended while the new trial still ran: its last decision is then ``continue``).
    """
    fidelity_attr = run.metadata["fidelity_attr"]
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    top: dict[int, float] = {}
    decision: dict[int, str] = {}
    for trial, fidelity, time, said in zip(run.columns["trial_id"], run.columns[fidelity_attr],
                                           run.columns["sim_time"], run.columns["decision"]):
        first.setdefault(trial, time)
        last[trial], decision[trial] = time, said
        top[trial] = max(top.get(trial, fidelity), fidelity)
    for key, trials in repeated:
        ordered = sorted(trials)
        for earlier, later in zip(ordered, ordered[1:]):
            if first[later] <= last[earlier] or (top[later] <= top[earlier] and decision[later] != "continue"):
                return False, (f"expected a configuration started again (the method declares "
                               f"restarts_at_higher_fidelity) only after its earlier trial's last result and to a "
                               f"higher fidelity; trials {earlier} and {later} evaluated {key}, up to fidelity "
                               f"{top[earlier]} (last result at {last[earlier]:g} s) and {top[later]} (first "
                               f"result at {first[later]:g} s)")
    return True, (f"{n_trials} trials, {n_configs} configurations, {len(repeated)} of them started again at a "
                  f"higher fidelity (the method restarts promoted configurations from scratch)")


def _arrival_order(run: _Run, scenario: Scenario) -> Verdict:
    times = np.asarray(run.columns["sim_time"], dtype=float)
    if len(times) > 1 and np.any(np.diff(times) < -1e-9):
        return False, "expected results recorded in arrival order (a simulator bug, not the method's: please report)"
    return True, ""


def _from_checkpoint(run: _Run, scenario: Scenario) -> Verdict:
    fidelity_attr = run.metadata["fidelity_attr"]
    last: dict[int, int] = {}
    resumed: set[int] = set()
    paused: set[int] = set()
    for trial, fidelity, decision in zip(run.columns["trial_id"], run.columns[fidelity_attr], run.columns["decision"]):
        if trial in last and fidelity <= last[trial]:
            return False, (f"expected each trial's fidelities to increase (a resumed trial continues above its "
                           f"checkpoint); trial {trial} reported {fidelity} after {last[trial]}")
        if trial in paused:
            resumed.add(trial)
            paused.discard(trial)
        last[trial] = fidelity
        if decision == "pause":
            paused.add(trial)
    return True, f"{len(resumed)} trials resumed" if resumed else "no trial paused and resumed"


def _clean_end(run: _Run, scenario: Scenario) -> Verdict:
    configs, _ = _trial_configs(run)
    distinct = len(set(configs.values()))
    assert scenario.finite_space is not None
    if distinct > scenario.finite_space:
        return False, f"expected at most {scenario.finite_space} configurations, got {distinct}"
    reason = run.metadata["stop_reason"]
    if reason not in CLEAN_END:
        return False, (f"expected the run to end once the space is exhausted ({' / '.join(CLEAN_END)}), it ended "
                       f"with {reason}: return None from suggest() when there will be no more work")
    return True, f"{distinct} configurations, stop reason {reason}"


def _charged_whole(run: _Run, scenario: Scenario) -> Verdict:
    if run.metadata["blackbox"].get("fidelity_is_cumulative", True):
        return False, f"expected {scenario.benchmark} to declare a non-cumulative fidelity"
    trials = np.asarray(run.columns["trial_id"])
    times = np.asarray(run.columns["sim_time"], dtype=float)
    seconds = np.asarray(run.columns[run.metadata["elapsed_time_attr"]], dtype=float)
    for trial in np.unique(trials):
        mine = trials == trial
        if np.any(np.diff(times[mine], prepend=0.0) < seconds[mine] - 1e-9):
            return False, (f"expected each result at least its evaluation's time after the trial's previous one; "
                           f"trial {trial} was charged less (a simulator bug, not the method's: please report)")
    return True, ""


def _reproducible(first: _Run, second: _Run) -> Verdict:
    if first.columns != second.columns:
        differing = sorted(k for k in first.columns if first.columns[k] != second.columns.get(k))
        return False, (f"expected bit-identical results for the same seed; columns {differing} differ: draw every "
                       f"random number from problem.rng('<name>'), never from random / numpy's global state "
                       f"or the clock")
    if first.metadata["best"] != second.metadata["best"]:
        return False, "expected the same best result for the same seed"
    return True, ""


_CHECKS: tuple[tuple[str, Callable[[_Run, Scenario], Verdict]], ...] = (
    ("stays within the budget", _budget),
    ("uses only its workers", _workers),
    ("evaluates configurations of the search space", _in_space),
    ("keeps one configuration per trial", _one_config_per_trial),
    ("proposes no configuration twice", _no_duplicates),
    ("records results in arrival order", _arrival_order),
    ("resumes trials from their checkpoint", _from_checkpoint),
)


# ---------------------------------------------------------------------------- CLI
_USAGE = """usage: python -m mfbench.check [--config-dir DIR] OVERRIDE...

Runs a method through the contract every mfbench method honours, on small built-in
benchmarks, and prints a pass/fail list (exit 0 only if every check passed).

  python -m mfbench.check --config-dir conf method=my_method
  python -m mfbench.check method._target_=my_method.py:MedianStopping method.grace_period=3
  python -m mfbench.check method=asha_stop

--config-dir DIR  a folder with your method/<name>.yaml (as for python -m mfbench)
Guide: docs/writing-a-method.md"""


def main(argv: Sequence[str] | None = None) -> int:
    """The command; returns its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or any(a in ("-h", "--help") for a in args):
        print(_USAGE)
        return 0 if args else 2
    overrides = []
    while args:
        arg = args.pop(0)
        if arg in ("--config-dir", "-cd"):
            if not args:
                print("mfbench.check: error: --config-dir needs a folder", file=sys.stderr)
                return 2
            overrides.append(_searchpath(args.pop(0)))
        elif arg.startswith("--config-dir="):
            overrides.append(_searchpath(arg.split("=", 1)[1]))
        else:
            overrides.append(arg)
    kept, method, ignored = method_overrides(overrides)
    if ignored:
        print(f"mfbench.check: ignoring {' '.join(ignored)}: the checks choose benchmark, budget, seed and workers")
    try:
        header = _describe_method(kept, method)
    except Exception as error:  # Hydra's composition errors, ConfigError: the overrides are wrong
        hint = ("\nA method of yours: --config-dir DIR, where DIR/method/<name>.yaml is its YAML "
                "(docs/writing-a-method.md)") if "Could not find 'method/" in str(error) else ""
        print(f"mfbench.check: error: {error}{hint}", file=sys.stderr)
        return 2
    print(f"mfbench.check: {header}")
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="mfbench_check_") as tmp:
        for index, scenario in enumerate(DEFAULT_SCENARIOS):
            print(f"{scenario.title}:", flush=True)
            found = run_scenario(scenario, kept, Path(tmp) / str(index), method)
            for line in found:
                print(line.line(), flush=True)
            results += found
    failed = [r for r in results if r.passed is False]
    passed = sum(r.passed is True for r in results)
    if failed:
        print(f"{len(failed)} check(s) FAILED, {passed} passed; docs/writing-a-method.md says what each expects")
        return 1
    print(f"all {passed} checks passed")
    return 0


def _searchpath(directory: str) -> str:
    """``--config-dir DIR`` as the override Hydra's compose API understands (absolute, like Hydra's)."""
    return f"hydra.searchpath=[file://{Path(directory).expanduser().resolve()}]"


def _describe_method(overrides: Sequence[str], method: str | None) -> str:
    """``method=NAME -> Class (file)``: composes once, so a config that does not compose fails here (exit 2)."""
    from mfbench.cli.compose import compose
    from mfbench.config.resolve import resolve_config
    from mfbench.config.validation import locate
    from mfbench.schedulers.contract import describe_class

    cfg = compose([*overrides, "benchmark=hartmann3", "progress=false"])
    config = resolve_config(cfg, {"method": method or ""})
    target = config["method"]["_target_"]
    located = locate(target, "method")
    shown = describe_class(located) if isinstance(located, type) else target
    chosen = next((o for o in overrides if o.startswith("method=")), None)
    return f"{chosen} -> {shown}" if chosen else f"method._target_={target} -> {shown}"


if __name__ == "__main__":
    sys.exit(main())
