"""The errors a user can act on: each message names the problem and the fix.

Entry points print them as one line (no traceback) and exit with status 2; a sweep records
them as the failure of the one run they belong to. Everything else is a bug in mfbench or in
user code and keeps its traceback.
"""
from __future__ import annotations


class UserInputError(ValueError):
    """Bad input (config, data, table, file) that the user must fix; the message says how."""


class ConfigError(UserInputError):
    """A configuration value or override that is wrong, missing or inconsistent."""


class DataError(UserInputError, FileNotFoundError):
    """Data on disk (a blackbox, a table, a model file) that is missing, stale, foreign or corrupt."""


class MethodContractError(UserInputError):
    """A method's code (scheduler or searcher) answered the simulator outside its contract.

    The message names the class, the call, what it returned and what was expected
    (docs/writing-a-method.md). Raised where the answer enters the simulator, before it can
    corrupt the run.
    """


def describe_class(cls: type) -> str:
    """``Name (path/to/file.py)`` for a user's class, ``package.module.Name`` for an installed one
    (how a message about a method names its code)."""
    module = cls.__module__
    if module.startswith("mfbench_user_"):  # imported from a file: the file says more than the module name
        import inspect

        try:
            return f"{cls.__qualname__} ({inspect.getfile(cls)})"
        except TypeError:
            pass
    return f"{module}.{cls.__qualname__}"


def message_of(error: BaseException) -> str:
    """The message of ``error``: a KeyError's own text, not the quoted repr ``str()`` gives of it."""
    return str(error.args[0]) if isinstance(error, KeyError) and len(error.args) == 1 else str(error)
