from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mfbench.sweeps.manifest import expected_runs, read_manifests, write_manifest


@dataclass
class Run:
    subdir: str
    overrides: list[str]
    fingerprint: str


def test_union_of_manifests_latest_entry_wins(tmp_path: Path) -> None:
    first = write_manifest(tmp_path, [Run("b/a/seed_0", ["method=a", "seed=0"], "f0"),
                                      Run("b/a/seed_1", ["method=a", "seed=1"], "f1")],
                           ["hydra/launcher=local"], ["method=a", "seed=0,1"], argv=["-m"])
    second = write_manifest(tmp_path, [Run("b/a/seed_1", ["method=a", "seed=1"], "g1")], [], ["seed=1"])
    assert first != second and first.parent == tmp_path / ".mfbench" / "sweeps"
    (first.parent / "broken.json").write_text("{not json")
    assert [m["path"] for m in read_manifests(tmp_path)] == sorted([first, second])
    expected = expected_runs(tmp_path)
    assert sorted(expected) == ["b/a/seed_0", "b/a/seed_1"]
    assert expected["b/a/seed_0"].hydra_overrides == ("hydra/launcher=local",)
    assert (expected["b/a/seed_1"].fingerprint, expected["b/a/seed_1"].hydra_overrides) == ("g1", ())
    assert expected_runs(tmp_path / "nowhere") == {}


def test_hydra_overrides_are_recorded_as_given_not_resolved() -> None:
    """A subdir with ${hydra:...} cannot be resolved outside a run; the completion command
    repeats it as the user wrote it."""
    from omegaconf import OmegaConf

    from mfbench.sweeps.sweeper import _replayable

    overrides = OmegaConf.create(["hydra.sweep.subdir=${hydra:runtime.choices.method}/t${stopping.max_wallclock_time}",
                                  "hydra.mode=MULTIRUN", "hydra.sweep.dir=out"])
    assert _replayable(overrides) == ["hydra.sweep.subdir=${hydra:runtime.choices.method}/t${stopping.max_wallclock_time}",
                                      "hydra.sweep.dir=out"]
