"""What the families' rights read and change: their data, the safety-risk flag, retention, cleanups.

- `subject`: everything held about one contact, decrypted, for "my data" (the answers
  the bot did not understand and kept, scrubbed, included).
- `set_safety_risk`: a counsellor's flag on a case; while any case of the contact
  carries it, their data is never sent to the chat (the phone may be read by the
  person they fear).
- `due_for_erasure`: who the retention rules say must go now, and why.
- quick-exit cleanups: the messages a channel should delete from the chat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.booking.changes import detail_place
from storage.conversation.contacts import address_place
from storage.conversation.inbox import text_place, transport_id_place
from storage.conversation.sessions import state_place
from storage.crypto.vault import Vault
from storage.engine.catalog import table_names
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, marks
from storage.flowhost.missed import words_place
from storage.handoff.rows import CASE_COLUMNS, brief, case_from_row
from storage.privacy import audit, quiet
from storage.privacy.audit import AuditEntry
from storage.records import Case

__all__ = [
    "Cleanup",
    "DueErasure",
    "PrivacyRepo",
    "SubjectBooking",
    "SubjectCase",
    "SubjectConsent",
    "SubjectData",
    "SubjectMessage",
    "SubjectMissed",
    "request_cleanup",
]

RETENTION_REASONS = ("withdrawal", "first_contact", "closed_case")
MAX_CLEANUP_ATTEMPTS = 5
CLEANUP_BACKOFF_SECONDS = 30


@dataclass(frozen=True, slots=True)
class SubjectMessage:
    at: datetime
    kind: str
    text: str  # "" when it was not kept (consent declined)


@dataclass(frozen=True, slots=True)
class SubjectConsent:
    at: datetime
    given: bool
    version: str
    withdrawal: bool


@dataclass(frozen=True, slots=True)
class SubjectCase:
    code: str
    category: str
    urgency: str
    status: str
    opened_at: datetime
    safety_risk: bool


@dataclass(frozen=True, slots=True)
class SubjectBooking:
    """A consultation the person booked: when, how, and what became of it."""

    code: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    status: str  # held, confirmed, cancelled, attended, no_show
    detail: str = field(default="", repr=False)  # the number to call or the address to visit


@dataclass(frozen=True, slots=True)
class SubjectMissed:
    """An answer of theirs the bot did not understand, kept (scrubbed) to improve the flows."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class SubjectData:
    """Everything the service holds about one contact, in plain words, for them alone."""

    contact_id: int
    channel: str
    created_at: datetime
    language: str | None
    messages: tuple[SubjectMessage, ...]
    consents: tuple[SubjectConsent, ...]
    cases: tuple[SubjectCase, ...]
    session_state: str | None
    missed: tuple[SubjectMissed, ...] = ()
    bookings: tuple[SubjectBooking, ...] = ()

    @property
    def withheld(self) -> bool:
        """True when a counsellor flagged a case as a safety risk: nothing goes to the chat."""
        return any(case.safety_risk for case in self.cases)


@dataclass(frozen=True, slots=True)
class DueErasure:
    contact_id: int
    reason: str  # one of RETENTION_REASONS


@dataclass(frozen=True, slots=True)
class Cleanup:
    """A quick exit's request: the messages of a chat for its channel to delete."""

    id: int
    contact_id: int
    channel: str
    address: str
    sent_ids: tuple[str, ...]  # ids the channel's send() returned for our replies
    received_ids: tuple[str, ...]  # the transport ids of the person's own messages
    attempts: int


