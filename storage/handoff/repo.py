"""Hand-off: the queue, take/release/close, relays, notes, referrals, alerts, figures.

Every state change is one transaction that also records a `case_events` row and
writes the outbox rows the caller built for it (an edited alert, a word to the
family), so a crash never leaves a change half told. Take is a conditional
update (`WHERE status = 'open'`): of two counsellors pressing at once exactly one
becomes the owner, the other learns who did. The queue is ordered by urgency,
then by how long the case has waited, never by last activity. Alerts go into
one unsent message per counsellor at a time (storage.handoff.digests).

    StorageError (storage.errors)
     └── InvalidRecordError   an unknown referral, outcome or event code
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from storage.conversation import outbox, sessions
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, new_rid
from storage.errors import InvalidRecordError
from storage.handoff import digests
from storage.handoff.digests import Options, Render
from storage.handoff.figures import figures_of
from storage.handoff.records import (
    CASE_REF,
    DIGEST_REF,
    AlertRef,
    CaseEvent,
    CaseNote,
    CaseReferral,
    Digest,
    DueAlert,
    HandoffFigures,
    LiveCase,
    Transition,
)
from storage.handoff.referrals import is_offered
from storage.handoff.rows import (
    ALERTS_SQL,
    CASE_COLUMNS,
    CASE_SELECT,
    RISK_SQL,
    alert_from_row,
    case_from_row,
)
from storage.handoff.schema import OUTCOMES
from storage.handoff.steps import (
    alerts_of,
    as_changed,
    get_case,
    record_event,
    relay_in,
    relay_message,
)
from storage.privacy import quiet
from storage.records import NewOutbound, OutboxRef

__all__ = ["HandoffRepo", "note_place", "relay_in"]

Build = Callable[[LiveCase, Sequence[AlertRef]], Sequence[NewOutbound]]
"""Builds the outbox rows of a change from the case as changed and its alerts."""


def note_place(rid: bytes) -> Place:
    return Place("case_notes", "note", rid.hex())


class HandoffRepo:
    """Reads and changes cases for the hand-off; see the module docstring."""

    def __init__(self, readers: Readers, writer: Writer, vault: Vault) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault

    # --- reading -----------------------------------------------------------

    async def get(self, case_id: int) -> LiveCase | None:
        row = await self._readers.fetchone(
            f"{CASE_SELECT} WHERE id = ?", (case_id,), what="handoff.get"
        )
        return None if row is None else case_from_row(row)

    async def by_code(self, code: str) -> LiveCase | None:
        row = await self._readers.fetchone(
            f"{CASE_SELECT} WHERE code = ?", (code.strip().upper(),), what="handoff.by_code"
        )
        return None if row is None else case_from_row(row)

    async def live_for(self, contact_id: int) -> LiveCase | None:
        """The contact's case waiting in the queue or held by a counsellor, if any."""
        row = await self._readers.fetchone(
            f"{CASE_SELECT} WHERE contact_id = ? AND status IN ('open', 'taken')",
            (contact_id,),
            what="handoff.live_for",
        )
        return None if row is None else case_from_row(row)

    async def queue(self, limit: int = 100, *, office_id: int | None = None) -> list[LiveCase]:
        """Cases waiting for a counsellor: most urgent first, then longest waiting; one
        office's with `office_id` (None: every office's)."""
        rows = await self._readers.fetchall(
            f"{CASE_SELECT} WHERE status = 'open' AND (office_id = ? OR ?)"
            f" ORDER BY {RISK_SQL}, waiting_since, id LIMIT ?",
            (office_id or 0, office_id is None, limit),
            what="handoff.queue",
        )
        return [case_from_row(r) for r in rows]

    async def held_by(self, staff_id: int) -> list[LiveCase]:
        """The cases this counsellor holds, most urgent first, then oldest taken."""
        rows = await self._readers.fetchall(
            f"{CASE_SELECT} WHERE status = 'taken' AND owner_staff_id = ?"
            f" ORDER BY {RISK_SQL}, taken_at, id",
            (staff_id,),
            what="handoff.held_by",
        )
        return [case_from_row(r) for r in rows]

    async def needing_escalation(self) -> list[LiveCase]:
        """Waiting urgent or soon cases, and held cases with an unanswered urgent message."""
        rows = await self._readers.fetchall(
            f"{CASE_SELECT} WHERE (status = 'open' AND urgency IN ('darurat', 'segera'))"
            " OR (status = 'taken' AND urgent_unanswered_at IS NOT NULL)"
            f" ORDER BY {RISK_SQL}, waiting_since, id",
            what="handoff.needing_escalation",
        )
        return [case_from_row(r) for r in rows]

    async def alerts(self, case_id: int) -> list[AlertRef]:
        """The alerts sent about a case, with the provider ids of those delivered."""
        rows = await self._readers.fetchall(ALERTS_SQL, (case_id,), what="handoff.alerts")
        return [alert_from_row(r) for r in rows]

    async def events(self, case_id: int) -> list[CaseEvent]:
        rows = await self._readers.fetchall(
            "SELECT case_id, at, event, actor FROM case_events WHERE case_id = ? ORDER BY id",
            (case_id,),
            what="handoff.events",
        )
        return [CaseEvent(int(r[0]), from_micros(int(r[1])), str(r[2]), str(r[3])) for r in rows]

    async def cases_of_message(self, contact_id: int, message_id: str) -> list[int]:
        """The cases a bot message to this (staff) chat was about, by its provider id: the
        case of a case's own message, or every case an alert digest listed."""
        rows = await self._readers.fetchall(
            "SELECT id, ref, provider_id FROM outbox WHERE contact_id = ?"
            " AND (ref LIKE ? OR ref LIKE ?)"
            " AND (provider_id = ? OR provider_id LIKE ? OR provider_id LIKE ?"
            " OR provider_id LIKE ?) ORDER BY id DESC LIMIT 50",
            (
                contact_id,
                OutboxRef.like(CASE_REF),
                OutboxRef.like(DIGEST_REF),
                message_id,
                f"{message_id},%",
                f"%,{message_id}",
                f"%,{message_id},%",
            ),
            what="handoff.cases_of_message",
        )
        # Every row delivered as this message counts (a digest and the edits that
        # re-rendered it share its id): the message was about all their cases.
        found: set[int] = set()
        for outbox_id, ref, provider in rows:
            if message_id not in str(provider).split(","):
                continue
            parsed = OutboxRef.parse(str(ref))
            if parsed is not None and parsed.kind == DIGEST_REF:
                listed = await self._readers.fetchall(
                    "SELECT DISTINCT case_id FROM case_alerts WHERE outbox_id = ?",
                    (int(outbox_id),),
                    what="handoff.cases_of_message",
                )
                found.update(int(r[0]) for r in listed)
                continue
            if parsed is not None:
                found.add(parsed.id)
        return sorted(found)

    async def focused(self, staff_id: int) -> int | None:
        row = await self._readers.fetchone(
            "SELECT case_id FROM staff_focus WHERE staff_id = ?", (staff_id,), what="handoff.focus"
        )
        return None if row is None else int(row[0])

    async def notes(self, case_id: int) -> list[CaseNote]:
        rows = await self._readers.fetchall(
            "SELECT n.id, n.case_id, n.staff_id, n.rid, n.note_enc, n.at, c.contact_id,"
            " k.master_key_id, k.wrapped FROM case_notes n JOIN cases c ON c.id = n.case_id"
            " JOIN contact_keys k ON k.contact_id = c.contact_id WHERE n.case_id = ? ORDER BY n.id",
            (case_id,),
            what="handoff.notes",
        )
        found = []
        for r in rows:
            dek = self._vault.unwrap_dek(int(r[6]), str(r[7]), as_bytes(r[8]))
            text = Vault.open_text(dek, note_place(as_bytes(r[3])), as_bytes(r[4]))
            staff = None if r[2] is None else int(r[2])
            found.append(CaseNote(int(r[0]), int(r[1]), staff, text, from_micros(int(r[5]))))
        return found

    async def referrals(self, case_id: int) -> list[CaseReferral]:
        rows = await self._readers.fetchall(
            "SELECT case_id, service, staff_id, at FROM case_referrals WHERE case_id = ?"
            " ORDER BY id",
            (case_id,),
            what="handoff.referrals",
        )
        return [
            CaseReferral(
                int(r[0]), str(r[1]), None if r[2] is None else int(r[2]), from_micros(int(r[3]))
            )
            for r in rows
        ]

    async def figures(
        self,
        since: datetime,
        until: datetime,
        *,
        target_seconds: int,
        office_id: int | None = None,
    ) -> HandoffFigures:
        """Time to first human reply by urgency, and cases that waited past the target.

        Counts cases opened in [since, until). A case without a reply yet counts as
        past the target once `until` is that far after its opening.
        """
        start, end = to_micros(since, "since"), to_micros(until, "until")
        rows = await self._readers.fetchall(
            "SELECT urgency, opened_at, first_reply_at FROM cases"
            " WHERE opened_at >= ? AND opened_at < ? AND (office_id = ? OR ?)",
            (start, end, office_id or 0, office_id is None),
            what="handoff.figures",
        )
        timings = [(str(r[0]), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]
        return figures_of(timings, since, until, target_seconds)

    # --- changes -----------------------------------------------------------

    async def take(self, case_id: int, staff_id: int, at: datetime, build: Build) -> Transition:
        """Makes `staff_id` the owner if the case is still waiting; exactly one press wins."""
        now = to_micros(at, "HandoffRepo.take at")

        async def job(tx: Tx) -> Transition:
            row = await tx.fetchone(
                "UPDATE cases SET status = 'taken', owner_staff_id = ?, taken_at = ?,"
                f" updated_at = ? WHERE id = ? AND status = 'open' RETURNING {CASE_COLUMNS}",
                (staff_id, now, now, case_id),
            )
            if row is None:
                return await _refused(tx, case_id, staff_id)
            case = await as_changed(tx, row)
            await record_event(tx, case_id, "taken", staff_id, now)
            await _focus(tx, staff_id, case_id, now)
            await outbox.insert_many(tx, build(case, await alerts_of(tx, case_id)), None, now)
            return Transition("done", case)

        return await self._writer.run("handoff.take", job)

    async def release(self, case_id: int, staff_id: int, at: datetime, build: Build) -> Transition:
        """Puts a held case back in the queue at its first place; its alerts start again if it
        is urgent."""
        now = to_micros(at, "HandoffRepo.release at")

        async def job(tx: Tx) -> Transition:
            row = await tx.fetchone(
                # `waiting_since` stays: the case goes back to its place in the queue, with
                # the family's whole wait shown, never behind cases that came after it.
                "UPDATE cases SET status = 'open', owner_staff_id = NULL,"
                " alerted_at = NULL, alerts = 0, widened_at = NULL, urgent_unanswered_at = NULL,"
                " updated_at = ? WHERE id = ? AND status = 'taken' AND owner_staff_id = ?"
                f" RETURNING {CASE_COLUMNS}",
                (now, case_id, staff_id),
            )
            if row is None:
                return await _refused(tx, case_id, staff_id)
            case = await as_changed(tx, row)
            await record_event(tx, case_id, "released", staff_id, now)
            await tx.execute("DELETE FROM staff_focus WHERE case_id = ?", (case_id,))
            await outbox.insert_many(tx, build(case, await alerts_of(tx, case_id)), None, now)
            return Transition("done", case)

        return await self._writer.run("handoff.release", job)

    async def close(
        self,
        case_id: int,
        staff_id: int,
        outcome_code: str,
        at: datetime,
        build: Build,
        *,
        session_state: Callable[[LiveCase], str | None] = lambda case: None,
        any_owner: bool = False,
    ) -> Transition:
        """Closes a live case with an outcome code; only its owner may (or a supervisor).

        `session_state` gives the family's new session (the feedback flow started),
        written in the same transaction as the rows that ask the question.
        """
        if outcome_code not in OUTCOMES:
            raise InvalidRecordError(f"unknown outcome {outcome_code!r}; known: {OUTCOMES}")
        now = to_micros(at, "HandoffRepo.close at")

        async def job(tx: Tx) -> Transition:
            row = await tx.fetchone(
                "UPDATE cases SET status = 'closed', outcome = ?, closed_at = ?, updated_at = ?,"
                " urgent_unanswered_at = NULL WHERE id = ? AND status IN ('open', 'taken')"
                f" AND (owner_staff_id = ? OR ?) RETURNING {CASE_COLUMNS}",
                (outcome_code, now, now, case_id, staff_id, int(any_owner)),
            )
            if row is None:
                return await _refused(tx, case_id, staff_id)
            case = await as_changed(tx, row)
            await record_event(tx, case_id, "closed", staff_id, now, detail=outcome_code)
            await tx.execute("DELETE FROM staff_focus WHERE case_id = ?", (case_id,))
            state = session_state(case)
            if state is not None:
                await sessions.upsert(tx, case.contact_id, state, now)
            await outbox.insert_many(tx, build(case, await alerts_of(tx, case_id)), None, now)
            return Transition("done", case)

        return await self._writer.run("handoff.close", job)

    async def relay(
        self,
        case_id: int,
        staff_id: int | None,
        source: str,
        at: datetime,
        rows: Sequence[NewOutbound],
        *,
        urgent: bool = False,
    ) -> Transition:
        """Records one relayed message (once per `source`) with its outbox rows.

        `staff_id` None: from the family to the owner (`urgent` starts the owner's
        answer clock). Otherwise from the owner to the family: only the owner of a
        held case may, and it is the case's first human reply if none came before.
        """
        now = to_micros(at, "HandoffRepo.relay at")

        async def job(tx: Tx) -> Transition:
            return await relay_message(tx, case_id, staff_id, source, rows, now, urgent=urgent)

        return await self._writer.run("handoff.relay", job)

    async def note(self, case_id: int, staff_id: int, text: str, at: datetime) -> Transition:
        """Keeps a counsellor's private note, sealed under the family's data key."""
        now = to_micros(at, "HandoffRepo.note at")

        async def job(tx: Tx) -> Transition:
            case = await get_case(tx, case_id)
            if case is None:
                return Transition("not_found")
            rid = new_rid()
            dek = await tx.dek(case.contact_id)
            await tx.execute(
                "INSERT INTO case_notes (case_id, rid, staff_id, note_enc, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (case_id, rid, staff_id, Vault.seal_text(dek, note_place(rid), text), now),
            )
            await record_event(tx, case_id, "noted", staff_id, now)
            return Transition("done", case)

        return await self._writer.run("handoff.note", job)

    async def refer(self, case_id: int, staff_id: int, service: str, at: datetime) -> Transition:
        now = to_micros(at, "HandoffRepo.refer at")

        async def job(tx: Tx) -> Transition:
            # The destinations are rows an admin edits (storage.handoff.referrals).
            if not await is_offered(tx, service):
                raise InvalidRecordError(
                    f"unknown referral {service!r}",
                    code="referral_unknown",
                    values={"code": service[:40]},
                )
            case = await get_case(tx, case_id)
            if case is None:
                return Transition("not_found")
            await tx.execute(
                "INSERT INTO case_referrals (case_id, service, staff_id, at) VALUES (?, ?, ?, ?)",
                (case_id, service, staff_id, now),
            )
            await record_event(tx, case_id, "referred", staff_id, now, detail=service)
            return Transition("done", case)

        return await self._writer.run("handoff.refer", job)

    async def focus(self, staff_id: int, case_id: int, at: datetime) -> None:
        now = to_micros(at, "HandoffRepo.focus at")

        async def job(tx: Tx) -> None:
            await _focus(tx, staff_id, case_id, now)

        await self._writer.run("handoff.focus", job)

    async def file_alerts(
        self,
        dues: Sequence[DueAlert],
        at: datetime,
        render: Render,
        *,
        priority: int,
        send_at: datetime | None = None,
    ) -> list[DueAlert]:
        """Records the alerts a pass found due and files their cases into each recipient's
        digest (storage.handoff.digests), in one transaction; returns the alerts filed.
        A new message is due at `send_at` (default: at once); cases filed into one still
        waiting keep its time.

        Each is conditional on the case's last alert time as the pass read it, so a
        pass repeated after a restart never alerts twice for the same moment. An
        alert none of whose recipients still has a chat is left for the next pass.
        """
        now = to_micros(at, "HandoffRepo.file_alerts at")

        async def job(tx: Tx) -> list[DueAlert]:
            filed: list[DueAlert] = []
            by_recipient: dict[tuple[int, int], list[tuple[int, int]]] = {}
            for due in dues:
                reachable = [r for r in due.recipients if await _has_contact(tx, r[1])]
                if not reachable:
                    continue
                seen = due.seen_alerted_at
                row = await tx.fetchone(
                    "UPDATE cases SET alerted_at = ?, alerts = alerts + 1,"
                    " widened_at = CASE WHEN ? THEN ? ELSE widened_at END"
                    " WHERE id = ? AND status = 'open' AND alerted_at IS ? RETURNING alerts",
                    (
                        now,
                        int(due.widen),
                        now,
                        due.case_id,
                        None if seen is None else to_micros(seen, "seen"),
                    ),
                )
                if row is None:
                    continue
                await record_event(tx, due.case_id, due.event, None, now)
                filed.append(due)
                for recipient in reachable:
                    by_recipient.setdefault(recipient, []).append((due.case_id, int(row[0])))
            for (staff_id, contact_id), cases in by_recipient.items():
                await digests.file_alerts(
                    tx, staff_id, contact_id, cases, at, render, priority, send_at
                )
            return filed

        return await self._writer.run("handoff.file_alerts", job)

    async def seal_digest(
        self, outbox_id: int, at: datetime, render: Render
    ) -> tuple[str, Options] | None:
        """What an alert message says as the sender takes it; None when nothing is left to say."""

        async def job(tx: Tx) -> tuple[str, Options] | None:
            return await digests.seal(tx, outbox_id, at, render)

        return await self._writer.run("handoff.seal_digest", job)

    async def digest(self, outbox_id: int) -> Digest | None:
        """An alert message and its cases as they are now (None: the row is not a digest)."""
        return await digests.digest_of(self._readers, outbox_id)

    async def ping_owner(
        self,
        case_id: int,
        seen_unanswered_at: datetime,
        at: datetime,
        rows: Sequence[tuple[int, NewOutbound]],
    ) -> bool:
        """Queues the pings (staff id, row) about an urgent message the owner has not answered.

        Conditional on the time read, so a repeat pass after a restart pings once.
        """
        now = to_micros(at, "HandoffRepo.ping_owner at")
        seen = to_micros(seen_unanswered_at, "seen")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE cases SET urgent_unanswered_at = ? WHERE id = ? AND status = 'taken'"
                " AND urgent_unanswered_at IS ?",
                (now, case_id, seen),
            )
            if changed == 0:
                return False
            await record_event(tx, case_id, "realerted", None, now)
            ids = await outbox.insert_many(tx, [row for _, row in rows], None, now)
            round_ = await tx.fetchone("SELECT alerts FROM cases WHERE id = ?", (case_id,))
            for (staff_id, _), outbox_id in zip(rows, ids, strict=True):
                await tx.execute(
                    "INSERT INTO case_alerts (case_id, staff_id, outbox_id, round, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (case_id, staff_id, outbox_id, 0 if round_ is None else int(round_[0]), now),
                )
            return True

        return await self._writer.run("handoff.ping_owner", job)

    async def remind_family(self, case_id: int, at: datetime, rows: Sequence[NewOutbound]) -> bool:
        """Reminds a still-waiting family of the hotlines, once per case."""
        now = to_micros(at, "HandoffRepo.remind_family at")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE cases SET family_reminded_at = ? WHERE id = ? AND status = 'open'"
                " AND family_reminded_at IS NULL",
                (now, case_id),
            )
            if changed == 0:
                return False
            await record_event(tx, case_id, "family_reminded", None, now)
            case = await get_case(tx, case_id)
            if case is None or await quiet.left_at(tx, case.contact_id) is None:
                await outbox.insert_many(tx, rows, None, now)
            return True

        return await self._writer.run("handoff.remind_family", job)


async def _has_contact(tx: Tx, contact_id: int) -> bool:
    return await tx.fetchone("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)) is not None


async def _focus(tx: Tx, staff_id: int, case_id: int, now: int) -> None:
    await tx.execute(
        "INSERT INTO staff_focus (staff_id, case_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT (staff_id) DO UPDATE SET case_id = excluded.case_id, at = excluded.at",
        (staff_id, case_id, now),
    )


async def _refused(tx: Tx, case_id: int, staff_id: int) -> Transition:
    """Why a change did not apply, from the case as it is now."""
    case = await get_case(tx, case_id)
    if case is None:
        return Transition("not_found")
    if case.status == "closed":
        return Transition("closed", case)
    if case.status == "taken" and case.owner_staff_id == staff_id:
        return Transition("already", case)
    if case.status == "taken":
        return Transition("held", case)
    return Transition("not_yours", case)
