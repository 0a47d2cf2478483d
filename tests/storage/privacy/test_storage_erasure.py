"""Erasure: rows removed, key destroyed, and nothing readable again, old backups included."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from storage_support import T0, at, message, open_store, raw_query, raw_update, reply, turn
from support import Clock
from support.backups import restore_backup, take_backup

from storage.crypto.keys import KeyRing
from storage.crypto.keytree import KeyTree
from storage.errors import ErasedError
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, ConsentRecord, Contact
from storage.store import Store

MARK_A = "RAHASIA-ANNA-4411"
MARK_B = "RAHASIA-BUDI-7723"
CONTACT_TABLES = ("inbox", "outbox", "sessions", "consents", "cases", "contact_keys")


async def family(store: Store, address: str, words: str, tid: str) -> tuple[Contact, int]:
    """A family that consented, wrote `words`, got a reply and has an urgent case."""
    contact, inbox_id = await store.turns.receive("telegram", address, message(tid, words))
    assert inbox_id is not None
    await store.turns.commit_turn(
        turn(
            contact.id,
            inbox_id,
            state='{"answers": "' + words + '"}',
            outbound=(reply(contact.id, f"balasan untuk {words}"),),
            cases=(CaseOpen("kdrt", "darurat"),),
            consent=ConsentRecord(True, "2026-12"),
        )
    )
    return contact, inbox_id


def rows_of(db_path: Path, contact_id: int) -> dict[str, int]:
    """How many rows each table holds for the contact, read straight from the file."""

    def count(sql: str) -> int:
        return int(raw_query(db_path, sql, (contact_id,))[0][0])

    counts = {t: count(f"SELECT count(*) FROM {t} WHERE contact_id = ?") for t in CONTACT_TABLES}
    counts["contacts"] = count("SELECT count(*) FROM contacts WHERE id = ?")
    return counts


async def test_erasing_removes_every_row_and_keeps_only_anonymous_counts(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    # A table some later feature adds, pointing at contacts: it is found and erased too.
    async with await open_store(db_path, keyring, clock=clock):
        pass
    raw_update(
        db_path,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL"
        " REFERENCES contacts (id), body BLOB)",
    )
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, _ = await family(store, "111", MARK_A, "a1")
        budi, _ = await family(store, "222", MARK_B, "b1")
        raw_update(db_path, "INSERT INTO notes (contact_id, body) VALUES (?, x'00')", (anna.id,))
        assert await store.erasure.erase(
            anna.id, reason="purge", actor="cli", why="asked at the office"
        )
        assert not await store.erasure.erase(anna.id, reason="purge", actor="cli", why="again")
        assert store.erasure.is_erased(anna.id) and not store.erasure.is_erased(budi.id)
        assert await store.erasure.unfinished() == 0
        assert await store.contacts.find("telegram", "111") is None
        assert (await store.privacy.subject(budi.id)) is not None
        audit = [(r.actor, r.action, r.subject) for r in await store.audit.rows()]
    assert rows_of(db_path, anna.id) == dict.fromkeys([*CONTACT_TABLES, "contacts"], 0)
    assert raw_query(db_path, "SELECT count(*) FROM notes") == [(0,)]
    assert rows_of(db_path, budi.id) == {
        "inbox": 1, "outbox": 1, "sessions": 1, "consents": 1, "cases": 1,
        "contact_keys": 1, "contacts": 1,
    }  # fmt: skip
    assert raw_query(db_path, "SELECT category, urgency, status FROM erased_cases") == [
        ("kdrt", "darurat", "open")
    ]
    assert raw_query(db_path, "SELECT stage, reason FROM erasures") == [("done", "purge")]
    assert audit == [
        ("cli", "erase", f"contact:{anna.id}"),
        ("cli", "destroy_key", f"contact:{anna.id}"),
    ]


async def test_the_destroyed_key_is_overwritten_in_the_database_file(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, _ = await family(store, "111", MARK_A, "a1")
        ((wrapped,),) = raw_query(
            db_path, "SELECT wrapped FROM contact_keys WHERE contact_id = ?", (anna.id,)
        )
        await store.erasure.erase(anna.id, reason="purge", actor="cli", why="test")
    for path in db_path.parent.iterdir():
        if path.is_file():
            assert bytes(wrapped) not in path.read_bytes(), path.name


async def test_restoring_an_older_backup_does_not_bring_an_erased_contact_back(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, anna_msg = await family(store, "111", MARK_A, "a1")
        budi, budi_msg = await family(store, "222", MARK_B, "b1")
        old = tmp_path / "backup-monday.db"
        take_backup(db_path, old)
        clock.advance(86400)
        await store.erasure.erase(anna.id, reason="request", actor=f"family:{anna.id}", why="t")

    # Restore Monday's backup elsewhere, with the same master key and the current tree.
    elsewhere = tmp_path / "restored"
    elsewhere.mkdir()
    shutil.copy2(tmp_path / "lk3.keytree", elsewhere / "lk3.keytree")
    restored = elsewhere / "lk3.db"
    restore_backup(old, restored, frozenset({"lk3.keytree"}))
    # The backup still holds Anna's wrapped key and her sealed words...
    assert rows_of(restored, anna.id)["contact_keys"] == 1
    assert rows_of(restored, anna.id)["inbox"] == 1
    async with await open_store(restored, keyring, clock=clock) as store:
        # ...but nothing unwraps it any more: every read of hers fails.
        for read in (
            lambda: store.inbox.get(anna_msg),
            lambda: store.contacts.address(anna.id),
            lambda: store.sessions.get(anna.id),
            lambda: store.privacy.subject(anna.id),
        ):
            with pytest.raises(ErasedError, match="the contact was erased"):
                await read()
        # Budi, untouched since the backup, reads as before.
        row = await store.inbox.get(budi_msg)
        assert row is not None and row.text == MARK_B
        assert await store.erasure.reapply("cli") == 1
    assert rows_of(restored, anna.id)["inbox"] == 0
    assert rows_of(restored, budi.id)["inbox"] == 1


async def test_only_an_old_copy_of_the_key_tree_could_open_an_erased_contact(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """Why the README says: keep the key tree apart from backups, and only its latest copy."""
    stale_tree = tmp_path / "stale.keytree"
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, anna_msg = await family(store, "111", MARK_A, "a1")
        take_backup(db_path, tmp_path / "old.backup")
        shutil.copy2(tmp_path / "lk3.keytree", stale_tree)
        await store.erasure.erase(anna.id, reason="request", actor="cli", why="t")
    old = restore_backup(tmp_path / "old.backup", tmp_path / "old" / "lk3.db", keytree=stale_tree)
    async with await open_store(old, keyring, keytree=stale_tree) as store:
        row = await store.inbox.get(anna_msg)
        assert row is not None and row.text == MARK_A


async def test_a_confirmed_erasure_keeps_only_the_farewell_until_it_is_sent(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, first = await family(store, "111", MARK_A, "a1")
        _, confirm = await store.turns.receive("telegram", "111", message("a2", "ya"))
        # She writes again before the confirmation is processed: that message is not lost.
        _, later = await store.turns.receive("telegram", "111", message("a3", "halo lagi"))
        assert confirm is not None and later is not None
        ids = await store.turns.commit_turn(
            dataclasses.replace(
                turn(
                    anna.id,
                    confirm,
                    outbound=(reply(anna.id, "Data Anda sudah kami hapus."),),
                    when=at(5),
                ),
                erase=True,
                audit=(AuditEntry(f"family:{anna.id}", "export", f"contact:{anna.id}", "t"),),
            )
        )
        left = rows_of(db_path, anna.id)
        assert left == {
            "inbox": 0, "outbox": 1, "sessions": 0, "consents": 0, "cases": 0,
            "contact_keys": 1, "contacts": 1,
        }  # fmt: skip
        assert raw_query(db_path, "SELECT stage FROM erasures") == [("farewell",)]
        # The chat now belongs to a new contact, who has the later message, unprocessed.
        fresh = await store.contacts.find("telegram", "111")
        assert fresh is not None and fresh.id != anna.id
        (pending,) = await store.inbox.pending()
        assert (pending.contact_id, pending.text, pending.transport_id) == (
            fresh.id,
            "halo lagi",
            "a3",
        )
        assert first not in {pending.id}
        # The farewell still goes to her chat; only then is her key destroyed.
        (farewell,) = await store.outbox.due(at(10))
        assert (farewell.id, farewell.address, farewell.text) == (
            ids[0],
            "111",
            "Data Anda sudah kami hapus.",
        )
        assert (await store.erasure.finish()).farewells_finished == 0
        await store.outbox.mark_sent(farewell.id, "p1", at(11))
        done = await store.erasure.finish()
        assert (done.farewells_finished, done.keys_destroyed) == (1, 1)
        assert store.erasure.is_erased(anna.id)
    assert rows_of(db_path, anna.id) == dict.fromkeys([*CONTACT_TABLES, "contacts"], 0)
    assert raw_query(db_path, "SELECT stage FROM erasures") == [("done",)]


async def test_a_farewell_that_cannot_be_delivered_is_dropped_after_a_day(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, _ = await family(store, "111", MARK_A, "a1")
        _, confirm = await store.turns.receive("telegram", "111", message("a2", "ya"))
        assert confirm is not None
        await store.turns.commit_turn(
            dataclasses.replace(
                turn(anna.id, confirm, outbound=(reply(anna.id, "Data Anda sudah kami hapus."),)),
                erase=True,
            )
        )
        clock.advance(23 * 3600)
        assert (await store.erasure.finish()).farewells_finished == 0
        clock.advance(2 * 3600)
        assert (await store.erasure.finish()).farewells_finished == 1
        assert await store.outbox.count_pending() == 0


async def test_an_erasure_interrupted_before_the_key_tree_is_finished_on_the_next_start(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, _ = await family(store, "111", MARK_A, "a1")
    # As if the process died after the rows went but before the leaf was punctured.
    raw_update(db_path, "DELETE FROM cases")
    raw_update(db_path, "INSERT INTO erasures VALUES (?, 'shred', 'request', 0, NULL)", (anna.id,))
    assert KeyTree.load(db_path.with_suffix(".keytree")).leaf(anna.id) is not None
    async with await open_store(db_path, keyring, clock=clock) as store:
        assert await store.erasure.unfinished() == 1
        assert (await store.erasure.finish()).keys_destroyed == 1
        assert await store.erasure.unfinished() == 0
    assert KeyTree.load(db_path.with_suffix(".keytree")).leaf(anna.id) is None


DAY = 86400


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("withdrew yesterday", "withdrawal"),
        ("withdrew, then agreed again", None),
        ("withdrew, but a case is open", None),
        ("no case, silent 31 days", "first_contact"),
        ("no case, silent 29 days", None),
        ("case closed 366 days ago", "closed_case"),
        ("case closed 100 days ago", None),
        ("case closed 366 days ago, wrote 3 days ago", None),
        ("case still open after 2 years", None),
        ("no case, silent 31 days, a counsellor's own chat", None),
        ("no case, silent 31 days, a message still to process", None),
    ],
)
async def test_retention_erases_exactly_what_its_rules_say(
    db_path: Path, keyring: KeyRing, clock: Clock, setup: str, expected: str | None
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        contact, inbox_id = await store.turns.receive("telegram", "111", message("m1"))
        assert inbox_id is not None
        opened = (CaseOpen("anak", "segera"),) if "case" in setup and "no case" not in setup else ()
        await store.turns.commit_turn(turn(contact.id, inbox_id, cases=opened))
        consents: tuple[ConsentRecord, ...] = (ConsentRecord(True, "2026-12"),)
        if "withdrew" in setup:
            consents += (ConsentRecord(False, "2026-12", withdrawal=True),)
        if "agreed again" in setup:
            consents += (ConsentRecord(True, "2026-12"),)
        for i, consent in enumerate(consents):
            _, mid = await store.turns.receive("telegram", "111", message(f"c{i}"))
            assert mid is not None
            await store.turns.commit_turn(turn(contact.id, mid, consent=consent))
        if "closed" in setup:
            raw_update(db_path, "UPDATE cases SET status = 'closed'")
        silent = {"31": 31, "29": 29, "366": 366, "100": 100, "2 years": 730}
        days = next((d for k, d in silent.items() if k in setup), 1)
        now = T0 + timedelta(days=days)
        if "counsellor" in setup:
            member = await store.staff.add("konselor1", "Konselor Satu", ["counsellor"], T0)
            link = "UPDATE staff SET contact_id = ? WHERE id = ?"
            raw_update(db_path, link, (contact.id, member.id))
        if "still to process" in setup:
            await store.turns.receive("telegram", "111", message("waiting", when=T0))
        if "wrote 3 days ago" in setup:
            await store.turns.receive(
                "telegram", "111", message("late", when=now - timedelta(days=3))
            )
        due = await store.privacy.due_for_erasure(now, closed_case_days=365, first_contact_days=30)
    assert [d.reason for d in due] == ([] if expected is None else [expected])
