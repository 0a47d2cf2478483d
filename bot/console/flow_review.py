"""Reviewing a flow draft before it goes live: its changes as lines a person reads, and the
seal that lets only a draft that just passed its check be published.

The diff is a list of lines, each marked as added, removed or unchanged (with both
files' line numbers), grouped in hunks with three lines of context; the page colours
them and also prints a `+` or `−` and says it in words, so colour is never the only
sign. The seal is an HMAC (under the console's derived CSRF key) of the session, the
flow, the version the draft replaces and the draft's own hash: the check hands it to
the page, the publish refuses a draft without the seal of exactly that text, so an
edit made after the check, a draft from another session or one checked against a
version someone has since replaced must be checked again.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from typing import Literal

from bot.web import CsrfKey

__all__ = ["DiffLine", "DraftDiff", "draft_diff", "publish_seal", "seal_matches"]

CONTEXT = 3
"""Unchanged lines shown around each change."""

Kind = Literal["hunk", "same", "add", "remove"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of the diff; `old` and `new` are 1-based line numbers (None where absent)."""

    kind: Kind
    text: str
    old: int | None = None
    new: int | None = None


@dataclass(frozen=True, slots=True)
class DraftDiff:
    lines: tuple[DiffLine, ...]
    added: int
    removed: int


def draft_diff(current: str, draft: str, context: int = CONTEXT) -> DraftDiff:
    """The changes from `current` to `draft`, hunk by hunk (empty when they are equal)."""
    before, after = current.splitlines(), draft.splitlines()
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    lines: list[DiffLine] = []
    added = removed = 0
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        lines.append(
            DiffLine(
                "hunk",
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    lines.append(DiffLine("same", before[i1 + k], i1 + k + 1, j1 + k + 1))
                continue
            for i in range(i1, i2):
                lines.append(DiffLine("remove", before[i], old=i + 1))
            for j in range(j1, j2):
                lines.append(DiffLine("add", after[j], new=j + 1))
            removed += i2 - i1
            added += j2 - j1
    return DraftDiff(tuple(lines), added, removed)


def _binding(session_id: str, flow_id: str, base_version: str, draft: str) -> str:
    digest = hashlib.sha256(draft.encode("utf-8")).hexdigest()
    # Distinct from the CSRF bindings ("s:…", "p:…"): a form token is never a seal.
    return f"publish|{session_id}|{flow_id}|{base_version}|{digest}"


def publish_seal(key: CsrfKey, session_id: str, flow_id: str, base_version: str, draft: str) -> str:
    """The seal a passing check gives `draft`, for this session, flow and current version."""
    return key.token(_binding(session_id, flow_id, base_version, draft))


def seal_matches(
    key: CsrfKey, seal: str, session_id: str, flow_id: str, base_version: str, draft: str
) -> bool:
    """Whether `seal` was given by a passing check of exactly `draft` (constant time)."""
    return key.check(_binding(session_id, flow_id, base_version, draft), seal)
