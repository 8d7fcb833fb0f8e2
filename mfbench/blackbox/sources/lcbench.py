"""The LCBench data source: the learning curves of Zimmer et al. (2021), from the original JSON.

*Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for Efficient and Robust AutoDL* (L. Zimmer,
M. Lindauer, F. Hutter, TPAMI 2021): 2,000 random configurations of a funnel-shaped MLP, each
trained for 50 epochs on each of 35 OpenML tasks, logged before training and after every
epoch (52 entries, the last one a repeat of the end of training). The data is one JSON file
(``data_2k_lw.json`` in ``data_2k_lw.zip``, the "lightweight" logs that Syne Tune converts;
the full ``data_2k.json`` has the same layout and more tags)::

    {task: {config_id: {"config": {hyperparameter: value, ...},
                        "log": {"Train/val_accuracy": [52 values], ..., "time": [52 values]},
                        "results": {...}}}}

The table is Syne Tune 0.13's ``lcbench`` (its ``conversion_scripts/scripts/lcbench/lcbench.py``),
value for value:

* the 7 hyperparameters that vary (:func:`hyperparameters`, the reference's space; the
  constant ones such as the optimizer are dropped, as the reference does), rows in
  configuration-id order (0..1999), the same configurations in every task;
* fidelity ``epoch`` = 1..50: the log entries 1..50 (the entry before training and the
  last one are dropped, as in the reference); 1 seed;
* 7 objectives (float32) from :data:`TAGS`: ``val_accuracy``, ``val_balanced_accuracy``,
  ``val_cross_entropy``, ``test_accuracy`` (``Train/test_result``), ``test_balanced_accuracy``,
  ``test_cross_entropy``, and ``time`` = the logged (cumulative) time minus the time of the
  entry before training (the scoring of the untrained model).

The one cache folder ``lcbench`` holds every task of the file. As in the reference, the
benchmarks (``conf/benchmark/lcbench*.yaml``) put a 1-nearest-neighbour surrogate over the
table (``benchmark.surrogate``, :mod:`mfbench.blackbox.table_surrogate`), so that the methods
search the continuous space.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from mfbench.blackbox.base import TabularBlackbox
from mfbench.blackbox.cache import BlackboxDataError
from mfbench.blackbox.sources.registry import COMMAND, ConvertOption, DataSource, Remote
from mfbench.blackbox.stored import encode_configurations, open_tabular, write_tabular
from mfbench.errors import ConfigError
from mfbench.space import Float, Hyperparameter, Integer

#: the cache folder of the converted table
NAME = "lcbench"
ARCHIVE = "data_2k_lw.zip"
#: the reference's download link (figshare file 21188598: data_2k_lw.zip)
URL = "https://figshare.com/ndownloader/files/21188598"
REBUILD = f"{COMMAND} download lcbench  (or: {COMMAND} convert lcbench --from {ARCHIVE})"
#: the tasks the reference defines benchmarks for (its ``lcbench_datasets``), with their OpenML
#: task ids (its ``openml_task_name_to_id``: the ids of the yahpo_lcbench_<task> benchmarks)
OPENML_TASK_IDS: dict[str, str] = {
    "KDDCup09_appetency": "3945", "covertype": "7593", "Amazon_employee_access": "34539", "adult": "126025",
    "nomao": "126026", "bank-marketing": "126029", "shuttle": "146212", "Australian": "167104",
    "kr-vs-kp": "167149", "mfeat-factors": "167152", "credit-g": "167161", "vehicle": "167168", "kc1": "167181",
    "blood-transfusion-service-center": "167184", "cnae-9": "167185", "phoneme": "167190", "higgs": "167200",
    "connect-4": "167201", "helena": "168329", "jannis": "168330", "volkert": "168331", "MiniBooNE": "168335",
    "APSFailure": "168868", "christine": "168908", "fabert": "168910", "airlines": "189354", "jasmine": "189862",
    "sylvine": "189865", "albert": "189866", "dionis": "189873", "car": "189905", "segment": "189906",
    "Fashion-MNIST": "189908", "jungle_chess_2pcs_raw_endgame_complete": "189909",
}
TASKS = tuple(OPENML_TASK_IDS)
#: LCBench's 35th task, which the reference (and YAHPO Gym) leave out; converted, opened by name
OTHER_TASKS = ("numerai28.6",)
NUM_CONFIGS = 2000
#: log entries per curve: before training, 50 epochs, and a final repeat
RAW_LENGTH = 52
FIDELITY = "epoch"
FIDELITY_VALUES = np.arange(1, RAW_LENGTH - 1)
#: objective -> the log tag it is read from (the reference's order)
TAGS: dict[str, str] = {
    "val_accuracy": "Train/val_accuracy",
    "val_balanced_accuracy": "Train/val_balanced_accuracy",
    "val_cross_entropy": "Train/val_cross_entropy",
    "test_accuracy": "Train/test_result",
    "test_balanced_accuracy": "Train/test_balanced_accuracy",
    "test_cross_entropy": "Train/test_cross_entropy",
    "time": "time",
}
OBJECTIVES = tuple(TAGS)


def hyperparameters() -> tuple[Hyperparameter, ...]:
    """The reference's ``CONFIGURATION_SPACE`` (``randint``, ``lograndint``, ``loguniform``,
    ``uniform``), in the alphabetical order of LCBench's configuration keys."""
    return (
        Integer("batch_size", 16, 512, log=True),
        Float("learning_rate", 1e-4, 1e-1, log=True),
        Float("max_dropout", 0.0, 1.0),
        Integer("max_units", 64, 1024, log=True),
        Float("momentum", 0.1, 0.99),
        Integer("num_layers", 1, 5),
        Float("weight_decay", 1e-5, 1e-1),
    )


