"""Compose a sweep's runs once per group combination, and derive the others by setting scalars.

Hydra composes every run of a sweep from scratch (``load_sweep_config``: the defaults list,
every YAML of the chosen options, the overrides): about 0.1-0.2 s of CPU per run, more than
a cheap run itself takes. The runs of a grid mostly differ in a seed (or another scalar
top-level key, :data:`SCALAR_KEYS`), which changes no config group: composing such a run
gives the tree of any other run with the same other overrides, with those values set. So
:class:`SweepConfigs` composes the first run of each such family (its *template*) and derives
the others from it by setting their scalar values and the per-run fields of the ``hydra``
node (``hydra.overrides.task``, ``hydra.job.override_dirname``), in place.

Both the planning of a sweep (:mod:`mfbench.sweeps.plan`, in the sweep's process) and the
jobs that run its runs (:mod:`mfbench.sweeps.launcher`, in each job's process) derive runs
this way; each composes its own templates (a job composes in its own environment, as Hydra
would).
"""
from __future__ import annotations

from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

#: top-level keys whose value changes no config group (the schema's scalars): a run that differs
#: from an already composed one only in these is derived from it without composing it again
SCALAR_KEYS = ("seed", "n_workers", "experiment_name", "overwrite", "progress")


def split_scalars(overrides: Sequence[str]) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """``(template key, {scalar key: value})``, or None when an override of a
    :data:`SCALAR_KEYS` key is anything but a plain ``key=value``. Runs with equal template
    keys differ only in the values of the same scalar keys: the other overrides, and which
    scalars are set, agree.

    Values are parsed by Hydra's override grammar, as a composition would parse them.
    """
    rest, scalars = [], {}
    for text in overrides:
        key = text.split("=", 1)[0]
        if key in SCALAR_KEYS:
            override = _parser().parse_override(text)
            if override.type is not _change() or override.is_sweep_override():
                return None
            scalars[key] = override.value()
        else:
            rest.append(text)
    return (*rest, "|", *sorted(scalars)), scalars


class SweepConfigs:
    """The composed sweep config of each run: composed once per template, derived for the rest.

    Args:
        config_loader: Hydra's config loader (``hydra_context.config_loader``).
        master_config: the sweep's config (with its ``hydra`` node), as Hydra's launchers get it.

    The config returned by :meth:`of` is shared by the runs of its family and changed in place
    by the next call for one of them: use it (run or resolve it) before asking for the next run.
    """

    def __init__(self, config_loader: Any, master_config: DictConfig) -> None:
        self.config_loader = config_loader
        self.master_config = master_config
        self._templates: dict[tuple[str, ...], DictConfig] = {}
        self.composed = 0  # how many runs were composed by Hydra (the others were derived)

    def of(self, overrides: Sequence[str]) -> DictConfig:
        """The run's sweep config, equal to ``load_sweep_config(master_config, overrides)``.

        Raises:
            Exception: Hydra's composition error (unknown group option, bad override).
        """
        split = split_scalars(overrides)
        template = None if split is None else self._templates.get(split[0])
        if template is None:
            config = self.config_loader.load_sweep_config(self.master_config, list(overrides))
            self.composed += 1
            if split is not None:
                self._templates[split[0]] = config
            return config
        assert split is not None
        _set_run(template, overrides, split[1])
        return template


def _set_run(config: DictConfig, overrides: Sequence[str], scalars: dict[str, Any]) -> None:
    """Make ``config`` (composed for another run of the family) the config of ``overrides``:
    the scalar values, and the ``hydra`` fields Hydra's composition fills from the overrides."""
    from hydra._internal.config_loader_impl import get_overrides_dirname  # how Hydra fills it

    parsed = _parser().parse_overrides(list(overrides))
    task = [o for o in parsed if not o.is_hydra_override()]
    # a composition leaves the hydra node writable; running the previous run (Hydra's run_job)
    # made it read-only
    OmegaConf.set_readonly(config.hydra, False)
    with read_write(config), open_dict(config):
        for key, value in scalars.items():
            config[key] = value
        job = config.hydra.job
        config.hydra.overrides.task = [o.input_line for o in task]
        job.override_dirname = get_overrides_dirname(
            overrides=task, kv_sep=job.config.override_dirname.kv_sep, item_sep=job.config.override_dirname.item_sep,
            exclude_keys=job.config.override_dirname.exclude_keys)


_PARSER: Any = None


def _parser() -> Any:
    """Hydra's override parser (built once: building it costs more than parsing a few overrides)."""
    global _PARSER
    if _PARSER is None:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        _PARSER = OverridesParser.create()
    return _PARSER


def _change() -> Any:
    from hydra.core.override_parser.types import OverrideType

    return OverrideType.CHANGE
