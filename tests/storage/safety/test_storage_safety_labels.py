"""Counsellors' labels on families' messages: one per message, sealed, gone with the contact."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from storage_support import at, message, open_store, raw_query, raw_update, reply, turn
from support import Clock
from support.backups import restore_backup, take_backup

from storage.crypto.keys import KeyRing
from storage.errors import InvalidRecordError
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, Contact
from storage.store import Store

WORDS_A = "RAHASIA-ANNA: pesan terakhir sudah kutulis"
WORDS_B = "RAHASIA-BUDI: anak saya main bola"


async def family(store: Store, address: str, words: str, tid: str) -> tuple[Contact, int]:
    """A family who wrote `words` (processed, answered) and has an urgent case."""
    contact, inbox_id = await store.turns.receive("telegram", address, message(tid, words))
    assert inbox_id is not None
    await store.turns.commit_turn(
        turn(
            contact.id,
            inbox_id,
            outbound=(reply(contact.id),),
            cases=(CaseOpen("kdrt", "darurat"),),
        )
    )
    return contact, inbox_id


async def writes_again(store: Store, contact: Contact, tid: str, words: str) -> int:
    """One more message from Anna (address 111), processed."""
    _, inbox_id = await store.turns.receive("telegram", "111", message(tid, words))
    assert inbox_id is not None
    await store.turns.commit_turn(turn(contact.id, inbox_id))
    return inbox_id


def entry(staff_id: int = 1, code: str = "ABC234") -> AuditEntry:
    return AuditEntry(f"staff:{staff_id}", "label_message", f"case:{code}", "test label")


async def a_counsellor(store: Store) -> int:
    member = await store.staff.by_username("sari")
    if member is None:
        member = await store.staff.add("sari", "Sari", ("counsellor",), at(0))
    return member.id


async def mark(store: Store, contact_id: int, inbox_id: int, label: str = "urgent") -> bool:
    sari = await a_counsellor(store)
    return await store.safety_labels.put(
        contact_id, inbox_id, label, level="none", staff_id=sari, entry=entry(sari)
    )


async def test_a_new_label_replaces_the_old_one_and_is_audited_in_the_same_write(
    store: Store, db_path: Path
) -> None:
    sari = await a_counsellor(store)
    anna, msg = await family(store, "111", WORDS_A, "a1")
    assert await store.safety_labels.put(
        anna.id, msg, "none", level="urgent", staff_id=sari, entry=entry(sari)
    )
    assert await store.safety_labels.put(
        anna.id, msg, "urgent", level="none", staff_id=sari, entry=entry(sari)
    )
    labels = await store.safety_labels.for_contact(anna.id)
    assert list(labels) == [msg]
    assert (labels[msg].label, labels[msg].level, labels[msg].staff_id) == ("urgent", "none", sari)
    assert raw_query(db_path, "SELECT count(*) FROM safety_labels") == [(1,)]
    actions = [r.action for r in await store.audit.rows()]
    assert actions == ["label_message", "label_message"]
    exported, unreadable = await store.safety_labels.export()
    assert [(e.label, e.level, e.text) for e in exported] == [("urgent", "none", WORDS_A)]
    assert unreadable == 0


async def test_the_words_are_sealed_and_bound_to_the_label_row(store: Store, db_path: Path) -> None:
    anna, first = await family(store, "111", WORDS_A, "a1")
    second = await writes_again(store, anna, "a2", "kedua")
    for inbox_id in (first, second):
        assert await mark(store, anna.id, inbox_id)
    await store.close()
    files = [db_path, db_path.with_name("lk3.db-wal")]
    assert not any(b"RAHASIA-ANNA" in p.read_bytes() for p in files if p.exists())
    columns = {row[1] for row in raw_query(db_path, "PRAGMA table_info(safety_labels)")}
    assert {c for c in columns if "text" in c} == {"text_enc"}


async def test_a_moved_ciphertext_is_left_out_of_the_export(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, first = await family(store, "111", WORDS_A, "a1")
        second = await writes_again(store, anna, "a2", "kedua")
        for inbox_id in (first, second):
            await mark(store, anna.id, inbox_id)
    raw_update(
        db_path,
        "UPDATE safety_labels SET text_enc = (SELECT text_enc FROM safety_labels"
        " WHERE inbox_id = ?) WHERE inbox_id = ?",
        (first, second),
    )
    async with await open_store(db_path, keyring, clock=clock) as store:
        exported, unreadable = await store.safety_labels.export()
    assert [e.text for e in exported] == [WORDS_A] and unreadable == 1


# (whose message, label, until (seconds after T0), words) -> refused, nothing written
REFUSED = [
    ("budi", "urgent", None, None),  # not this contact's message
    ("anna", "urgent", -1, None),  # came after the case was closed
    ("anna", "urgent", None, ""),  # no words to learn from (consent declined)
]


@pytest.mark.parametrize(("whose", "label", "until", "words"), REFUSED)
async def test_a_label_is_refused_for_a_message_the_case_does_not_show(
    store: Store, whose: str, label: str, until: int | None, words: str | None
) -> None:
    anna, anna_msg = await family(store, "111", WORDS_A if words is None else words, "a1")
    _, budi_msg = await family(store, "222", WORDS_B, "b1")
    target = anna_msg if whose == "anna" else budi_msg
    sari = await a_counsellor(store)
    done = await store.safety_labels.put(
        anna.id,
        target,
        label,
        level="none",
        staff_id=sari,
        entry=entry(sari),
        until=None if until is None else at(until),
    )
    assert not done
    assert await store.safety_labels.for_contact(anna.id) == {}
    assert [r.action for r in await store.audit.rows()] == []


async def test_unknown_labels_and_levels_are_refused(store: Store) -> None:
    anna, msg = await family(store, "111", WORDS_A, "a1")
    with pytest.raises(InvalidRecordError, match="label 'darurat' is not one of"):
        await mark(store, anna.id, msg, "darurat")
    with pytest.raises(InvalidRecordError, match="level 'high' is not one of"):
        await store.safety_labels.put(anna.id, msg, "none", level="high", staff_id=1, entry=entry())


async def test_erasing_a_contact_takes_their_labels_and_leaves_others(
    store: Store, db_path: Path
) -> None:
    anna, anna_msg = await family(store, "111", WORDS_A, "a1")
    budi, budi_msg = await family(store, "222", WORDS_B, "b1")
    for contact, msg in ((anna, anna_msg), (budi, budi_msg)):
        await mark(store, contact.id, msg)
    assert await store.erasure.erase(anna.id, reason="purge", actor="cli", why="asked")
    assert raw_query(db_path, "SELECT contact_id FROM safety_labels") == [(budi.id,)]
    exported, unreadable = await store.safety_labels.export()
    assert [e.text for e in exported] == [WORDS_B] and unreadable == 0


async def test_an_erasure_confirmed_in_the_chat_takes_the_labels_at_once(
    store: Store, db_path: Path
) -> None:
    anna, msg = await family(store, "111", WORDS_A, "a1")
    await mark(store, anna.id, msg)
    _, confirm = await store.turns.receive("telegram", "111", message("a2", "ya"))
    assert confirm is not None
    await store.turns.commit_turn(
        dataclasses.replace(
            turn(anna.id, confirm, outbound=(reply(anna.id, "Data Anda sudah kami hapus."),)),
            erase=True,
        )
    )
    # The farewell still waits to be sent, but the labels are gone already.
    assert raw_query(db_path, "SELECT count(*) FROM safety_labels") == [(0,)]
    assert await store.safety_labels.export() == ([], 0)


async def test_an_older_backup_keeps_an_erased_contacts_label_unreadable(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, msg = await family(store, "111", WORDS_A, "a1")
        await mark(store, anna.id, msg)
        take_backup(db_path, tmp_path / "monday.db")
        await store.erasure.erase(anna.id, reason="request", actor="cli", why="t")
    elsewhere = tmp_path / "restored"
    elsewhere.mkdir()
    shutil.copy2(tmp_path / "lk3.keytree", elsewhere / "lk3.keytree")
    restore_backup(tmp_path / "monday.db", elsewhere / "lk3.db", frozenset({"lk3.keytree"}))
    assert raw_query(elsewhere / "lk3.db", "SELECT count(*) FROM safety_labels") == [(1,)]
    async with await open_store(elsewhere / "lk3.db", keyring, clock=clock) as store:
        assert await store.safety_labels.export() == ([], 1)
        assert await store.erasure.reapply("cli") == 1
    assert raw_query(elsewhere / "lk3.db", "SELECT count(*) FROM safety_labels") == [(0,)]


async def test_a_message_not_processed_yet_is_not_labelled(store: Store) -> None:
    """Its turn may still decide not to keep the words (consent declined): no copy before."""
    anna, _ = await family(store, "111", WORDS_A, "a1")
    _, later = await store.turns.receive("telegram", "111", message("a2", "tolong saya"))
    assert later is not None
    assert await store.safety_labels.message_text(anna.id, later) is None
    assert not await mark(store, anna.id, later)
    await store.turns.commit_turn(turn(anna.id, later))
    assert await store.safety_labels.message_text(anna.id, later) == "tolong saya"
    assert await mark(store, anna.id, later)
