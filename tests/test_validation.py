import pytest

from mfbench.config.validation import validate_node
from mfbench.errors import ConfigError

ASHA = "mfbench.schedulers.asha.ASHA"


def test_valid_node_passes():
    validate_node({"_target_": ASHA, "type": "promotion", "reduction_factor": 3, "grace_period": 1}, "method")


def test_misspelled_key_names_the_key_and_accepted_options():
    with pytest.raises(ConfigError, match=r"method\.grace_perod: unknown option .*\(did you mean method\.grace_period\?\)"
                                          r"\. Accepted options: .*grace_period"):
        validate_node({"_target_": ASHA, "grace_perod": 1}, "method")


def test_wrong_type_is_refused():
    with pytest.raises(ConfigError, match=r"method\.grace_period"):
        validate_node({"_target_": ASHA, "grace_period": "abc"}, "method")


def test_nested_nodes_are_validated():
    node = {"_target_": ASHA, "searcher": {"_target_": "mfbench.searchers.random.RandomSearcher", "_partial_": True,
                                            "allow_duplicate": True}}
    with pytest.raises(ConfigError, match=r"method\.searcher\.allow_duplicate"):
        validate_node(node, "method")


def test_unknown_target_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot be imported"):
        validate_node({"_target_": "mfbench.nope.Nothing"}, "method")
    with pytest.raises(ConfigError, match="no _target_"):
        validate_node({"type": "x"}, "method")
