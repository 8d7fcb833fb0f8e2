"""Every import points down the layers of CONTRIBUTING.md, and the packages form no cycle.

    entry points -> sweeps -> backend, schedulers, benchmarks, analysis
                 -> searchers, blackbox, results, data -> problem, space, errors, config

An import inside a function counts like one at the top of a module: it is a dependency all
the same. A module may import from its own layer or any layer below it.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: layers from the top; a module belongs to the first layer with a prefix it starts with
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry points", ("mfbench.__main__", "mfbench.api", "mfbench.status", "mfbench.analyze", "mfbench.cli",
                      "mfbench.analysis.__main__", "mfbench.data.__main__", "mfbench.data.cli", "mfbench.check",
                      "hydra_plugins.mfbench_sweeps")),
    ("sweeps", ("mfbench.sweeps",)),
    ("backend, schedulers, benchmarks, analysis", ("mfbench.backend", "mfbench.schedulers", "mfbench.benchmarks",
                                                   "mfbench.analysis", "mfbench.examples")),
    ("searchers, blackbox, results, data", ("mfbench.searchers", "mfbench.blackbox", "mfbench.results",
                                            "mfbench.data")),
    ("problem, space, errors, config", ("mfbench.problem", "mfbench.space", "mfbench.errors", "mfbench.config",
                                        "mfbench")),
)


def _layer(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py and CONTRIBUTING.md")


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("mfbench", "hydra_plugins/mfbench_sweeps"):
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """``(imported module, line)`` of every mfbench import in the file, also inside functions."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.append((name, node.lineno))
    ours = ("mfbench", "hydra_plugins.mfbench_sweeps")  # not Hydra's own plugins in that namespace
    return [(name, line) for name, line in found if any(name == p or name.startswith(p + ".") for p in ours)]


MODULES = _modules()


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    here = _layer(module)
    upward = [f"{MODULES[module].relative_to(REPO)}:{line} imports {name} ({LAYERS[_layer(name)][0]})"
              for name, line in _imports(module, MODULES[module]) if _layer(name) < here]
    assert not upward, (f"{module} is in layer '{LAYERS[here][0]}' and may import only from it or below; "
                        + "; ".join(upward))


def _package(module: str) -> str:
    """The unit of the cycle check: ``mfbench.<package>`` (root modules count on their own)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_packages_form_no_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for name, _ in _imports(module, path):
            if _package(name) != _package(module):
                graph[_package(module)].add(_package(name))
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in visiting:
            cycle = visiting[visiting.index(node):] + [node]
            raise AssertionError("import cycle between packages: " + " -> ".join(cycle))
        if node in done:
            return
        visiting.append(node)
        for successor in sorted(graph.get(node, ())):
            visit(successor)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