async def request_cleanup(
    tx: Tx, contact_id: int, inbox_id: int, new_outbox_ids: Sequence[int], now: int
) -> None:
    """A quick exit (inside the turn's transaction): stop replies still waiting, ask for deletion.

    Replies queued earlier and not yet sent are cancelled, so nothing more about
    the conversation reaches the phone; only this turn's neutral reply goes out.
    """
    keep = tuple(new_outbox_ids)
    not_new = f" AND id NOT IN ({marks(keep)})" if keep else ""
    await tx.execute(
        "UPDATE outbox SET status = 'failed', last_error = 'cancelled_quick_exit',"
        " failed_at = ?, next_attempt_at = NULL"
        f" WHERE contact_id = ? AND status = 'pending'{not_new}",
        (now, contact_id, *keep),
    )
    if keep:
        up_to_outbox = min(keep) - 1
    else:
        row = await tx.fetchone(
            "SELECT coalesce(max(id), 0) FROM outbox WHERE contact_id = ?", (contact_id,)
        )
        up_to_outbox = 0 if row is None else int(row[0])
    await tx.execute(
        "INSERT INTO message_cleanups (contact_id, channel, up_to_inbox_id, up_to_outbox_id,"
        " requested_at) SELECT id, channel, ?, ?, ? FROM contacts WHERE id = ?",
        (inbox_id, up_to_outbox, now, contact_id),
    )