# ----------------------------------------------------------------------- the input
def _corrupt(path: Path, what: str) -> BlackboxDataError:
    return BlackboxDataError(f"{path}: {what}; the file is corrupt or truncated: delete it and fetch it again: "
                             f"{REBUILD}")


def _read_text(path: Path) -> tuple[str, Path]:
    """The JSON text of ``path`` (``data_2k_lw.zip``, a ``.json``, or a folder holding either), and
    the file it came from (for messages)."""
    if path.is_dir():
        candidates = [path / name for name in (ARCHIVE, "data_2k_lw.json", "data_2k.zip", "data_2k.json")]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            found = next(iter(sorted(path.glob("*.json")) + sorted(path.glob("*.zip"))), None)
        if found is None:
            raise BlackboxDataError(f"{path} holds no LCBench file ({ARCHIVE} or data_2k_lw.json): {REBUILD}")
        path = found
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.endswith(".json") and not m.startswith("__MACOSX")]
                if len(members) != 1:
                    raise BlackboxDataError(f"{path} holds {len(members)} JSON files {members[:5]}, expected one "
                                            f"(data_2k_lw.json): not LCBench's {ARCHIVE}")
                return archive.read(members[0]).decode("utf-8"), path / members[0]
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise _corrupt(path, f"not a readable zip archive ({error})") from None
    if path.suffix == ".zip":
        raise _corrupt(path, "not a zip archive")
    try:
        return path.read_text(encoding="utf-8"), path
    except (OSError, UnicodeDecodeError) as error:
        raise _corrupt(path, f"not a readable JSON file ({error})") from None


