"""``python -m mfbench`` (and the ``mfbench`` script): one simulated run, or a sweep with ``-m``.

Kept cheap to import (``--help`` must be fast): the work happens in :mod:`mfbench.cli.app`,
imported only when a run starts; ``--help`` is written by :mod:`mfbench.cli.help`.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable, Iterator

import hydra
from omegaconf import DictConfig

from mfbench.cli.help import asks_for_help, register_help_resolver, render_help_sections
from mfbench.config.tree import config_dir
from mfbench.sweeps.hydra_configs import register_configs

register_configs()
register_help_resolver()  # conf/hydra/help/mfbench.yaml's template calls it


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="config")
def _main(cfg: DictConfig) -> str:
    """One run; returns what happened to it (the sweeper tallies it from the job's return value)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from mfbench.cli.app import execute
    from mfbench.errors import UserInputError
    from mfbench.results.markers import FAILED_MARKER, IN_PROGRESS_ELSEWHERE, RunInProgress, RunTerminated
    from mfbench.results.store import FinishedRunExists
    from mfbench.sweeps.threads import limit_threads_to_allocation

    limit_threads_to_allocation()  # a SLURM job: torch / OpenMP / BLAS threads = its CPUs
    hydra_cfg = HydraConfig.get()
    try:
        _, outcome = execute(cfg, hydra_cfg.runtime.output_dir, dict(hydra_cfg.runtime.choices))
    except RunTerminated as stop:  # SIGTERM (scancel, kill, a time limit): say what became of the run
        print(f"mfbench: {stop}: the run in {hydra_cfg.runtime.output_dir} did not finish and is recorded as failed "
              f"({FAILED_MARKER}); re-run the same command to redo it", file=sys.stderr, flush=True)
        raise
    except RunInProgress as busy:  # a second sweep or job on the same folder: not an error, not computed twice
        print(f"mfbench: skipping {hydra_cfg.runtime.output_dir}: {busy}")
        return IN_PROGRESS_ELSEWHERE
    except (UserInputError, FinishedRunExists) as error:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            raise  # one run of a sweep: the sweeper reports it with the others, the sweep goes on
        print(f"mfbench: error: {error}", file=sys.stderr)
        sys.exit(2)
    return outcome


def _exit_if_typo(error: Exception) -> None:
    """Exit with status 2 and one line if ``error`` is a composition error over an unknown name;
    return (for the caller to re-raise) otherwise, or when ``HYDRA_FULL_ERROR=1`` asks for the
    full traceback (whoever debugs the composition)."""
    from mfbench.config.choices import unknown_name

    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        return
    unknown = unknown_name(error)
    if unknown is not None:
        print(f"mfbench: error: {unknown.message()}", file=sys.stderr, flush=True)
        sys.exit(2)
    from hydra.errors import HydraException

    from mfbench.errors import UserInputError

    cause: BaseException | None = error
    while isinstance(cause, HydraException):  # e.g. a launcher's complaint about its options
        cause = cause.__cause__
    if isinstance(cause, UserInputError):
        print(f"mfbench: error: {cause}", file=sys.stderr, flush=True)
        sys.exit(2)


@contextlib.contextmanager
def _typos_explained() -> Iterator[None]:
    """Report an unknown option, group or key in one line with a did-you-mean, exit status 2.

    Hydra composes the config before :func:`_main` runs, inside its private
    ``run_and_report``, which prints the exception (for an unknown option: its options one a
    line and the config search path) and exits with 1. That function is the only place
    where the exception itself is still at hand, so it is wrapped for the duration of
    :func:`main` (a run, a sweep's first composition, ``--cfg``). ``--help`` composes outside
    it: its exception reaches this context manager. Only composition errors that
    :func:`mfbench.config.choices.unknown_name` recognises are reworded; everything else goes
    to Hydra as before.
    """
    from hydra._internal import utils as hydra_utils

    original: Callable[[Callable[[], Any]], Any] = hydra_utils.run_and_report

    def run_and_report(func: Callable[[], Any]) -> Any:
        def explained() -> Any:
            try:
                return func()
            except Exception as error:
                _exit_if_typo(error)
                raise

        return original(explained)

    hydra_utils.run_and_report = run_and_report
    try:
        yield
    except Exception as error:
        _exit_if_typo(error)
        raise
    finally:
        hydra_utils.run_and_report = original


def main() -> None:
    """The command: one run (or a sweep with ``-m``) of the overrides on the command line."""
    if asks_for_help(sys.argv[1:]):
        render_help_sections()
    try:
        with _typos_explained():
            _main()
    except KeyboardInterrupt:  # Ctrl-C: what became of the runs is on disk; a traceback says nothing more
        print("mfbench: interrupted by Ctrl-C: finished runs are kept, a run that was cut short is recorded as "
              "failed; re-run the same command to finish (python -m mfbench.status <folder> lists what is left)",
              file=sys.stderr, flush=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
