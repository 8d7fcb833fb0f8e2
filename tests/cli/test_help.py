"""``python -m mfbench --help``: its sections, derived from the config tree and the data registry."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from mfbench.cli.help import SECTIONS
from mfbench.config.tree import config_dir

REPO = Path(__file__).resolve().parents[2]


def _help(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "mfbench", "--help", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_help_has_every_section(tmp_path):
    done = _help(tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for section in ("Usage: python -m mfbench", "Examples:", "Config groups", "Other keys", "Benchmark data",
                    "Presets", "Launchers", "Companion commands"):
        assert section in text, section
    for command in ("python -m mfbench.data", "python -m mfbench.status", "python -m mfbench.analysis",
                    "python -m mfbench.check", "hydra/launcher=slurm", "-m method=asha_stop,asha_prom"):
        assert command in text, command
    assert "is powered by Hydra" not in text and "$" not in text


def test_help_lists_groups_with_the_current_choice_and_yahpo_in_one_line(tmp_path):
    text = _help(tmp_path, "method=asha_prom").stdout
    groups = " ".join(_entries(text.split("Config groups")[1].split("Other keys")[0]))
    assert "asha_prom*" in groups and "asha_stop," in groups and "nas201_offline_cifar100*" in groups
    assert "yahpo_lcbench_<task> (34 tasks: 3945, 7593, 34539, ..., 189909)" in groups
    assert "yahpo_lcbench_126026" not in text  # no member of the family is listed on its own
    assert "seed=0" in text and "n_workers=null" in text


def _entries(section: str) -> list[str]:
    """The entries of a section, each with its wrapped lines joined."""
    entries: list[str] = []
    for line in section.splitlines()[1:]:
        if line.startswith(" " * 4):  # a continuation (hanging indent)
            entries[-1] += " " + line.strip()
        elif line.strip():
            entries.append(" ".join(line.split()))
    return entries


def test_help_says_which_benchmarks_need_a_download(tmp_path):
    data = _entries(_help(tmp_path).stdout.split("Benchmark data")[1].split("Presets")[0])
    assert data[0] == ("download first: python -m mfbench.data download fcnet for fcnet_naval, fcnet_parkinsons, "
                       "fcnet_protein, fcnet_slice")
    assert data[1] == ("download first: python -m mfbench.data download lcbench for lcbench, lcbench_<task> (34 tasks: "
                       "3945, 7593, 34539, ..., 189909)")
    assert data[2] == ("download first: python -m mfbench.data download nas201 for nas201_cifar10, nas201_cifar100, "
                       "nas201_imagenet16")
    assert data[3] == ("download first: python -m mfbench.data download yahpo for yahpo, yahpo_iaml_glmnet, "
                       "yahpo_lcbench, yahpo_lcbench_<task> (34 tasks: 3945, 7593, 34539, ..., 189909), "
                       "yahpo_rbv2_rpart, yahpo_rbv2_xgboost")
    assert data[4].startswith("no download: nas201_offline_cifar10, nas201_offline_cifar100, "
                              "nas201_offline_cifar100_knn, nas201_offline_imagenet16:")
    assert data[5] == ("your own data: function (benchmark.target=... benchmark.hyperparameters=...), "
                       "table (benchmark.path=...)")
    assert data[6] == "nothing needed: function_example, hartmann3, hartmann6, trainsize_toy"


def test_hydra_help_stays_hydras(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "mfbench", "--hydra-help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Hydra (" in done.stdout and "== Flags ==" in done.stdout


def _root(choices: dict[str, str]) -> object:
    return OmegaConf.create({"hydra": {"runtime": {"choices": choices}}, "seed": 0, "benchmark": {}, "method": {}})


def test_a_new_yaml_shows_up_by_itself(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(config_dir(), conf)
    (conf / "method" / "my_method.yaml").write_text("# My method: a test\n_target_: x.Y\n")
    (conf / "benchmark" / "yahpo_lcbench_999999.yaml").write_text(
        "defaults:\n  - yahpo_lcbench\n  - _self_\nblackbox:\n  instance: '999999'\n")
    (conf / "benchmark" / "mine.yaml").write_text("_target_: x.Y\nfile: ???\n")
    (conf / "experiment" / "big.yaml").write_text("# @package _global_\n# A big one: all of it. More.\n")
    (conf / "hydra" / "launcher" / "cloud.yaml").write_text("# Somewhere else (not here): text\n")
    root = _root({"method": "my_method"})
    groups = " ".join(SECTIONS["groups"](root, str(conf)).split())  # unwrapped
    assert "my_method*" in groups and "yahpo_lcbench_<task> (35 tasks: 3945, 7593, 34539, ..., 999999)" in groups
    data = " ".join(SECTIONS["data"](root, str(conf)).split())
    assert "mine (benchmark.file=...)" in data and "999999" in data.split("no download")[0]
    assert "big               A big one" in SECTIONS["presets"](root, str(conf))
    assert "cloud             Somewhere else" in SECTIONS["launchers"](root, str(conf))


def test_the_sections_are_built_only_when_the_help_is_shown(tmp_path, monkeypatch):
    """Hydra dereferences the template at every composition: a run must not pay for the sections."""
    from hydra import compose, initialize_config_dir

    from mfbench.cli import help as help_module
    from mfbench.sweeps.hydra_configs import register_configs

    register_configs()  # the schema the primary config's defaults name
    built: list[str] = []
    monkeypatch.setitem(help_module.SECTIONS, "groups", lambda root, conf: built.append("groups") or "G")
    help_module.register_help_resolver()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        template = compose(config_name="config", return_hydra_config=True).hydra.help.template
        assert template.count(help_module.PLACEHOLDER) == 5 and built == []
        help_module.render_help_sections()
        try:
            template = compose(config_name="config", return_hydra_config=True).hydra.help.template
        finally:
            help_module.render_help_sections(False)
    assert "\nG\n" in template and help_module.PLACEHOLDER not in template and built


def test_asks_for_help_reads_the_arguments_as_hydra_does():
    from mfbench.cli.help import asks_for_help

    assert asks_for_help(["--help"]) and asks_for_help(["-h", "method=asha_prom"]) and asks_for_help(["--hel"])
    assert not asks_for_help([]) and not asks_for_help(["--hydra-help"]) and not asks_for_help(["method=asha_prom"])
    assert not asks_for_help(["-m", "seed=0,1"]) and not asks_for_help(["--cfg", "job"])


def test_asks_for_help_prints_nothing_itself(capsys):
    """Hydra parses the arguments again and reports them: a second report would be a duplicate."""
    from mfbench.cli.help import asks_for_help

    assert not asks_for_help(["--version"]) and not asks_for_help(["--cfg"])  # argparse prints, then exits
    assert capsys.readouterr() == ("", "")