def iter_tasks(text: str, where: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(task, {config_id: record})`` of the top-level JSON object ``text``, one task at a time.

    The file is a single object of 35 tasks; decoding it task by task keeps only one task's
    Python objects alive at once (a few hundred MB for the full file, instead of GBs).
    """
    decoder = json.JSONDecoder()
    whitespace = " \t\n\r"

    def skip(i: int) -> int:
        while i < len(text) and text[i] in whitespace:
            i += 1
        return i

    def expect(i: int, char: str) -> int:
        if i >= len(text) or text[i] != char:
            found = repr(text[i]) if i < len(text) else "the end of the file"
            raise _corrupt(where, f"not LCBench's JSON layout {{task: {{config_id: ...}}}}: expected {char!r} at "
                                  f"character {i}, found {found}")
        return i + 1

    try:
        i = expect(skip(0), "{")
        i = skip(i)
        if i < len(text) and text[i] == "}":
            return
        while True:
            task, i = decoder.raw_decode(text, i)
            i = expect(skip(i), ":")
            records, i = decoder.raw_decode(text, skip(i))
            if not isinstance(task, str) or not isinstance(records, dict):
                raise _corrupt(where, f"the entry {task!r} is not a task holding {{config_id: record}}")
            yield task, records
            i = skip(i)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
                continue
            expect(i, "}")
            return
    except json.JSONDecodeError as error:
        raise _corrupt(where, f"invalid JSON ({error})") from None


def _tag(record: Mapping[str, Any], tag: str) -> Any:
    """A record's value of ``tag``, looked up as LCBench's API does: log, then results, then config."""
    for part in ("log", "results", "config"):
        if tag in record.get(part, {}):
            return record[part][tag]
    raise KeyError(tag)


def read_task(task: str, records: Mapping[str, Any], where: Path) -> tuple[list[str], list[tuple[Any, ...]], np.ndarray]:
    """One task's configuration ids (sorted as numbers), configurations and evaluations.

    Returns:
        ids; the value tuples of :func:`hyperparameters` per id; float32 evaluations
        ``(N, 1, 50, 7)`` (configurations, seed, epochs 1..50, :data:`OBJECTIVES`).
    """
    try:
        ids = sorted(records, key=int)
    except ValueError:
        raise _corrupt(where, f"task {task!r} has configuration ids that are not numbers "
                              f"({sorted(records)[:3]})") from None
    space = hyperparameters()
    rows: list[tuple[Any, ...]] = []
    # float64 as in the reference (its array is np.zeros), cast to float32 when stored
    values = np.empty((len(ids), 1, len(FIDELITY_VALUES), len(TAGS)), dtype=np.float64)
    for i, config_id in enumerate(ids):
        record = records[config_id]
        config = record.get("config") if isinstance(record, dict) else None
        if not isinstance(config, dict):
            raise _corrupt(where, f"task {task!r}, configuration {config_id}: no 'config'")
        row = []
        for hp in space:
            value = config.get(hp.name)
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not hp.contains(value):
                raise BlackboxDataError(f"{where}: task {task!r}, configuration {config_id} has {hp.name}={value!r}, "
                                        f"outside LCBench's space {hp}; not LCBench's data")
            row.append(int(value) if isinstance(hp, Integer) else float(value))
        rows.append(tuple(row))
        for j, tag in enumerate(TAGS.values()):
            try:
                raw = np.asarray(_tag(record, tag), dtype=np.float64)
            except KeyError:
                raise BlackboxDataError(f"{where}: task {task!r}, configuration {config_id} has no {tag!r} log; not "
                                        f"LCBench's data ({ARCHIVE} holds it)") from None
            except (TypeError, ValueError):
                raise _corrupt(where, f"task {task!r}, configuration {config_id}: {tag!r} is not a list of "
                                      f"numbers") from None
            if raw.shape != (RAW_LENGTH,):
                raise BlackboxDataError(f"{where}: task {task!r}, configuration {config_id}: {tag!r} has "
                                        f"{raw.size} entries, LCBench logs {RAW_LENGTH} (before training, 50 epochs, "
                                        f"final)")
            values[i, 0, :, j] = raw[1:-1]
            if tag == "time":  # the time of scoring the untrained model is not training time
                values[i, 0, :, j] -= raw[0]
    return ids, rows, values.astype(np.float32)


# ----------------------------------------------------------------------- converter
def convert(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None,
            allow_partial: bool = False, progress: bool = True,
            report: Callable[[str], None] | None = None) -> Path:
    """Convert LCBench's JSON into the cache; return the blackbox directory.

    Args:
        path: ``data_2k_lw.zip``, the ``data_2k_lw.json`` in it (or ``data_2k.json``), or a
            folder holding one of them.
        cache_dir: the cache root override.
        allow_partial: convert a file that lacks some of the 34 tasks of the reference or
            has fewer than 2,000 configurations (a test fixture); the table is marked ``partial``.
        progress: unused (one report line per task instead).
        report: prints one line per converted task.

    Raises:
        BlackboxDataError: no such file, a corrupt archive or JSON, tasks that disagree on the
            configurations, values outside LCBench's layout, or an incomplete file without
            ``allow_partial``.
    """
    say = report or (lambda line: None)
    path = Path(path).expanduser()
    if not path.exists():
        raise BlackboxDataError(f"{path} does not exist; download {ARCHIVE}: {REBUILD}")
    text, where = _read_text(path)
    tables: dict[str, np.ndarray] = {}
    first: tuple[str, list[str], list[tuple[Any, ...]]] | None = None
    for task, records in iter_tasks(text, where):
        ids, rows, values = read_task(task, records, where)
        if first is None:
            first = (task, ids, rows)
        elif ids != first[1] or rows != first[2]:
            raise BlackboxDataError(f"{where}: tasks {first[0]!r} and {task!r} hold different configurations; "
                                    f"LCBench evaluates the same ones on every task: fetch the file again: {REBUILD}")
        tables[task] = values
        say(f"lcbench: read {task} ({len(ids)} configurations x {len(FIDELITY_VALUES)} epochs)")
    del text
    if first is None or not first[1]:
        raise _corrupt(where, "no task or no configuration in the file")
    missing = [task for task in TASKS if task not in tables]
    partial = bool(missing) or len(first[1]) != NUM_CONFIGS
    if partial and not allow_partial:
        raise BlackboxDataError(
            f"{where} holds {len(first[1])} of LCBench's {NUM_CONFIGS} configurations"
            f"{f' and lacks {len(missing)} of the reference tasks (e.g. {missing[:3]})' if missing else ''}: an "
            f"incomplete download? Pass --allow-partial to "
            f"convert what is there, or fetch it again: {REBUILD}")
    space = hyperparameters()
    columns = {hp.name: [row[k] for row in first[2]] for k, hp in enumerate(space)}

    def filler(task: str) -> Callable[[np.ndarray], None]:
        def fill(out: np.ndarray) -> None:
            out[...] = tables[task]
        return fill

    extra: dict[str, Any] = {"description": "LCBench (Zimmer et al. 2021), converted as Syne Tune's lcbench"}
    if partial:
        extra["partial"] = True
    directory = write_tabular(NAME, cache_dir, space, encode_configurations(space, columns), FIDELITY,
                              FIDELITY_VALUES, OBJECTIVES, {task: filler(task) for task in tables}, 1,
                              source={"kind": "lcbench-json", "path": str(path)}, extra=extra)
    say(f"lcbench: wrote {len(tables)} tasks")
    return directory


def task_name(task: str | int) -> str:
    """The LCBench task called ``task``: its name, or the OpenML task id of one of :data:`TASKS`.

    Raises:
        ConfigError: neither (the message lists the names, with a did-you-mean).
    """
    name = str(task)
    by_id = {openml_id: known for known, openml_id in OPENML_TASK_IDS.items()}
    name = by_id.get(name, name)
    if name not in (*TASKS, *OTHER_TASKS):
        from mfbench.config.choices import did_you_mean

        hint = did_you_mean(name, (*TASKS, *OTHER_TASKS))
        raise ConfigError(f"lcbench: unknown task {task!r}; choose one of {[*TASKS, *OTHER_TASKS]} or the OpenML "
                          f"task id of one of the first 34 ({', '.join(list(OPENML_TASK_IDS.values())[:3])}, ...)"
                          + (f"; {hint}" if hint else ""))
    return name


def lcbench_blackbox(task: str = "KDDCup09_appetency", cache_dir: str | None = None) -> TabularBlackbox:
    """Open the converted LCBench table of one task from the cache (memory-mapped).

    Args:
        task: the task's name (one of :data:`TASKS` or :data:`OTHER_TASKS`) or the OpenML task id
            of one of :data:`TASKS` (as the ``yahpo_lcbench_<id>`` benchmarks name them).
        cache_dir: the cache root override.

    Raises:
        ConfigError: an unknown task (the message lists them).
        BlackboxDataError: the data is not converted yet, or a partial conversion lacks the task
            (the message names the command).
    """
    return open_tabular(NAME, task_name(task), cache_dir, REBUILD)


SOURCE = DataSource(
    name=NAME,
    description="LCBench (Zimmer et al. 2021): 2,000 configurations x 50 epochs x 35 OpenML tasks, from the "
                "original data_2k_lw.json, as Syne Tune converts it",
    remotes=(
        Remote("figshare", URL, (ARCHIVE,),
               manual=f"Or download {URL} ({ARCHIVE}, the file of Syne Tune's lcbench recipe) by hand and run: "
                      f"{COMMAND} convert lcbench --from {ARCHIVE}",
               convert_file=True, direct=True),
    ),
    convert=convert,
    factory=lcbench_blackbox,
    entries={NAME: REBUILD},
    options=(ConvertOption("--allow-partial", "allow_partial",
                           "convert fewer tasks or configurations than the full table (a test fixture)",
                           is_switch=True),),
)
