"""Erasure: a contact's data removed and its key destroyed, in stages that survive a crash.

Crypto-shredding in three steps, each recorded in `erasures` so that a crash in
between is finished on the next start:

1. The data rows go (messages, session, answers, consents, cases, outbox, and
   rows other features keep about the contact, found through their foreign
   keys). Cases are first copied to `erased_cases` without code or contact, so
   that reports keep their counts. When the person asked in the chat, the
   contact row, its wrapped key and the farewell reply stay for now (stage
   `farewell`): the reply is sealed under the contact's key and must still be
   sent to the contact's address. The address's blind index is replaced at once,
   so a new message from the same chat starts a new contact.
2. The contact row and its wrapped data key go (stage `shred`). SQLite's
   `secure_delete` overwrites the freed pages, and the key leaves the memory
   cache.
3. The contact's leaf of the key tree is punctured (stage `done`). Every copy
   of the database, old backups included, still holds the wrapped key, but
   nothing can unwrap it any more (see `storage.crypto.keytree`).

Messages the contact sent after asking for erasure but before it ran are not
lost: they move to a new contact for the same chat and are processed there.

Bookings still to come are cancelled first (`storage.booking.changes.cancel_for_contact`):
the counsellor's time is free again and their schedule shows nothing of who had it;
every booking loses its number or address, and keeps no contact once the row goes.

Satisfaction counts (`storage.flowhost.ratings`) are left alone: they carry no contact,
case, time finer than a month or words, so there is nothing of the person in
them to erase. The web chat's conversation lines (`storage.channels.webchat`) go with
the rows they point at (ON DELETE CASCADE). Counsellors' labels on messages
(`storage.safety.labels`) point at the contact, so they go in step 1, and the
copy of the words they keep is sealed under the contact's key, so step 3 makes
it unreadable in old backups too. The same holds for the answers the flows did
not understand (`storage.flowhost.missed`): their words go in step 1, their
per-day counts, which carry no contact, stay.
A family's kept photos and voice notes (`storage.media`) go in step 1 with their
messages, and their bytes are sealed under the contact's key, so step 3 makes
any older copy unreadable too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.booking.changes import cancel_for_contact
from storage.conversation import contacts, inbox
from storage.crypto.vault import KEYTREE_GENERATION_META, Vault, record_tree_generation
from storage.engine.catalog import foreign_keys, primary_key
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, marks
from storage.errors import DatabaseError, KeyFileError
from storage.privacy import audit
from storage.privacy.audit import AuditEntry
from storage.records import NewInbound

__all__ = ["ErasureRepo", "ErasureRound", "erase_in_turn", "erase_now"]

FAREWELL_TIMEOUT = timedelta(hours=24)
"""How long an erased contact's farewell reply may wait to be sent before it is dropped."""
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class _Ref:
    """A child table whose rows must go before the parent rows they point at."""

    child: str
    column: str
    parent_column: str


@dataclass(frozen=True, slots=True)
class ErasureRound:
    """What one pass of `ErasureRepo.finish` did (counts only)."""

    farewells_finished: int = 0
    keys_destroyed: int = 0


async def _references(tx: Tx) -> dict[str, list[_Ref]]:
    """Parent table -> children whose foreign keys would block deleting the parent's rows.

    Read from the schema, so tables added by later features are erased too.
    Children declared ON DELETE CASCADE or SET NULL are left to SQLite.
    """
    graph: dict[str, list[_Ref]] = {}
    for parent, column, to, on_delete, table in await foreign_keys(tx):
        if on_delete.upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
            continue
        target = to or await _primary_key(tx, parent)
        graph.setdefault(parent, []).append(_Ref(table, column, target))
    return graph


async def _primary_key(tx: Tx, table: str) -> str:
    name = await primary_key(tx, table)
    if name is None:
        raise DatabaseError(f"erasure: table {table} has no single-column primary key")
    return name


