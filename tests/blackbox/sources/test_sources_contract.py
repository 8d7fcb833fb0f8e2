"""Every registered data source passes the same checks (see mfbench/blackbox/sources/registry.py).

For each source: it declares remotes or says why there are none; each remote's files, laid
out as ``download`` leaves them, convert; so does any other input it takes (``--from``),
each in the source's original layout; the conversion writes only the cache folders the source
declares, with manifests whose checksums verify; the factory opens them; a benchmark YAML
names the factory; and a factory without its data names the command that fetches it.

A new source registers by its module alone, so it lands here at once: give it its inputs in
:data:`FIXTURES` (a source without one fails :func:`test_every_source_has_a_fixture`).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from omegaconf import OmegaConf

from mfbench.blackbox.base import Blackbox
from mfbench.blackbox.cache import STAMP, BlackboxDataError, read_manifest, verify_checksums
from mfbench.blackbox.sources import registry
from mfbench.blackbox.sources.registry import COMMAND, DataSource
from mfbench.config.tree import config_dir
from tests.blackbox.sources.nats_writer import (tiny_arch_strings, write_nats_file, write_nats_simple,
                                                write_syne_tune_layout)
from tests.conftest import FIXTURES as VENDORED

SOURCES = registry.sources()


@dataclass
class Input:
    """One input of a source's converter: a remote's download folder, or another ``--from`` input."""

    label: str  # the remote's name, or what else it is (e.g. "nats-simple")
    path: Path | None  # a remote's input: the folder holding exactly its files
    options: dict[str, Any] = field(default_factory=dict)
    is_remote: bool = True
    #: the real files we have are only some of the remote's (YAHPO: 4 of its 15 scenarios); each
    #: one is still where the download puts it
    subset: bool = False


@dataclass
class Fixture:
    """How to feed a source's converter and open its factory."""

    inputs: Callable[[Path], list[Input]]  # writes the inputs under a temporary folder
    factory_kwargs: dict[str, Any]
    needs: Path | None = None  # the vendored real data the inputs copy (tests/data)


def _nas201_inputs(tmp: Path) -> list[Input]:
    """Five synthetic architectures in each of the three NB201 layouts."""
    archs = tiny_arch_strings(5)
    simple = write_nats_simple(tmp / "NATS-tss-v1_0-3ffb9-simple", archs)
    nats_file = write_nats_file(tmp / "nats-file" / "NATS-tss-v1_0-3ffb9.pickle.pbz2", archs)
    # Syne Tune's folder is written from the simple folder's conversion (its own converter is not ours)
    from mfbench.blackbox.sources import nas201

    nas201.convert(simple, tmp / "scratch-cache", progress=False)
    syne = write_syne_tune_layout(tmp / "scratch-cache" / nas201.NAME, tmp / "syne-tune")
    return [Input("nats-simple", simple, is_remote=False), Input("nats-file", nats_file.parent),
            Input("syne-tune", syne)]


def _yahpo_inputs(tmp: Path) -> list[Input]:
    """The real yahpo_data files of the vendored scenarios, as the download leaves them (``<scenario>/<file>``)."""
    from tests.conftest import YAHPO_VENDORED

    folder = tmp / "yahpo_data"
    for scenario in YAHPO_VENDORED:
        (folder / scenario).mkdir(parents=True)
        for name in ("model.onnx", "config_space.json", "encoding.json"):
            shutil.copyfile(VENDORED / f"yahpo-{scenario}" / name, folder / scenario / name)
    return [Input("yahpo_data", folder, subset=True)]


def _fcnet_inputs(tmp: Path) -> list[Input]:
    """The archive as downloaded, and the folder it extracts to (the same 24 configurations)."""
    from mfbench.blackbox.sources.fcnet import ARCHIVE
    from tests.blackbox.sources.fcnet_writer import write_fcnet_archive, write_fcnet_folder

    write_fcnet_archive(tmp / "ml4aad" / ARCHIVE)
    write_fcnet_folder(tmp / "extracted")
    partial = {"allow_partial": True}
    return [Input("ml4aad", tmp / "ml4aad", partial),
            Input("extracted", tmp / "extracted" / "fcnet_tabular_benchmarks", partial, is_remote=False)]


def _lcbench_inputs(tmp: Path) -> list[Input]:
    """The zip as downloaded, and the JSON it holds (2 tasks x 3 configurations)."""
    from mfbench.blackbox.sources.lcbench import ARCHIVE
    from tests.blackbox.sources.lcbench_writer import write_lcbench_json, write_lcbench_zip

    tasks = ("adult", "Fashion-MNIST")
    write_lcbench_zip(tmp / "figshare" / ARCHIVE, tasks)
    write_lcbench_json(tmp / "json" / "data_2k_lw.json", tasks)
    partial = {"allow_partial": True}
    return [Input("figshare", tmp / "figshare", partial),
            Input("json", tmp / "json" / "data_2k_lw.json", partial, is_remote=False)]


#: each registered source's inputs and the factory arguments that open what they give
FIXTURES: dict[str, Fixture] = {
    "fcnet": Fixture(_fcnet_inputs, {"task": "naval_propulsion"}),
    "lcbench": Fixture(_lcbench_inputs, {"task": "Fashion-MNIST"}),
    "nas201": Fixture(_nas201_inputs, {"task": "cifar100"}),
    "nas201_offline": Fixture(lambda tmp: [Input("package", None, {"task": "cifar100"}, is_remote=False)],
                              {"task": "cifar100"}),
    "yahpo": Fixture(_yahpo_inputs, {"scenario": "rbv2_xgboost", "instance": "1220"},
                     needs=VENDORED / "yahpo-rbv2_xgboost"),
}


