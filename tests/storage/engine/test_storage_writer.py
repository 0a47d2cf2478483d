"""The single writer: concurrent jobs share transactions, a failing job fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from storage_support import message, open_store, raw_query, reply, turn
from support import Clock

from storage.crypto.keys import KeyRing
from storage.crypto.vault import Vault
from storage.engine.db import Tx, Writer, connect
from storage.engine.migrations import apply_migrations
from storage.errors import ConstraintError, DatabaseError, InvalidRecordError, StoreClosedError
from storage.store import Store


async def test_two_hundred_concurrent_receives_are_all_durable_in_few_transactions(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        results = await asyncio.gather(
            *(
                store.turns.receive("telegram", str(1000 + n % 50), message(f"u{n}", f"pesan {n}"))
                for n in range(200)
            )
        )
        stats = store.write_stats
    inbox_ids = [inbox_id for _, inbox_id in results]
    assert None not in inbox_ids and len(set(inbox_ids)) == 200
    assert len({contact.id for contact, _ in results}) == 50
    assert stats.jobs == 200 and stats.failed_jobs == 0
    assert stats.batches < 20 and stats.largest_batch > 1
    async with await open_store(db_path, keyring, clock=clock) as store:
        texts = {row.text for row in await store.inbox.pending()}
    assert texts == {f"pesan {n}" for n in range(200)}


async def test_failing_job_in_a_shared_transaction_fails_alone(store: Store) -> None:
    received = [
        await store.turns.receive("telegram", str(100 + n), message(f"u{n}")) for n in range(30)
    ]
    turns = [
        turn(
            contact.id,
            inbox_id,
            outbound=(reply(contact.id, f"balasan {n}", priority=42 if n == 13 else 5),),
        )
        for n, (contact, inbox_id) in enumerate(received)
        if inbox_id is not None
    ]
    outcomes = await asyncio.gather(
        *(store.turns.commit_turn(t) for t in turns), return_exceptions=True
    )
    failures = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failures == [13]
    assert isinstance(outcomes[13], ConstraintError)
    assert store.write_stats.largest_batch > 1
    assert await store.outbox.count_pending() == 29
    assert [row.transport_id for row in await store.inbox.pending()] == ["u13"]


async def test_receive_that_fails_after_creating_its_contact_leaves_no_contact(
    store: Store, db_path: Path
) -> None:
    bad = store.turns.receive("telegram", "111", message("u1", channel="whatsapp"))
    good = store.turns.receive("telegram", "222", message("u2", "baik"))
    outcomes = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(outcomes[0], InvalidRecordError)
    assert await store.contacts.count() == 1
    assert await store.contacts.find("telegram", "111") is None
    # The surviving contact's data reads with its own key, whatever id it was given.
    (row,) = await store.inbox.pending()
    assert row.text == "baik"
    assert await store.contacts.address(row.contact_id) == "222"
    assert raw_query(db_path, "SELECT count(*) FROM contact_keys") == [(1,)]


async def test_close_runs_every_write_already_queued(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    store = await open_store(db_path, keyring, clock=clock)
    tasks = [
        asyncio.create_task(store.turns.receive("telegram", "555", message(f"u{n}")))
        for n in range(25)
    ]
    await asyncio.sleep(0)  # every task has queued its job
    await store.close()
    assert all(task.done() and task.exception() is None for task in tasks)
    async with await open_store(db_path, keyring, clock=clock) as reopened:
        assert await reopened.inbox.count_pending() == 25


async def test_closed_store_refuses_reads_and_writes(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreClosedError, match="receive: the store is closed"):
        await store.turns.receive("telegram", "555", message("u1"))
    with pytest.raises(StoreClosedError, match="inbox.pending: the store is closed"):
        await store.inbox.pending()
    await store.close()  # closing twice is harmless


async def test_rolled_back_contact_leaves_no_data_key_in_memory(
    store: Store, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    with pytest.raises(InvalidRecordError):
        await store.turns.receive("telegram", "111", message("u1", channel="whatsapp"))
    # Another process then creates a contact, which may get the rolled-back id.
    async with await open_store(db_path, keyring, clock=clock) as other:
        await other.turns.receive("telegram", "222", message("u2", "baik"))
    (row,) = await store.inbox.pending()
    assert row.text == "baik"
    assert await store.contacts.address(row.contact_id) == "222"


async def test_when_sqlite_ends_a_shared_transaction_every_job_in_it_fails(db_path: Path) -> None:
    conn = await connect(db_path, writer=True)
    try:
        await apply_migrations(conn, 0)
        writer = Writer(conn, await Vault.unlock(conn, KeyRing.generate(), 0))
        writer.start()

        def insert(name: str) -> Callable[[Tx], Awaitable[None]]:
            async def job(tx: Tx) -> None:
                await tx.execute("INSERT INTO meta (name, value) VALUES (?, '1')", (name,))

            return job

        async def abort(tx: Tx) -> None:
            await tx.execute("ROLLBACK")  # as SQLite itself does on a full disk
            raise OSError("disk full")

        outcomes = await asyncio.gather(
            writer.run("first", insert("first")),
            writer.run("abort", abort),
            writer.run("third", insert("third")),
            return_exceptions=True,
        )
        assert [type(o) for o in outcomes] == [DatabaseError] * 3
        assert "first: the transaction it shared failed and was rolled back" in str(outcomes[0])
        await writer.run("later", insert("later"))
        await writer.close()
    finally:
        await conn.close()
    assert raw_query(db_path, "SELECT name FROM meta") == [("later",)]


async def test_a_writer_needs_the_writer_connection_and_runs_jobs_on_it(db_path: Path) -> None:
    reader = await connect(db_path, writer=False)
    try:
        with pytest.raises(ValueError, match="connect"):
            Writer(reader, None)  # type: ignore[arg-type]
    finally:
        await reader.close()
    conn = await connect(db_path, writer=True)
    try:
        await apply_migrations(conn, 0)
        writer = Writer(conn, await Vault.unlock(conn, KeyRing.generate(), 0))
        writer.start()

        async def job(tx: Tx) -> list[tuple[object, ...]]:
            await tx.execute("INSERT INTO meta (name, value) VALUES ('a', '1')")
            await tx.execute("INSERT INTO meta (name, value) VALUES ('b', '2')")
            return await tx.fetchall("SELECT name, value FROM meta ORDER BY name")

        assert await writer.run("two rows", job) == [("a", "1"), ("b", "2")]
        await writer.close()
    finally:
        await conn.close()
    assert raw_query(db_path, "SELECT name FROM meta ORDER BY name") == [("a",), ("b",)]
