"""The two transactions every message goes through: receive it, then commit its turn.

`Store.turns` is the `TurnRepo`: the pipeline calls it directly, each call one job
for the single writer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage.booking.changes import apply as apply_booking
from storage.conversation import contacts, inbox, outbox, sessions
from storage.crypto.vault import Vault
from storage.engine.clock import to_micros
from storage.engine.db import Tx, Writer
from storage.engine.rows import as_bytes
from storage.errors import InvalidRecordError, NotFoundError
from storage.flowhost import missed, ratings
from storage.handoff import cases
from storage.handoff.steps import relay_in
from storage.media import repo as media
from storage.offices import repo as offices
from storage.privacy import audit, consents, erasure
from storage.privacy import repo as privacy
from storage.records import CommittedTurn, Contact, NewInbound, OutboxRow, TurnWrite

__all__ = ["TurnRepo"]


class TurnRepo:
    def __init__(self, writer: Writer, clock: Callable[[], datetime]) -> None:
        self._writer = writer
        self._clock = clock

    async def receive(
        self, channel: str, address: str, item: NewInbound
    ) -> tuple[Contact, int | None]:
        """Stores an inbound message durably; (contact, None) if it was already stored.

        One transaction: get or create the contact by the blind index of its
        address (with a new data key), then insert the inbox row. When this
        returns, the message is committed and may be acknowledged.
        """
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> tuple[Contact, int | None]:
            return await _receive(tx, channel, address, item, now)

        return await self._writer.run("receive", job)

    async def commit_turn(self, turn: TurnWrite) -> list[int]:
        """Writes a turn's outcome in one transaction; returns the new outbox ids in order.

        Session state, outbox rows, cases, language, consent, a rating, the answers not
        understood and the inbox row's processed mark commit together or not at all. A
        turn for an inbox row that is already processed changes nothing and returns [].
        """
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> list[int]:
            return await _commit_turn(tx, turn, now)

        return await self._writer.run("commit_turn", job)

    async def commit_turn_ready(self, turn: TurnWrite) -> CommittedTurn:
        """`commit_turn`, also giving back the turn's first reply ready to send when it
        is next in the contact's line (`CommittedTurn.first`).

        The pipeline hands it to the sender, which then sends it without looking for
        it and reading it back (a look for due rows and a read with a decryption less
        per message); the row is committed pending like any other, so a crash before
        its sent mark sends it again on restart.
        """
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> CommittedTurn:
            ids = await _commit_turn(tx, turn, now)
            return CommittedTurn(tuple(ids), await _first_ready(tx, turn, ids, now))

        return await self._writer.run("commit_turn", job)


async def _first_ready(tx: Tx, turn: TurnWrite, ids: list[int], now: int) -> OutboxRow | None:
    """The turn's first reply as the sender would read it, or None when it is not simply
    next: the turn wrote none, erases the contact or asks for the quick exit's cleanup
    (those rows go their own way), it is due later or goes out its own way (a ref), or
    an earlier row of the contact is still pending (sent first, or waiting to retry)."""
    if not ids or turn.erase or turn.quick_exit:
        return None
    item = turn.outbound[0]
    if item.ref is not None or item.contact_id != turn.contact_id:
        return None
    due = to_micros(item.due_at, "NewOutbound.due_at")
    if due > now:
        return None
    row = await tx.fetchone(
        "SELECT c.rid, c.address_enc, EXISTS (SELECT 1 FROM outbox o WHERE o.contact_id = ?"
        " AND o.status = 'pending' AND o.id < ?) FROM contacts c WHERE c.id = ?",
        (turn.contact_id, ids[0], turn.contact_id),
    )
    if row is None or row[2]:
        return None
    dek = await tx.dek(turn.contact_id)
    return OutboxRow(
        id=ids[0],
        contact_id=turn.contact_id,
        channel=item.channel,
        address=Vault.open_text(dek, contacts.address_place(as_bytes(row[0])), as_bytes(row[1])),
        text=item.text,
        options=tuple(item.options),
        priority=item.priority,
        due_at=item.due_at,
        attempts=0,
    )


async def _receive(
    tx: Tx, channel: str, address: str, item: NewInbound, now: int
) -> tuple[Contact, int | None]:
    """Gets or creates the contact and stores the message (None if a duplicate)."""
    contact, dek = await contacts.get_or_create(tx, channel, address, now)
    inbox_id = await inbox.insert(tx, channel, contact.id, dek, item)
    if inbox_id is not None and item.media is not None:
        await media.receive(tx, inbox_id, contact.id, item.kind, dek, item.media, now)
    return contact, inbox_id


async def _commit_turn(tx: Tx, turn: TurnWrite, now: int) -> list[int]:
    """Writes a processed message's outcome; does nothing if it was already processed."""
    # On PostgreSQL the row is locked until COMMIT: a second process committing the same
    # message (its claim lost with its connection) waits here, then finds it processed.
    lock = " FOR UPDATE" if tx.dialect == "postgres" else ""
    row = await tx.fetchone(
        f"SELECT contact_id, processed_at FROM inbox WHERE id = ?{lock}", (turn.inbox_id,)
    )
    if row is None:
        raise NotFoundError(f"commit_turn: inbox row {turn.inbox_id} does not exist")
    if int(row[0]) != turn.contact_id:
        raise InvalidRecordError(
            f"commit_turn: inbox row {turn.inbox_id} belongs to contact {row[0]},"
            f" not {turn.contact_id}"
        )
    if row[1] is not None:
        return []
    at = to_micros(turn.processed_at, "TurnWrite.processed_at")
    if turn.relay is not None:
        # First, like the booking: a case released since the turn was planned fails the
        # whole turn (StaleTurnError), which is then planned again without the relay.
        await relay_in(tx, turn.relay, at)
    if turn.booking is not None:
        # First: a time just taken by another family fails the whole turn (SlotTakenError).
        await apply_booking(tx, turn.contact_id, turn.booking, at)
    await sessions.upsert(tx, turn.contact_id, turn.session_state, at)
    if turn.rating is not None:
        await ratings.record(tx, turn.rating, turn.contact_id)
    ids = await outbox.insert_many(tx, turn.outbound, turn.inbox_id, now)
    if turn.office is not None:
        await offices.route_in_turn(tx, turn.contact_id, turn.office)
    for wanted in turn.cases:
        await cases.open_or_raise(tx, turn.contact_id, wanted, at)
    if turn.language is not None:
        await tx.execute(
            "UPDATE contacts SET language = ? WHERE id = ?", (turn.language, turn.contact_id)
        )
    if turn.missed:
        await missed.record(tx, turn.contact_id, turn.missed, at)
    if turn.consent is not None:
        await consents.record(tx, turn.contact_id, turn.consent, at)
        if not turn.consent.given:  # declined or withdrawn: no answer of theirs is kept
            await missed.forget(tx, turn.contact_id)
    if turn.forget_text:
        # Nor what they wrote before: before they were asked, and words that worried the
        # crisis check, kept only until the safety question was answered without a case
        # (with one open, forget_earlier keeps them for its counsellor).
        await inbox.forget_earlier(tx, turn.contact_id, turn.inbox_id)
        await inbox.forget_text(tx, turn.inbox_id)
    await tx.execute("UPDATE inbox SET processed_at = ? WHERE id = ?", (at, turn.inbox_id))
    await media.forget_waiting(tx, turn.inbox_id)
    for entry in turn.audit:
        await audit.append(tx, entry, at)
    if turn.quick_exit:
        await privacy.request_cleanup(tx, turn.contact_id, turn.inbox_id, ids, at)
    if turn.erase:
        await erasure.erase_in_turn(tx, turn.contact_id, turn.inbox_id, ids, at)
    return ids
