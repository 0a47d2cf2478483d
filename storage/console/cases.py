"""What the console's case pages read that the hand-off repository does not: the transcript
and the cases being handled.

The transcript is one family's messages in and out, decrypted under their data
key, in the order they happened. Outbound rows say where they came from (`ref`):
a counsellor's relayed words (`case:<id>:relay`), a notice of the hand-off
(`case:<id>:notice`), or the bot's own flows. Reading a transcript is a
disclosure: the caller (the console) writes the audit row; nothing here logs.

    StorageError (storage.errors)
     └── DecryptError   a row that does not open under its contact's key
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from storage.conversation.inbox import text_place
from storage.conversation.outbox import body_place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers
from storage.engine.rows import as_bytes
from storage.errors import DecryptError
from storage.handoff.records import CASE_REF, LiveCase
from storage.handoff.rows import CASE_COLUMNS, RISK_SQL, case_from_row
from storage.records import OutboxRef

__all__ = ["ConsoleCaseRepo", "TranscriptLine"]

MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One message of a conversation. `direction` is `in` (the family) or `out`.

    `source` for `out`: `counsellor`, `notice` or `bot`; `status` is the outbox
    status (`pending`, `sent`, `failed`), empty for `in`. `message_id` is the
    inbox id of an `in` line (what a counsellor's label points at), 0 for `out`.
    """

    at: datetime
    direction: str
    kind: str
    text: str = field(repr=False)
    options: tuple[str, ...] = field(repr=False, default=())
    source: str = ""
    status: str = ""
    message_id: int = 0


def _source(stored: object) -> str:
    ref = OutboxRef.parse(None if stored is None else str(stored))
    if ref is not None and ref.kind == CASE_REF and ref.action:
        return "counsellor" if ref.action == "relay" else "notice"
    return "bot"


def _body(raw: str) -> tuple[str, tuple[str, ...]]:
    try:
        data = json.loads(raw)
        return str(data["text"]), tuple(str(pair[1]) for pair in data["options"])
    except (KeyError, TypeError, ValueError, IndexError):
        raise DecryptError("an outbox body decrypted to an unknown shape") from None


class ConsoleCaseRepo:
    """Reads for the console's queue and case pages."""

    def __init__(self, readers: Readers, vault: Vault) -> None:
        self._readers = readers
        self._vault = vault

    async def taken(self, limit: int = 200, *, office_id: int | None = None) -> list[LiveCase]:
        """Cases a counsellor holds now: most urgent first, then the longest held; one
        office's with `office_id` (None: every office's)."""
        rows = await self._readers.fetchall(
            f"SELECT {CASE_COLUMNS} FROM cases WHERE status = 'taken' AND (office_id = ? OR ?)"
            f" ORDER BY {RISK_SQL}, taken_at, id LIMIT ?",
            (office_id or 0, office_id is None, limit),
            what="console_cases.taken",
        )
        return [case_from_row(r) for r in rows]

    async def transcript_mark(self, contact_id: int) -> tuple[int, int, int, int, int]:
        """What changes when the transcript does (a message in or out, a reply sent or
        failed, a photo or voice note kept or given up on after its message came), read
        without decrypting anything: the live case page polls it."""
        row = await self._readers.fetchone(
            "SELECT (SELECT coalesce(max(id), 0) FROM inbox WHERE contact_id = ?),"
            " coalesce(max(id), 0), coalesce(sum(status = 'pending'), 0),"
            " coalesce(sum(status = 'failed'), 0),"
            " (SELECT count(*) FROM media WHERE contact_id = ? AND status != 'waiting')"
            " FROM outbox WHERE contact_id = ?",
            (contact_id, contact_id, contact_id),
            what="console_cases.transcript_mark",
        )
        if row is None:
            return (0, 0, 0, 0, 0)
        return (int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))

    async def transcript(
        self, contact_id: int, *, until: datetime | None = None, limit: int = MAX_LINES
    ) -> list[TranscriptLine]:
        """The contact's last `limit` messages in and out up to `until`, oldest first.

        Empty when the contact's key is gone (their data was erased).
        """
        key = await self._readers.fetchone(
            "SELECT master_key_id, wrapped FROM contact_keys WHERE contact_id = ?",
            (contact_id,),
            what="console_cases.transcript",
        )
        if key is None:
            return []
        dek = self._vault.unwrap_dek(contact_id, str(key[0]), as_bytes(key[1]))
        end = 2**62 if until is None else to_micros(until, "transcript until")
        inbound = await self._readers.fetchall(
            "SELECT id, received_at, kind, rid, text_enc FROM inbox"
            " WHERE contact_id = ? AND received_at <= ? ORDER BY id DESC LIMIT ?",
            (contact_id, end, limit),
            what="console_cases.transcript",
        )
        outbound = await self._readers.fetchall(
            "SELECT id, created_at, rid, body_enc, ref, status FROM outbox"
            " WHERE contact_id = ? AND created_at <= ? ORDER BY id DESC LIMIT ?",
            (contact_id, end, limit),
            what="console_cases.transcript",
        )
        # (time, in before out, id): a reply is queued after the message it answers.
        keyed: list[tuple[tuple[int, int, int], TranscriptLine]] = []
        for r in inbound:
            text = Vault.open_text(dek, text_place(as_bytes(r[3])), as_bytes(r[4]))
            line = TranscriptLine(
                from_micros(int(r[1])), "in", str(r[2]), text, message_id=int(r[0])
            )
            keyed.append(((int(r[1]), 0, int(r[0])), line))
        for r in outbound:
            text, options = _body(Vault.open_text(dek, body_place(as_bytes(r[2])), as_bytes(r[3])))
            line = TranscriptLine(
                from_micros(int(r[1])), "out", "text", text, options, _source(r[4]), str(r[5])
            )
            keyed.append(((int(r[1]), 1, int(r[0])), line))
        keyed.sort(key=lambda pair: pair[0])
        return [line for _, line in keyed[-limit:]]