async def _delete(
    tx: Tx,
    graph: dict[str, list[_Ref]],
    table: str,
    where: str,
    params: tuple[object, ...],
    depth: int = 0,
) -> int:
    """Deletes rows matching `where`, after the rows of other tables that point at them."""
    if depth > _MAX_DEPTH:
        raise DatabaseError(f"erasure: foreign keys nest deeper than {_MAX_DEPTH} at {table}")
    deleted = 0
    for ref in graph.get(table, ()):
        deleted += await _delete(
            tx,
            graph,
            ref.child,
            f'"{ref.column}" IN (SELECT "{ref.parent_column}" FROM "{table}" WHERE {where})',
            params,
            depth + 1,
        )
    return deleted + await tx.execute(f'DELETE FROM "{table}" WHERE {where}', params)


async def _anonymise_cases(tx: Tx, contact_id: int, now: int) -> int:
    """Keeps what reports count about the contact's cases, with no code and no link."""
    return await tx.execute(
        "INSERT INTO erased_cases"
        " (category, urgency, status, opened_at, closed_at, erased_at, office_id)"
        " SELECT category, urgency, status, opened_at,"
        " CASE WHEN status = 'closed' THEN updated_at END, ?, office_id FROM cases"
        " WHERE contact_id = ?"
        " ORDER BY id",
        (now, contact_id),
    )


async def _rehome_later_messages(tx: Tx, contact_id: int, after_inbox_id: int, now: int) -> int:
    """Moves messages that arrived after the erasure request to a new contact for the chat."""
    rows = await tx.fetchall(
        "SELECT id, rid, channel, kind, received_at, transport_id_enc, text_enc FROM inbox"
        " WHERE contact_id = ? AND id > ? AND processed_at IS NULL ORDER BY id",
        (contact_id, after_inbox_id),
    )
    if not rows:
        return 0
    dek = await tx.dek(contact_id)
    who = await tx.fetchone(
        "SELECT rid, channel, address_enc FROM contacts WHERE id = ?", (contact_id,)
    )
    if who is None:
        return 0
    address = Vault.open_text(dek, contacts.address_place(as_bytes(who[0])), as_bytes(who[2]))
    moved = [
        NewInbound(
            channel=str(row[2]),
            transport_id=Vault.open_text(
                dek, inbox.transport_id_place(as_bytes(row[1])), as_bytes(row[5])
            ),
            kind=str(row[3]),
            text=Vault.open_text(dek, inbox.text_place(as_bytes(row[1])), as_bytes(row[6])),
            received_at=from_micros(int(row[4])),
        )
        for row in rows
    ]
    await tx.execute(
        f"DELETE FROM inbox WHERE id IN ({marks(rows)})",
        tuple(int(row[0]) for row in rows),
    )
    fresh, fresh_dek = await contacts.get_or_create(tx, str(who[1]), address, now)
    for item in moved:
        await inbox.insert(tx, item.channel, fresh.id, fresh_dek, item)
    return len(moved)


async def _record(tx: Tx, contact_id: int, stage: str, reason: str, now: int) -> None:
    await tx.execute(
        "INSERT INTO erasures (contact_id, stage, reason, requested_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (contact_id) DO UPDATE SET stage = excluded.stage",
        (contact_id, stage, reason, now),
    )


