"""What the analysis noticed about the runs: a list of findings, written out and printed.

Missing seeds, unfinished run directories, NaN metrics, runs of different length and
every other deviation from "all runs complete and comparable" are recorded here, so
nothing is silently dropped or averaged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["info", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing the analysis noticed.

    Args:
        level: ``"warning"`` when the data deviates from a complete, comparable set
            of runs (something is excluded, truncated or carried forward), ``"info"``
            for a description of what was done.
        topic: a short key such as ``"unfinished"``, ``"missing-seeds"``, ``"nan"``.
        message: a sentence saying what happened and, where it applies, what to do.
    """

    level: Level
    topic: str
    message: str


@dataclass
class Report:
    """An ordered list of :class:`Finding`."""

    findings: list[Finding] = field(default_factory=list)

    def info(self, topic: str, message: str) -> None:
        self.findings.append(Finding("info", topic, message))

    def warn(self, topic: str, message: str) -> None:
        self.findings.append(Finding("warning", topic, message))

    def extend(self, other: "Report") -> None:
        self.findings.extend(other.findings)

    def topics(self, level: Level | None = None) -> list[str]:
        """The topics of all findings (of one level if given), in order."""
        return [f.topic for f in self.findings if level is None or f.level == level]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def to_markdown(self) -> str:
        """The findings as a Markdown list, warnings first."""
        if not self.findings:
            return "All runs are complete and comparable; nothing to report.\n"
        lines = []
        for level, title in (("warning", "Warnings"), ("info", "Notes")):
            items = [f for f in self.findings if f.level == level]
            if items:
                lines.append(f"## {title}\n")
                lines.extend(f"- **{f.topic}**: {f.message}" for f in items)
                lines.append("")
        return "\n".join(lines)

    def to_text(self) -> str:
        """One line per finding, for the console."""
        return "\n".join(f"{f.level}: [{f.topic}] {f.message}" for f in self.findings)