class PrivacyRepo:
    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def left_in_a_hurry(self, contact_id: int) -> datetime | None:
        """When the contact left with a quick exit, if they have not written since."""
        return await quiet.left_at_now(self._readers, contact_id)

    async def subject(self, contact_id: int) -> SubjectData | None:
        """Everything held about the contact, decrypted; None if there is no such contact."""
        head = await self._readers.fetchone(
            "SELECT c.channel, c.created_at, c.language, k.master_key_id, k.wrapped"
            " FROM contacts c JOIN contact_keys k ON k.contact_id = c.id WHERE c.id = ?",
            (contact_id,),
            what="privacy.subject",
        )
        if head is None:
            return None
        dek = self._vault.unwrap_dek(contact_id, str(head[3]), as_bytes(head[4]))
        messages = tuple(
            SubjectMessage(
                from_micros(int(row[0])),
                str(row[1]),
                Vault.open_text(dek, text_place(as_bytes(row[2])), as_bytes(row[3])),
            )
            for row in await self._readers.fetchall(
                "SELECT received_at, kind, rid, text_enc FROM inbox WHERE contact_id = ?"
                " ORDER BY id",
                (contact_id,),
                what="privacy.subject",
            )
        )
        consents = tuple(
            SubjectConsent(from_micros(int(row[0])), bool(row[1]), str(row[2]), bool(row[3]))
            for row in await self._readers.fetchall(
                "SELECT at, given, version, withdrawal FROM consents WHERE contact_id = ?"
                " ORDER BY id",
                (contact_id,),
                what="privacy.subject",
            )
        )
        cases = tuple(
            SubjectCase(
                str(row[0]),
                str(row[1]),
                str(row[2]),
                str(row[3]),
                from_micros(int(row[4])),
                bool(row[5]),
            )
            for row in await self._readers.fetchall(
                "SELECT code, category, urgency, status, opened_at, safety_risk FROM cases"
                " WHERE contact_id = ? ORDER BY id",
                (contact_id,),
                what="privacy.subject",
            )
        )
        missed = tuple(
            SubjectMissed(
                from_micros(int(row[0])),
                Vault.open_text(dek, words_place(as_bytes(row[1])), as_bytes(row[2])),
            )
            for row in await self._readers.fetchall(
                "SELECT at, rid, text_enc FROM missed_words WHERE contact_id = ? ORDER BY id",
                (contact_id,),
                what="privacy.subject",
            )
        )
        bookings = tuple(
            SubjectBooking(
                str(row[0]),
                str(row[1]),
                from_micros(int(row[2])),
                from_micros(int(row[3])),
                str(row[4]),
                ""
                if row[6] is None
                else Vault.open_text(dek, detail_place(as_bytes(row[5])), as_bytes(row[6])),
            )
            for row in await self._readers.fetchall(
                "SELECT code, mode, starts_at, ends_at, status, rid, detail_enc FROM bookings"
                " WHERE contact_id = ? ORDER BY starts_at, id",
                (contact_id,),
                what="privacy.subject",
            )
        )
        state = await self._readers.fetchone(
            "SELECT state_enc FROM sessions WHERE contact_id = ?",
            (contact_id,),
            what="privacy.subject",
        )
        return SubjectData(
            contact_id=contact_id,
            channel=str(head[0]),
            created_at=from_micros(int(head[1])),
            language=None if head[2] is None else str(head[2]),
            messages=messages,
            consents=consents,
            cases=cases,
            session_state=None
            if state is None
            else Vault.open_text(dek, state_place(contact_id), as_bytes(state[0])),
            missed=missed,
            bookings=bookings,
        )

    async def withheld(self, contact_id: int) -> bool:
        """True when any of the contact's cases is flagged as a safety risk."""
        row = await self._readers.fetchone(
            "SELECT 1 FROM cases WHERE contact_id = ? AND safety_risk = 1 LIMIT 1",
            (contact_id,),
            what="privacy.withheld",
        )
        return row is not None

    async def set_safety_risk(self, code: str, flag: bool, actor: str, reason: str) -> Case | None:
        """Flags (or clears) a case as a safety risk, with an audit row; None if no such case."""
        wanted = code.strip().upper()
        entry = AuditEntry(
            actor,
            "flag_safety_risk" if flag else "clear_safety_risk",
            f"case:{wanted}",
            reason,
        )
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> Case | None:
            row = await tx.fetchone(
                f"UPDATE cases SET safety_risk = ? WHERE code = ? RETURNING {CASE_COLUMNS}",
                (int(flag), wanted),
            )
            if row is None:
                return None
            await audit.append(tx, entry, now)
            return brief(case_from_row(row))

        return await self._writer.run("privacy.set_safety_risk", job)

    async def due_for_erasure(
        self, now: datetime, closed_case_days: int, first_contact_days: int
    ) -> list[DueErasure]:
        """Contacts the retention rules erase now, oldest id first.

        Never a contact with a case that is not closed (a counsellor may need it),
        nor one with a booking still to come, nor one linked to a staff account, nor
        one whose erasure is under way, nor one with a message still to process.
        - withdrawal: their latest consent record is a withdrawal (`berhenti`);
        - first_contact: no case ever, and silent for `first_contact_days`;
        - closed_case: every case closed at least `closed_case_days` ago, and
          silent for `first_contact_days`.
        """
        quiet = to_micros(now - timedelta(days=first_contact_days), "retention cutoff")
        closed = to_micros(now - timedelta(days=closed_case_days), "retention cutoff")
        # Tables of other features, consulted when the schema has them.
        tables = set(await table_names(self._readers)) & {"staff", "bookings"}
        params: tuple[object, ...] = ()
        kept_for_others = (
            " AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.contact_id = c.id)"
            if "staff" in tables
            else ""
        )
        if "bookings" in tables:
            kept_for_others += (
                " AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id"
                " AND b.status IN ('held', 'confirmed') AND b.ends_at >= ?)"
            )
            params += (to_micros(now, "retention now"),)
        rows = await self._readers.fetchall(
            "SELECT c.id, c.last_seen_at,"
            " (SELECT withdrawal FROM consents WHERE contact_id = c.id ORDER BY id DESC LIMIT 1),"
            " (SELECT count(*) FROM cases WHERE contact_id = c.id),"
            " (SELECT max(updated_at) FROM cases WHERE contact_id = c.id)"
            " FROM contacts c"
            " WHERE NOT EXISTS (SELECT 1 FROM erasures e WHERE e.contact_id = c.id)"
            " AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.contact_id = c.id"
            " AND i.processed_at IS NULL)"
            " AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.contact_id = c.id"
            f" AND k.status != 'closed'){kept_for_others} ORDER BY c.id",
            params,
            what="privacy.due_for_erasure",
        )
        due: list[DueErasure] = []
        for contact_id, last_seen, withdrawn, case_count, last_case in rows:
            if withdrawn == 1:
                due.append(DueErasure(int(contact_id), "withdrawal"))
            elif int(last_seen) > quiet:
                continue
            elif int(case_count) == 0:
                due.append(DueErasure(int(contact_id), "first_contact"))
            elif last_case is not None and int(last_case) <= closed:
                due.append(DueErasure(int(contact_id), "closed_case"))
        return due

    async def pending_cleanups(
        self, now: datetime, since: datetime, limit: int = 50
    ) -> list[Cleanup]:
        """Cleanups due at `now`, with the ids of messages sent or received since `since`."""
        at = to_micros(now, "privacy.pending_cleanups now")
        after = to_micros(since, "privacy.pending_cleanups since")
        heads = await self._readers.fetchall(
            "SELECT m.id, m.contact_id, m.channel, m.up_to_inbox_id, m.up_to_outbox_id,"
            " m.attempts, c.rid, c.address_enc, k.master_key_id, k.wrapped"
            " FROM message_cleanups m JOIN contacts c ON c.id = m.contact_id"
            " JOIN contact_keys k ON k.contact_id = m.contact_id"
            " WHERE m.done_at IS NULL AND coalesce(m.next_attempt_at, 0) <= ?"
            " ORDER BY m.id LIMIT ?",
            (at, limit),
            what="privacy.pending_cleanups",
        )
        found: list[Cleanup] = []
        for head in heads:
            contact_id = int(head[1])
            dek = self._vault.unwrap_dek(contact_id, str(head[8]), as_bytes(head[9]))
            sent = await self._readers.fetchall(
                "SELECT provider_id FROM outbox WHERE contact_id = ? AND id <= ?"
                " AND provider_id IS NOT NULL AND sent_at >= ? ORDER BY id",
                (contact_id, int(head[4]), after),
                what="privacy.pending_cleanups",
            )
            received = await self._readers.fetchall(
                "SELECT rid, transport_id_enc FROM inbox WHERE contact_id = ? AND id <= ?"
                " AND received_at >= ? ORDER BY id",
                (contact_id, int(head[3]), after),
                what="privacy.pending_cleanups",
            )
            found.append(
                Cleanup(
                    id=int(head[0]),
                    contact_id=contact_id,
                    channel=str(head[2]),
                    address=Vault.open_text(
                        dek, address_place(as_bytes(head[6])), as_bytes(head[7])
                    ),
                    sent_ids=tuple(str(row[0]) for row in sent),
                    received_ids=tuple(
                        Vault.open_text(dek, transport_id_place(as_bytes(r[0])), as_bytes(r[1]))
                        for r in received
                    ),
                    attempts=int(head[5]),
                )
            )
        return found

    async def finish_cleanup(self, cleanup_id: int, deleted: int | None) -> None:
        """Records a cleanup as done (`deleted` None: the channel cannot delete messages)."""
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE message_cleanups SET done_at = ?, deleted = ?, attempts = attempts + 1"
                " WHERE id = ? AND done_at IS NULL",
                (now, deleted, cleanup_id),
            )

        await self._writer.run("privacy.finish_cleanup", job)

    async def retry_cleanup(self, cleanup_id: int) -> bool:
        """Counts a failed attempt and waits longer each time; after a few, gives up (done,
        nothing deleted) and returns True."""
        now = to_micros(self._clock(), "clock")
        step = CLEANUP_BACKOFF_SECONDS * 1_000_000

        async def job(tx: Tx) -> bool:
            row = await tx.fetchone(
                "UPDATE message_cleanups SET attempts = attempts + 1,"
                # PostgreSQL shifts a BIGINT by an INTEGER only, and types a bare ? in a
                # CASE as text: both spelled out.
                " next_attempt_at = ? + ? * (CAST(1 AS BIGINT) << CAST(attempts AS INTEGER)),"
                " done_at = CASE WHEN attempts + 1 >= ? THEN CAST(? AS BIGINT) END"
                " WHERE id = ? AND done_at IS NULL RETURNING done_at",
                (now, step, MAX_CLEANUP_ATTEMPTS, now, cleanup_id),
            )
            return row is not None and row[0] is not None

        return await self._writer.run("privacy.retry_cleanup", job)

    async def count_cleanups(self, *, done: bool) -> int:
        row = await self._readers.fetchone(
            "SELECT count(*) FROM message_cleanups WHERE done_at IS "
            + ("NOT NULL" if done else "NULL"),
            what="privacy.count_cleanups",
        )
        return 0 if row is None else int(row[0])