async def erase_in_turn(
    tx: Tx, contact_id: int, inbox_id: int, farewell_ids: Sequence[int], now: int
) -> None:
    """Step 1 for a person who confirmed erasure in the chat (inside the turn's transaction).

    Everything goes except the contact row, its wrapped key and the farewell
    replies `farewell_ids`; `ErasureRepo.finish` completes the erasure once they
    are sent.
    """
    # Detach the chat first: from now on its messages belong to a new contact,
    # and so do those already received after this one.
    await tx.execute(
        "UPDATE contacts SET address_bidx = ?, language = NULL WHERE id = ?",
        (os.urandom(16), contact_id),
    )
    await _rehome_later_messages(tx, contact_id, inbox_id, now)
    keep = tuple(farewell_ids)
    held = marks(keep)
    if keep:
        await tx.execute(f"UPDATE outbox SET inbox_id = NULL WHERE id IN ({held})", keep)
    await _anonymise_cases(tx, contact_id, now)
    await cancel_for_contact(tx, contact_id, now)
    graph = await _references(tx)
    for ref in graph.get("contacts", ()):
        if ref.child == "contact_keys":
            continue
        where = f'"{ref.column}" = ?'
        params: tuple[object, ...] = (contact_id,)
        if ref.child == "outbox" and keep:
            where += f" AND id NOT IN ({held})"
            params += keep
        await _delete(tx, graph, ref.child, where, params)
    await _record(tx, contact_id, "farewell", "request", now)
    await audit.append(
        tx,
        AuditEntry(
            f"family:{contact_id}",
            "erase",
            f"contact:{contact_id}",
            "the person confirmed in the chat that their data be deleted",
        ),
        now,
    )


async def erase_now(
    tx: Tx,
    contact_id: int,
    reason: str,
    actor: str,
    why: str,
    now: int,
    *,
    unless_busy: bool = False,
) -> bool:
    """Steps 1 and 2 at once (retention, a purge, a restore); False if nothing was erased.

    With `unless_busy`, a contact with a message not yet processed is left for the
    next run: erasing it now would drop a message that was already acknowledged.
    """
    exists = await tx.fetchone("SELECT 1 FROM contacts WHERE id = ?", (contact_id,))
    if exists is None:
        return False
    if unless_busy and await tx.fetchone(
        "SELECT 1 FROM inbox WHERE contact_id = ? AND processed_at IS NULL LIMIT 1",
        (contact_id,),
    ):
        return False
    await _anonymise_cases(tx, contact_id, now)
    await cancel_for_contact(tx, contact_id, now)
    graph = await _references(tx)
    await _delete(tx, graph, "contacts", "id = ?", (contact_id,))
    await _record(tx, contact_id, "shred", reason, now)
    await audit.append(tx, AuditEntry(actor, "erase", f"contact:{contact_id}", why), now)
    return True


