from __future__ import annotations

from pathlib import Path

from mfbench.sweeps.plan import Action, PlannedRun, _decide
from mfbench.sweeps.run_status import RunStatus, State


def _run(state: State, fingerprint: str | None = None, overwrite: bool = False,
         claimed: str | None = None) -> PlannedRun:
    run = PlannedRun(["seed=0"], "out/x", "b/m/seed_0", "F", config={"overwrite": overwrite})
    run.status = RunStatus(Path("out/x/b/m/seed_0"), state, "why", fingerprint=fingerprint, claimed_fingerprint=claimed)
    _decide(run)
    return run


def test_decisions() -> None:
    assert _run(State.DONE, "F").action is Action.SKIP_DONE
    assert _run(State.DONE, "F", overwrite=True).action is Action.RUN
    conflict = _run(State.DONE, "G")
    assert conflict.action is Action.CONFLICT and "overwrite=true" in conflict.reason
    assert _run(State.DONE, "G", overwrite=True).action is Action.RUN
    assert _run(State.RUNNING).action is Action.SKIP_ACTIVE
    assert _run(State.RUNNING, claimed="F").action is Action.SKIP_ACTIVE
    other = _run(State.RUNNING, claimed="G")  # another sweep computes another config there
    assert other.action is Action.CONFLICT and "being computed with a different configuration" in other.reason
    assert _run(State.QUEUED).action is Action.SKIP_ACTIVE
    for state in (State.FAILED, State.INTERRUPTED, State.MISSING):
        run = _run(state)
        assert (run.action, run.reason) == (Action.RUN, state.value)


def test_runs_derived_from_a_composed_template_equal_their_own_composition() -> None:
    """Planning composes one run per group combination and derives the seeds (and other scalar
    keys) from it; every derived run must equal what Hydra composes for it alone."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from mfbench.config.tree import config_dir
    from mfbench.sweeps.hydra_configs import register_configs
    from mfbench.sweeps.plan import compose_run, plan_sweep

    register_configs()
    GlobalHydra.instance().clear()
    # each variant on its own seeds: runs that share a run directory are refused (test below)
    jobs = [[f"method={m}", f"seed={s + 10 * v}", *extra] for m in ("asha_stop", "bohb", "mobster_joint")
            for s in (0, 1, 7) for v, extra in enumerate(([], ["n_workers=8"], ["experiment_name=other", "progress=false"]))]
    jobs += [["benchmark=hartmann3", "method=asha_prom", "seed=2", "stopping.max_num_evaluations=50"],
             ["benchmark=hartmann3", "method=asha_prom", "seed=3", "stopping.max_num_evaluations=50"],
             ["experiment=quick", "method=random_search", "seed=4"], ["experiment=quick", "method=random_search",
                                                                      "seed=5"]]
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", ["hydra.sweep.dir=/tmp/plan_test"], RunMode.MULTIRUN)
        planned = plan_sweep(loader, master, jobs)
        for run, overrides in zip(planned, jobs):
            alone = compose_run(loader, master, overrides)
            assert run.action is not Action.INVALID, run.reason
            assert (run.sweep_dir, run.subdir, run.fingerprint) == (alone.sweep_dir, alone.subdir, alone.fingerprint)
            assert run.config == alone.config, overrides
    GlobalHydra.instance().clear()


def _plan(jobs: list[list[str]]) -> list[PlannedRun]:
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from mfbench.config.tree import config_dir
    from mfbench.sweeps.hydra_configs import register_configs
    from mfbench.sweeps.plan import plan_sweep

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            loader = GlobalHydra.instance().config_loader()
            master = loader.load_configuration("config", ["hydra.sweep.dir=/tmp/plan_test_shared"], RunMode.MULTIRUN)
            return plan_sweep(loader, master, jobs)
    finally:
        GlobalHydra.instance().clear()


def test_runs_of_the_grid_that_would_share_a_run_directory_are_refused() -> None:
    """The run directory is named after experiment, benchmark, method and seed: a grid that also
    sweeps another key would compute one run there and take the other for done."""
    base = ["benchmark=hartmann3", "method=asha_stop", "seed=0"]
    planned = _plan([[*base, "stopping.max_wallclock_time=600"], [*base, "stopping.max_wallclock_time=1200"],
                     ["benchmark=hartmann3", "method=asha_stop", "seed=1"]])
    shared, alone = planned[:2], planned[2]
    assert all(run.action is Action.INVALID for run in shared) and alone.action is Action.RUN
    assert "would share the run directory" in shared[0].reason
    assert "differ in stopping.max_wallclock_time" in shared[0].reason
    assert "max_wallclock_time_${stopping.max_wallclock_time}/seed_${seed}" in shared[0].reason  # a subdir that works
    repeated = _plan([base, base])
    assert all(run.action is Action.INVALID and "lists the same run 2 times" in run.reason for run in repeated)


def test_a_subdir_with_the_swept_key_separates_the_runs() -> None:
    subdir = ('hydra.sweep.subdir="${mfbench_benchmark_name:${hydra:runtime.choices.benchmark}}/'
              '${hydra:runtime.choices.method}/budget_${stopping.max_wallclock_time}/seed_${seed}"')
    base = ["benchmark=hartmann3", "method=asha_stop", "seed=0", subdir]
    planned = _plan([[*base, "stopping.max_wallclock_time=600"], [*base, "stopping.max_wallclock_time=1200"]])
    assert [run.action for run in planned] == [Action.RUN, Action.RUN]
    assert [run.subdir for run in planned] == ["hartmann3/asha_stop/budget_600/seed_0",
                                               "hartmann3/asha_stop/budget_1200/seed_0"]