def test_every_source_has_a_fixture():
    assert SOURCES, "no data source registered"
    missing = sorted(set(SOURCES) - set(FIXTURES))
    assert not missing, f"give {missing} their inputs in FIXTURES of {__file__}"
    assert list(SOURCES) == sorted(SOURCES)  # the command lists them in a stable order


@pytest.mark.parametrize("name", list(SOURCES))
def test_declares_remotes_or_why_not(name):
    source = SOURCES[name]
    assert source.name == name and source.description
    if not source.remotes:
        assert source.no_remote, f"{name}: no remote and no reason"
    for remote in source.remotes:
        assert remote.files and remote.base.startswith("https://")
        assert f"convert {name} --from" in remote.manual, f"{name}/{remote.name}: the manual hint names the command"
        assert len(remote.checksums()) == len(remote.files)
        assert all(sha is None or len(sha) == 64 for sha in remote.checksums())
        assert remote.url(remote.files[-1]).endswith(remote.files[-1]) or "?" in remote.base or remote.direct


@pytest.mark.parametrize("name", list(SOURCES))
def test_entries_are_its_own_and_name_a_command(name):
    source = SOURCES[name]
    others = {entry for other in SOURCES.values() if other is not source for entry in other.entries}
    assert not set(source.entries) & others, f"{name} shares cache folders with another source"
    for entry, rebuild in source.entries.items():
        assert registry.owner(entry) is source
        assert rebuild.startswith(COMMAND) and f" {name}" in rebuild, f"{entry}: {rebuild!r}"


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_benchmark_yaml_names_the_factory(name):
    factory = SOURCES[name].factory
    target = f"{factory.__module__}.{factory.__name__}"
    targets = {OmegaConf.select(OmegaConf.load(path), "blackbox._target_")
               for path in (Path(config_dir()) / "benchmark").glob("*.yaml")}
    assert target in targets, f"no conf/benchmark/*.yaml has blackbox._target_: {target}"


@pytest.mark.parametrize("name", [n for n, s in SOURCES.items() if s.needs_input])
def test_factory_without_data_names_the_command(name, tmp_path):
    source = SOURCES[name]
    with pytest.raises(BlackboxDataError) as error:
        source.factory(**FIXTURES[name].factory_kwargs, cache_dir=str(tmp_path))
    assert any(rebuild in str(error.value) for rebuild in source.entries.values())


def _convert_and_open(source: DataSource, fixture: Fixture, item: Input, cache: Path) -> dict[str, bytes]:
    """Convert one input into ``cache``, check what was written, open it; the data files' bytes."""
    reports: list[str] = []
    path = item.path
    if item.is_remote:  # hand the converter what `download` hands it
        remote = source.remote(item.label)
        files = sorted(p.relative_to(item.path).as_posix() for p in item.path.rglob("*") if p.is_file())
        assert files == sorted(remote.files) or (item.subset and files and set(files) < set(remote.files)), \
            f"{source.name}/{remote.name}: the fixture is not the remote's layout"
        path = item.path / remote.files[0] if remote.convert_file else item.path
    written = source.run_convert(path, str(cache), False, reports.append, item.options)
    assert written.is_dir() and (written == cache or written.parent == cache)
    folders = sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))
    assert folders and set(folders) <= set(source.entries), f"{source.name} wrote {folders}, declares {source.entries}"
    data = {}
    for folder in folders:
        manifest = read_manifest(cache / folder, folder, source.entries[folder])
        assert not verify_checksums(cache / folder, manifest)
        data.update({f"{folder}/{p.relative_to(cache / folder).as_posix()}": p.read_bytes()
                     for p in sorted((cache / folder).rglob("*"))
                     if p.is_file() and p.name not in ("manifest.json", STAMP)})  # the stamp records inodes and times
    blackbox = source.factory(**fixture.factory_kwargs, cache_dir=str(cache))
    assert isinstance(blackbox, Blackbox)
    config = blackbox.config_space.sample(np.random.default_rng(0))
    values = blackbox.evaluate(config, 0, np.asarray(blackbox.fidelity_values)[[0, -1]])
    assert values.shape == (2, len(blackbox.objective_names)) and np.isfinite(values).all()
    return data


@pytest.mark.parametrize("name", list(SOURCES))
def test_converts_every_input_and_the_factory_opens_it(name, tmp_path):
    source, fixture = SOURCES[name], FIXTURES[name]
    assert fixture.needs is None or fixture.needs.exists(), f"{name}: the vendored fixture is missing: {fixture.needs}"
    inputs = fixture.inputs(tmp_path / "inputs")
    labels = [item.label for item in inputs if item.is_remote]
    assert sorted(labels) == sorted(r.name for r in source.remotes), f"{name}: give every remote an input"
    tables = {item.label: _convert_and_open(source, fixture, item, tmp_path / "cache" / item.label)
              for item in inputs}
    first, *rest = tables
    for label in rest:  # every layout of the same data gives the same table, byte for byte
        assert tables[label] == tables[first], f"{name}: {label} and {first} give different tables"
