"""The three outcomes of the crisis check and what one assessment carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How urgently a message needs a person: the pipeline routes on this and nothing else."""

    URGENT = "urgent"
    CHECK = "check"
    NONE = "none"

    @property
    def rank(self) -> int:
        """Orders levels so that the most serious of several matches wins."""
        return _RANK[self]


_RANK = {Level.NONE: 0, Level.CHECK: 1, Level.URGENT: 2}


@dataclass(frozen=True, slots=True)
class Assessment:
    """The verdict on one message: reasons are rule ids, so it is safe to log and store."""

    level: Level
    reasons: tuple[str, ...] = ()


NO_CONCERN = Assessment(Level.NONE, ())