class ErasureRepo:
    """Runs erasures outside a turn and finishes the ones under way."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def erase(
        self, contact_id: int, *, reason: str, actor: str, why: str, unless_busy: bool = True
    ) -> bool:
        """Erases a contact completely, key tree included; False if there is no such contact,
        or (`unless_busy`) it has a message still to process: the next run erases it."""
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> bool:
            return await erase_now(tx, contact_id, reason, actor, why, now, unless_busy=unless_busy)

        erased = await self._writer.run("erasure.erase", job)
        self._vault.cache.discard(contact_id)
        if erased:
            await self._shred(contact_id, actor)
        return erased

    async def finish(self, timeout: timedelta = FAREWELL_TIMEOUT) -> ErasureRound:
        """Completes what is under way: farewells sent (or given up on), leaves to puncture."""
        now = self._clock()
        cutoff = to_micros(now - timeout, "erasure cutoff")
        ready = await self._readers.fetchall(
            "SELECT e.contact_id FROM erasures e WHERE e.stage = 'farewell' AND (e.requested_at"
            " <= ? OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.contact_id = e.contact_id"
            " AND o.status = 'pending')) ORDER BY e.contact_id",
            (cutoff,),
            what="erasure.finish",
        )
        finished = 0
        for (contact_id,) in ready:
            if await self._finish_farewell(int(contact_id)):
                finished += 1  # its key is destroyed too
        pending = await self._readers.fetchall(
            "SELECT contact_id FROM erasures WHERE stage = 'shred' ORDER BY contact_id",
            what="erasure.finish",
        )
        for (contact_id,) in pending:
            await self._shred(int(contact_id), "system")
        return ErasureRound(finished, finished + len(pending))

    async def unfinished(self) -> int:
        """Erasures not yet done (a farewell to send, a leaf to puncture)."""
        row = await self._readers.fetchone(
            "SELECT count(*) FROM erasures WHERE stage != 'done'", what="erasure.unfinished"
        )
        return 0 if row is None else int(row[0])

    async def reapply(self, actor: str) -> int:
        """Removes the rows of contacts whose leaf is punctured (after restoring a backup).

        Their data cannot be read anyway; this only tidies what the backup still held.
        """
        rows = await self._readers.fetchall(
            "SELECT contact_id FROM contact_keys ORDER BY contact_id", what="erasure.reapply"
        )
        gone = [int(r[0]) for r in rows if self._vault.tree.leaf(int(r[0])) is None]
        now = to_micros(self._clock(), "clock")
        for contact_id in gone:

            async def job(tx: Tx, contact_id: int = contact_id) -> None:
                await erase_now(
                    tx,
                    contact_id,
                    "erased_before_restore",
                    actor,
                    "erased after the restored backup was taken",
                    now,
                )
                await tx.execute(
                    "UPDATE erasures SET stage = 'done', done_at = ? WHERE contact_id = ?",
                    (now, contact_id),
                )

            await self._writer.run("erasure.reapply", job)
            self._vault.cache.discard(contact_id)
        return len(gone)

    async def _finish_farewell(self, contact_id: int) -> bool:
        async def job(tx: Tx) -> bool:
            stage = await tx.fetchone(
                "SELECT stage FROM erasures WHERE contact_id = ?", (contact_id,)
            )
            if stage is None or stage[0] != "farewell":
                return False
            graph = await _references(tx)
            await _delete(tx, graph, "contacts", "id = ?", (contact_id,))
            await tx.execute(
                "UPDATE erasures SET stage = 'shred' WHERE contact_id = ?", (contact_id,)
            )
            return True

        done = await self._writer.run("erasure.finish_farewell", job)
        self._vault.cache.discard(contact_id)
        if done:
            await self._shred(contact_id, f"family:{contact_id}")
        return done

    async def _shred(self, contact_id: int, actor: str) -> None:
        """Punctures the leaf (a file write, in a thread), then records the erasure as done.

        Refused (`KeyFileError`, the erasure stays at `shred` to be finished later) when
        the database recorded a later tree than this process's file: another copy of
        the tree is in use (a second host's), and a puncture here would not reach it."""
        await self._check_tree_is_the_latest()
        await asyncio.to_thread(self._vault.tree.puncture, contact_id)
        self._vault.cache.discard(contact_id)
        now = to_micros(self._clock(), "clock")
        generation = self._vault.tree.generation

        async def job(tx: Tx) -> None:
            await record_tree_generation(tx, generation)
            changed = await tx.execute(
                "UPDATE erasures SET stage = 'done', done_at = ? WHERE contact_id = ?"
                " AND stage = 'shred'",
                (now, contact_id),
            )
            if changed:
                await audit.append(
                    tx,
                    AuditEntry(
                        actor,
                        "destroy_key",
                        f"contact:{contact_id}",
                        "key-tree leaf destroyed: no copy of the data can be read",
                    ),
                    now,
                )

        await self._writer.run("erasure.shred", job)

    async def _check_tree_is_the_latest(self) -> None:
        row = await self._readers.fetchone(
            "SELECT value FROM meta WHERE name = ?",
            (KEYTREE_GENERATION_META,),
            what="erasure.tree_generation",
        )
        mine = self._vault.tree.generation
        if row is not None and int(row[0]) > mine:
            raise KeyFileError(
                f"key tree {self._vault.tree.path} is at generation {mine}, but this database"
                f" recorded erasures up to generation {row[0]}: another copy of the tree is in"
                " use (every process must share one key tree file); nothing was punctured"
            )

    def is_erased(self, contact_id: int) -> bool:
        """True once the contact's leaf is punctured: nothing of theirs can be decrypted."""
        return self._vault.tree.leaf(contact_id) is None
