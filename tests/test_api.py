from mfbench.api import compose, simulate


def test_simulate_in_process_matches_the_cli_config():
    columns, metadata = simulate(compose(["method=asha_prom", "seed=3", "benchmark=hartmann3",
                                          "stopping.max_num_evaluations=200"]))
    assert metadata["method"] == "asha_prom" and metadata["benchmark"] == "hartmann3"
    assert len(columns["trial_id"]) == metadata["num_results"] == 200
    assert metadata["stop_reason"] == "max_num_evaluations"
    again, _ = simulate(compose(["method=asha_prom", "seed=3", "benchmark=hartmann3",
                                 "stopping.max_num_evaluations=200"]))
    assert again["sim_time"].tolist() == columns["sim_time"].tolist()
