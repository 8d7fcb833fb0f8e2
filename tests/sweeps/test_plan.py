from __future__ import annotations

from pathlib import Path

from mfbench.sweeps.plan import Action, PlannedRun, _decide
from mfbench.sweeps.run_status import RunStatus, State


def _run(state: State, fingerprint: str | None = None, overwrite: bool = False) -> PlannedRun:
    run = PlannedRun(["seed=0"], "out/x", "b/m/seed_0", "F", config={"overwrite": overwrite})
    run.status = RunStatus(Path("out/x/b/m/seed_0"), state, "why", fingerprint=fingerprint)
    _decide(run)
    return run


def test_decisions() -> None:
    assert _run(State.DONE, "F").action is Action.SKIP_DONE
    assert _run(State.DONE, "F", overwrite=True).action is Action.RUN
    conflict = _run(State.DONE, "G")
    assert conflict.action is Action.CONFLICT and "overwrite=true" in conflict.reason
    assert _run(State.DONE, "G", overwrite=True).action is Action.RUN
    assert _run(State.RUNNING).action is Action.SKIP_ACTIVE
    assert _run(State.QUEUED).action is Action.SKIP_ACTIVE
    for state in (State.FAILED, State.INTERRUPTED, State.MISSING):
        run = _run(state)
        assert (run.action, run.reason) == (Action.RUN, state.value)
