"""Errors of the flow package, and the `Problem` a checker reports.

Why one hierarchy: the host catches `FlowsError` at its edges and never needs to
know which module raised. Messages name the file, the path and what was wrong; they
never quote a person's words.

    FlowsError
     ├── FlowSetError        the flow files are invalid (carries every Problem)
     ├── UnknownFlowError    a flow id / version the library does not hold (also a KeyError)
     ├── StateError          stored session state that cannot be read (also a ValueError)
     └── TranscriptError     a golden transcript file that cannot be read
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a flow file, located by file and path, and once the loader
    has read where (flows.positions) by the line it is on, counting from 1."""

    file: str
    path: tuple[str, ...]
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {' -> '.join(self.path)}: {self.message}"
        return f"{self.file}: {self.message}"


class FlowsError(Exception):
    """Base of every error raised by the flows package."""


class FlowSetError(FlowsError):
    """The flow set failed to load; `problems` lists every problem found."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the flow files:\n{lines}")


class UnknownFlowError(FlowsError, KeyError):
    """A flow id or version was asked for that the library does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown flow"


class StateError(FlowsError, ValueError):
    """Stored session state is not valid (corrupt, truncated, or another format)."""


class TranscriptError(FlowsError):
    """A golden transcript file is malformed; the message names the file and case."""
