"""Typed answers the flows did not understand: counts per question and day, and some words.

For the console's flow page, so that an admin can add synonyms and examples. Two
tables (migration 0013):

- `missed_counts`: "one more miss at `welcome.main_menu` on 2026-03-02", or a
  close call ("Did you mean A or B?") apart. No contact, no time finer than the
  office's day, no words: nothing in it can be joined back to a family, so an
  erasure leaves it alone, as it leaves the rating counts.
- `missed_words`: what a family who consented typed, already scrubbed by the host
  (names, numbers, codes masked), sealed under the family's data key and bound to
  its row. It points at the contact, so an erasure deletes it (and destroying the
  key makes every copy unreadable, old backups included); a declined or withdrawn
  consent deletes it in that turn (`forget`); and `prune` drops what is older than
  the retention period, daily.

Both are written by `record` inside the turn's transaction (`storage.conversation.turns`),
so a message counts once, with its turn, or not at all: a retried message whose
turn already committed changes nothing.

    (errors: storage.errors.InvalidRecordError for a malformed day, id or words)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, new_rid
from storage.errors import DecryptError, InvalidRecordError

__all__ = [
    "MAX_WORDS_CHARS",
    "MissedCount",
    "MissedRepo",
    "MissedWords",
    "NewMiss",
    "forget",
    "record",
    "words_place",
]

MAX_WORDS_CHARS = 200
_DAY = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def words_place(rid: bytes) -> Place:
    return Place("missed_words", "text", rid.hex())


@dataclass(frozen=True, slots=True)
class NewMiss:
    """One typed answer a question did not take, as the turn writes it."""

    day: str  # "YYYY-MM-DD" in the office's time zone
    flow_id: str
    node_id: str
    close: bool = False  # a close call ("Did you mean A or B?"), not a plain miss
    # The scrubbed words, only for a family who consented; None: count only.
    words: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _DAY.fullmatch(self.day):
            raise InvalidRecordError(f"missed answer day {self.day!r} is not YYYY-MM-DD")
        for what, value in (("flow", self.flow_id), ("node", self.node_id)):
            if not _ID.fullmatch(value):
                raise InvalidRecordError(f"missed answer {what} id is not an id")
        if self.words is not None and not 0 < len(self.words) <= MAX_WORDS_CHARS:
            raise InvalidRecordError(f"missed answer words must be 1-{MAX_WORDS_CHARS} characters")

    @property
    def kind(self) -> str:
        return "close" if self.close else "miss"


@dataclass(frozen=True, slots=True)
class MissedCount:
    """How many typed answers one question did not take in a period."""

    misses: int = 0
    close: int = 0

    @property
    def total(self) -> int:
        return self.misses + self.close


@dataclass(frozen=True, slots=True)
class MissedWords:
    """One kept answer, as the console shows it: the words and when, never who."""

    at: datetime
    close: bool
    text: str = field(repr=False)


async def record(tx: Tx, contact_id: int, misses: Sequence[NewMiss], now: int) -> None:
    """Counts each miss and keeps the words given (inside the turn's transaction)."""
    for miss in misses:
        await tx.execute(
            "INSERT INTO missed_counts (office_id, day, flow_id, node_id, kind, count)"
            " VALUES ((SELECT office_id FROM contacts WHERE id = ?), ?, ?, ?, ?, 1)"
            " ON CONFLICT (office_id, flow_id, node_id, day, kind) DO UPDATE SET count = count + 1",
            (contact_id, miss.day, miss.flow_id, miss.node_id, miss.kind),
        )
        if miss.words is None:
            continue
        rid = new_rid()
        dek = await tx.dek(contact_id)
        await tx.execute(
            "INSERT INTO missed_words (rid, contact_id, flow_id, node_id, kind, text_enc, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                contact_id,
                miss.flow_id,
                miss.node_id,
                miss.kind,
                Vault.seal_text(dek, words_place(rid), miss.words),
                now,
            ),
        )


async def forget(tx: Tx, contact_id: int) -> int:
    """Deletes every kept answer of the contact (consent declined or withdrawn)."""
    return await tx.execute("DELETE FROM missed_words WHERE contact_id = ?", (contact_id,))


class MissedRepo:
    """Reads the counts and words for the console; prunes old words. Writes come with turns."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def counts(
        self, flow_id: str, since_day: str, *, office_id: int = 1
    ) -> dict[str, MissedCount]:
        """Per question (node id) of the flow, its misses and close calls from `since_day` on,
        in one office."""
        if not _DAY.fullmatch(since_day):
            raise InvalidRecordError(f"missed answers since {since_day!r} is not YYYY-MM-DD")
        rows = await self._readers.fetchall(
            "SELECT node_id, kind, sum(count) FROM missed_counts"
            " WHERE office_id = ? AND flow_id = ? AND day >= ? GROUP BY node_id, kind",
            (office_id, flow_id, since_day),
            what="missed.counts",
        )
        found: dict[str, dict[str, int]] = {}
        for node_id, kind, count in rows:
            found.setdefault(str(node_id), {})[str(kind)] = int(count)
        return {
            node: MissedCount(kinds.get("miss", 0), kinds.get("close", 0))
            for node, kinds in found.items()
        }

    async def words(
        self, flow_id: str, since: datetime, per_question: int, *, office_id: int = 1
    ) -> dict[str, tuple[MissedWords, ...]]:
        """Per question of the flow, the latest kept answers since `since` of one office's
        families, newest first, at most `per_question` each. A row whose family was erased
        meanwhile is left out."""
        rows = await self._readers.fetchall(
            "SELECT node_id, kind, at, rid, text_enc, contact_id, master_key_id, wrapped FROM ("
            " SELECT w.node_id, w.kind, w.at, w.rid, w.text_enc, w.contact_id,"
            " k.master_key_id, k.wrapped, row_number() OVER"
            " (PARTITION BY w.node_id ORDER BY w.at DESC, w.id DESC) AS n"
            " FROM missed_words w JOIN contact_keys k ON k.contact_id = w.contact_id"
            " JOIN contacts c ON c.id = w.contact_id"
            " WHERE c.office_id = ? AND w.flow_id = ? AND w.at >= ?)"
            " WHERE n <= ? ORDER BY node_id, at DESC, n",
            (office_id, flow_id, to_micros(since, "missed words since"), max(0, per_question)),
            what="missed.words",
        )
        out: dict[str, list[MissedWords]] = {}
        for node_id, kind, at, rid, blob, contact_id, key_id, wrapped in rows:
            try:
                dek = self._vault.unwrap_dek(int(contact_id), str(key_id), as_bytes(wrapped))
                text = Vault.open_text(dek, words_place(as_bytes(rid)), as_bytes(blob))
            except DecryptError:  # ErasedError included
                continue
            out.setdefault(str(node_id), []).append(
                MissedWords(from_micros(int(at)), str(kind) == "close", text)
            )
        return {node: tuple(found) for node, found in out.items()}

    async def prune(self, before: datetime) -> int:
        """Deletes the kept words older than `before` (the retention period); the counts stay."""
        end = to_micros(before, "missed words before")

        async def job(tx: Tx) -> int:
            return await tx.execute("DELETE FROM missed_words WHERE at < ?", (end,))

        return await self._writer.run("missed.prune", job)
