"""YAHPO Gym, every scenario: parity with yahpo-gym 1.0.2, conditional spaces, trainsize levels, errors."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.fidelity import FidelityLevels
from mfbench.blackbox.sources import yahpo, yahpo_scenarios, yahpo_space
from mfbench.errors import ConfigError
from tests.conftest import FIXTURES, YAHPO_VENDORED

#: predictions of yahpo-gym 1.0.2 (benchmarks/reference/yahpo_reference_values.py, separate venv)
REFERENCE = json.loads((FIXTURES / "yahpo_reference_values.json").read_text())["scenarios"]


def _data(scenario: str) -> str:
    return str(FIXTURES / f"yahpo-{scenario}")


@pytest.mark.parametrize("scenario", sorted(REFERENCE))
def test_predictions_equal_yahpo_gym(scenario):
    rows = REFERENCE[scenario]
    assert len({json.dumps(r["config"], sort_keys=True) for r in rows}) >= 10
    blackboxes = {}
    for row in rows:
        if row["instance"] not in blackboxes:
            blackboxes[row["instance"]] = yahpo.yahpo_blackbox(scenario, row["instance"], data_dir=_data(scenario))
        bb = blackboxes[row["instance"]]
        got = bb.evaluate(row["config"], 0, np.array([row["level"]]))[0]
        expected = [row["targets"][name] for name in bb.objective_names]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"{scenario} {row}")


def test_the_reference_covers_every_booster_of_the_conditional_space():
    boosters = {row["config"]["booster"] for row in REFERENCE["rbv2_xgboost"]}
    assert boosters == {"gblinear", "gbtree", "dart"}
    assert set(REFERENCE) == set(YAHPO_VENDORED)


def test_every_scenario_is_declared_with_its_inputs():
    assert len(yahpo_scenarios.SCENARIOS) == 15
    assert len(yahpo.SOURCE.remotes[0].files) == 15 * 3
    pinned = [f for f, sha in zip(yahpo.SOURCE.remotes[0].files, yahpo.SOURCE.remotes[0].checksums()) if sha]
    assert sorted(pinned) == sorted(f"{s}/{f}" for s in YAHPO_VENDORED for f in yahpo_scenarios.FILES)
    for scenario in YAHPO_VENDORED:  # the vendored models have the declared inputs and outputs
        info = yahpo_scenarios.SCENARIOS[scenario]
        yahpo.session(FIXTURES / f"yahpo-{scenario}" / "model.onnx", info)
        yahpo_space.YahpoSpace.read(FIXTURES / f"yahpo-{scenario}" / "config_space.json", info)
    for info in yahpo_scenarios.SCENARIOS.values():
        assert info.metric in info.targets and info.runtime in info.targets
        assert info.fidelity in info.cont_names


def test_inactive_values_do_not_reach_the_model():
    bb = yahpo.yahpo_blackbox("rbv2_xgboost", "1220", data_dir=_data("rbv2_xgboost"))
    config = bb.config_space.sample(np.random.default_rng(1))
    config["booster"] = "gblinear"
    other = {**config, "eta": 0.5, "max_depth": 3, "rate_drop": 0.9}  # all inactive for gblinear
    levels = bb.fidelity_values[[0, -1]]
    np.testing.assert_array_equal(bb.evaluate(config, 0, levels), bb.evaluate(other, 0, levels))
    dart = {**config, "booster": "dart"}
    assert not np.array_equal(bb.evaluate(dart, 0, levels), bb.evaluate({**dart, "eta": 0.5}, 0, levels))
    x_cat, x_cont = bb._predict.encode([config], np.array([20]))  # type: ignore[attr-defined]
    info = yahpo_scenarios.SCENARIOS["rbv2_xgboost"]
    assert x_cont[0, info.cont_names.index("eta")] == 0.0  # missing numeric: yahpo-gym's 0
    assert x_cont[0, info.cont_names.index("trainsize")] == np.float32(1.0)
    assert x_cont[0, info.cont_names.index("repl")] == 10.0


def test_nested_conditions_follow_configspace():
    info = yahpo_scenarios.SCENARIOS["rbv2_super"]
    space = yahpo_space.YahpoSpace({}, {
        "xgboost.booster": yahpo_space.Condition({"child": "xgboost.booster", "parent": "learner_id", "type": "EQ",
                                                  "value": "xgboost"}, "test"),
        "xgboost.eta": yahpo_space.Condition({"child": "xgboost.eta", "parent": "xgboost.booster", "type": "IN",
                                              "values": ["gbtree", "dart"]}, "test"),
        "svm.degree": yahpo_space.Condition({"child": "svm.degree", "type": "AND", "conditions": [
            {"child": "svm.degree", "parent": "svm.kernel", "type": "EQ", "value": "polynomial"},
            {"child": "svm.degree", "parent": "learner_id", "type": "EQ", "value": "svm"}]}, "test"),
    }, {}, (0.03, 1.0))
    values = {"learner_id": "svm", "xgboost.booster": "dart", "xgboost.eta": 0.1, "svm.kernel": "polynomial",
              "svm.degree": 3}
    # eta's own condition holds, but its parent (the booster) is inactive: inactive too
    assert space.active(values) == {"learner_id": "svm", "svm.kernel": "polynomial", "svm.degree": 3}
    assert info.instance_param == "task_id"
    with pytest.raises(BlackboxDataError, match="condition type 'FOO'"):
        yahpo_space.Condition({"child": "a", "parent": "b", "type": "FOO"}, "x.json")


def test_trainsize_levels_default_custom_and_refused():
    bb = yahpo.yahpo_blackbox("iaml_glmnet", "1489", data_dir=_data("iaml_glmnet"))
    assert bb.fidelity_values.tolist() == list(range(1, 21)) and bb.fidelity_is_cumulative is False
    assert bb.describe()["fidelity_levels"][:3] == pytest.approx([0.05, 0.1, 0.15])
    sampled = yahpo_scenarios.SAMPLED_TRAINSIZES["iaml"]
    restricted = yahpo.yahpo_blackbox("iaml_glmnet", "1489", fidelity_levels=list(sampled),
                                      data_dir=_data("iaml_glmnet"))
    config = bb.config_space.sample(np.random.default_rng(0))
    # level 3 of the restricted levels (0.2) is level 4 of the default ones (0.05 * 4)
    np.testing.assert_allclose(restricted.evaluate(config, 0, np.array([3])), bb.evaluate(config, 0, np.array([4])),
                               rtol=1e-6)
    geometric = yahpo.yahpo_blackbox("iaml_glmnet", "1489", data_dir=_data("iaml_glmnet"),
                                     fidelity_levels={"kind": "geometric", "low": 0.0625, "high": 1, "num": 5})
    assert geometric.describe()["fidelity_levels"] == pytest.approx([0.0625, 0.125, 0.25, 0.5, 1.0])
    with pytest.raises(ConfigError, match=r"leave the trainsize range \[0.03, 1.0\]"):
        yahpo.yahpo_blackbox("iaml_glmnet", "1489", fidelity_levels=[0.01, 0.5], data_dir=_data("iaml_glmnet"))
    with pytest.raises(ConfigError, match="strictly increasing"):
        yahpo.yahpo_blackbox("iaml_glmnet", "1489", fidelity_levels=[0.5, 0.2], data_dir=_data("iaml_glmnet"))
    with pytest.raises(ConfigError, match="integer epoch"):
        yahpo.yahpo_blackbox("lcbench", "3945", fidelity_levels=[0.5, 1.0], data_dir=_data("lcbench"))
    lcbench = yahpo.yahpo_blackbox("lcbench", "3945", data_dir=_data("lcbench"))
    assert lcbench.fidelity_is_cumulative is True and lcbench.fidelity_values.tolist() == list(range(1, 53))


def test_fidelity_levels_minimal_api():
    levels = FidelityLevels.parse({"kind": "linear", "low": 0.25, "high": 1.0, "num": 4})
    assert len(levels) == 4 and levels.levels().tolist() == [1, 2, 3, 4]
    assert levels.value(2) == pytest.approx(0.5) and levels.values_at(np.array([1, 4])).tolist() == [0.25, 1.0]
    assert FidelityLevels.geometric(1, 8, 4).values == pytest.approx((1, 2, 4, 8))
    for bad in ("0.5", {"kind": "cubic", "low": 0, "high": 1, "num": 2}, [0.0, 1.0]):
        with pytest.raises(ValueError):
            FidelityLevels.parse(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not one of the levels 1..4"):
        levels.value(5)


def test_bad_scenario_instance_and_repl_name_the_fix():
    with pytest.raises(ConfigError, match=r"unknown YAHPO scenario 'rbv2_xgbost' \(did you mean 'rbv2_xgboost'\?\)"):
        yahpo.yahpo_blackbox("rbv2_xgbost", "1220")
    with pytest.raises(ConfigError, match=r"unknown instance '1221' of YAHPO rbv2_xgboost \(did you mean '1220'\?\)"):
        yahpo.yahpo_blackbox("rbv2_xgboost", "1221", data_dir=_data("rbv2_xgboost"))
    with pytest.raises(ConfigError, match="'40981', '41146', '1489', '1067'"):
        yahpo.yahpo_blackbox("iaml_glmnet", "3", data_dir=_data("iaml_glmnet"))
    with pytest.raises(ConfigError, match="repl=11"):
        yahpo.yahpo_blackbox("rbv2_rpart", "1111", repl=11, data_dir=_data("rbv2_rpart"))


def test_missing_or_corrupt_model_names_the_command(tmp_path):
    with pytest.raises(BlackboxDataError, match="python -m mfbench.data download yahpo "):
        yahpo.yahpo_blackbox("nb301", cache_dir=str(tmp_path))
    folder = tmp_path / "rbv2_rpart"
    shutil.copytree(FIXTURES / "yahpo-rbv2_rpart", folder)
    (folder / "model.onnx").unlink()
    with pytest.raises(BlackboxDataError, match=r"lacks \['model.onnx'\].*download yahpo"):
        yahpo.yahpo_blackbox("rbv2_rpart", "1111", data_dir=str(folder))
    (folder / "model.onnx").write_bytes(b"not an onnx model")
    with pytest.raises(BlackboxDataError, match="not a readable ONNX model.*download yahpo"):
        yahpo.yahpo_blackbox("rbv2_rpart", "1111", data_dir=str(folder))
    with pytest.warns(UserWarning, match="differ"), pytest.raises(BlackboxDataError, match="ONNX"):
        yahpo.convert(folder, tmp_path / "cache")
    assert not (tmp_path / "cache" / "yahpo_rbv2_rpart").exists()
    # the wrong scenario's model: shapes say so
    shutil.copyfile(FIXTURES / "yahpo-iaml_glmnet" / "model.onnx", folder / "model.onnx")
    with pytest.raises(BlackboxDataError, match="not the YAHPO rbv2_rpart model"):
        yahpo.yahpo_blackbox("rbv2_rpart", "1111", data_dir=str(folder))
    # a converted model corrupted in the cache: the manifest's checksum catches it
    cache = tmp_path / "cache2"
    yahpo.convert(FIXTURES / "yahpo-iaml_glmnet", cache)
    (cache / "yahpo_iaml_glmnet" / "model.onnx").write_bytes(b"junk")
    with pytest.raises(BlackboxDataError, match="download yahpo"):
        yahpo.yahpo_blackbox("iaml_glmnet", "1489", cache_dir=str(cache))


def test_convert_a_yahpo_data_folder_and_single_folders(tmp_path):
    data = tmp_path / "yahpo_data"
    for scenario in ("iaml_glmnet", "rbv2_xgboost"):
        shutil.copytree(FIXTURES / f"yahpo-{scenario}", data / scenario)
    lines: list[str] = []
    root = yahpo.convert(data, tmp_path / "cache", report=lines.append)
    assert sorted(p.name for p in root.iterdir()) == ["yahpo_iaml_glmnet", "yahpo_rbv2_xgboost"]
    assert any("not converted" in line and "nb301" in line for line in lines)
    bb = yahpo.yahpo_blackbox("rbv2_xgboost", "1220", cache_dir=str(root))
    assert bb.describe()["source"]["version"] == "1.0.2"
    (tmp_path / "odd").mkdir()
    shutil.copyfile(FIXTURES / "yahpo-lcbench" / "config_space.json", tmp_path / "odd" / "config_space.json")
    with pytest.raises(BlackboxDataError, match="name the folder after it"):
        yahpo.convert(tmp_path / "odd", tmp_path / "cache")
    with pytest.raises(BlackboxDataError, match="holds no YAHPO scenario folder"):
        yahpo.convert(tmp_path / "cache", tmp_path / "cache3")


def test_a_configuration_repeated_over_fidelities_is_encoded_as_row_by_row():
    """The encoding builds a repeated configuration's inputs once: the rows must be the ones
    built one by one, for repeated objects, equal but distinct objects and mixed fidelities."""
    bb = yahpo.yahpo_blackbox("rbv2_xgboost", "1220", data_dir=_data("rbv2_xgboost"))
    model = bb._predict  # type: ignore[attr-defined]
    rng = np.random.default_rng(3)
    first, second = bb.config_space.sample(rng), bb.config_space.sample(rng)
    configs = [first, first, second, dict(first), first]
    fidelities = bb.fidelity_values[[0, -1, 2, 1, 3]]
    x_cat, x_cont = model.encode(configs, fidelities, seed=0)
    values = model.fidelity_value(fidelities)
    for row, config in enumerate(configs):
        cat_row, cont_row = model._encoded_row(config, float(values[row]), 0)
        np.testing.assert_array_equal(x_cat[row], np.asarray(cat_row, dtype=np.int32))
        np.testing.assert_array_equal(x_cont[row], np.asarray(cont_row, dtype=np.float32))
    assert len({tuple(r) for r in x_cont[[0, 1, 3, 4]]}) == 4  # the same configuration at four fidelities
