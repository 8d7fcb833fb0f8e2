"""The shared wording of unknown names: did-you-mean, collapsed families, Hydra's errors read."""
from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from mfbench.config.choices import UnknownName, close_matches, collapse_options, did_you_mean, unknown_name
from mfbench.config.tree import config_dir, config_groups, group_options
from mfbench.sweeps.hydra_configs import register_configs

METHODS = group_options("method")


def test_close_matches_keep_only_the_clearly_closest():
    assert close_matches("asha_promo", METHODS) == ["asha_prom"]
    assert close_matches("hyper", METHODS)[:1] == ["hypertune4_indep"]  # a prefix typed in full
    assert close_matches("zzz", METHODS) == []
    assert did_you_mean("grace_perod", ["grace_period", "type"], prefix="method.") == "did you mean method.grace_period?"
    assert did_you_mean("zzz", METHODS) == ""


def test_numbered_families_collapse_into_one_entry_in_place():
    options = ["a", "yahpo_lcbench", "yahpo_lcbench_126025", "yahpo_lcbench_3945", "yahpo_lcbench_7593",
               "yahpo_lcbench_34539", "yahpo_lcbench_189909", "z_1", "z_2"]
    assert collapse_options(options) == [
        "a", "yahpo_lcbench", "yahpo_lcbench_<task> (5 tasks: 3945, 7593, 34539, ..., 189909)", "z_1", "z_2"]
    assert collapse_options(["b_1", "b_2", "b_3", "b_4"]) == ["b_<task> (4 tasks: 1, 2, 3, 4)"]


def test_the_yahpo_benchmarks_are_one_entry():
    collapsed = [o for o in collapse_options(group_options("benchmark")) if o.startswith("yahpo_lcbench_")]
    assert collapsed == ["yahpo_lcbench_<task> (34 tasks: 3945, 7593, 34539, ..., 189909)"]


def test_the_tree_lists_groups_and_options():
    assert {"benchmark", "method", "method/searcher", "stopping", "experiment", "hydra/launcher"} <= set(config_groups())
    assert {"local", "slurm"} <= set(group_options("hydra/launcher"))
    assert group_options("no_such_group") == []


def _composition_error(*overrides: str) -> Exception:
    register_configs()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        with pytest.raises(ConfigCompositionException) as caught:
            compose("config", overrides=list(overrides))
    return caught.value


@pytest.mark.parametrize("override,headline,listing", [
    ("method=asha_promo", "unknown method 'asha_promo' (did you mean asha_prom?)", "method options (conf/method/): "),
    ("benchmark=hartman3", "unknown benchmark 'hartman3' (did you mean hartmann3?)",
     "yahpo_lcbench_<task> (34 tasks"),
    ("methd=asha_stop", "unknown group or key 'methd' (did you mean method?)", "groups and keys: benchmark, method"),
    ("n_workrs=2", "unknown group or key 'n_workrs' (did you mean n_workers?)", "experiment"),
    ("method.grace_perod=2", "unknown key 'method.grace_perod' (did you mean method.grace_period?)",
     "keys of method: type, brackets, grace_period"),
])
def test_hydra_composition_errors_are_read(override, headline, listing):
    unknown = unknown_name(_composition_error(override))
    assert unknown is not None
    assert unknown.headline() == headline
    assert listing in unknown.available() and "\n" not in unknown.message()


def test_other_errors_are_left_alone():
    assert unknown_name(_composition_error("seed=abc")) is None  # a wrong type: Hydra's message says it
    assert unknown_name(KeyError("method")) is None
    assert unknown_name(ValueError("x")) is None


def test_a_sweep_counts_runs_in_the_headline():
    unknown = UnknownName.option("method", "asha_promo", METHODS)
    assert unknown.headline(runs=2) == "unknown method 'asha_promo' (2 runs; did you mean asha_prom?)"
    assert UnknownName.key("method.searcher", "foo", ["_target_", "_partial_"]).available() == \
        "keys of method.searcher: none"
