"""The repository stands alone: nothing points outside it, and every docs page it cites exists.

A user's clone has no ``../shared`` folder beside it, so code, configs, docs and tests may not
name one; and a ``docs/...md`` path cited in a docstring or comment must be a page that exists.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".txt", ".cfg", ".ini", ""}
#: benchmark reports quote command lines and logs of earlier sessions verbatim
EXEMPT = ("benchmarks/results/",)
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(data|docs|tools)\b|reference-(methods|data)\.md")
CITED_PAGE = re.compile(r"(?<![\w/.])((?:docs|benchmarks/results)/[\w./-]+\.md)")


def _tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (an installed copy): nothing to scan")
    files = []
    for name in names.splitlines():
        path = REPO / name
        if name.startswith(EXEMPT) or path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        if name.startswith("tests/data/") and path.suffix not in (".py", ".md"):
            continue  # vendored third-party fixtures
        files.append(path)
    return files


def test_nothing_points_outside_the_repository():
    this = Path(__file__).resolve()
    hits = [f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}"
            for path in _tracked_text_files() if path != this
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert not hits, "these lines point outside the repository (a clone has no ../shared):\n" + "\n".join(hits)


def test_every_cited_docs_page_exists():
    this = Path(__file__).resolve()
    missing = [f"{path.relative_to(REPO)}:{number}: {page}"
               for path in _tracked_text_files() if path != this
               for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
               for page in CITED_PAGE.findall(line) if not (REPO / page).is_file()]
    assert not missing, "these lines cite a docs page that does not exist:\n" + "\n".join(missing)
