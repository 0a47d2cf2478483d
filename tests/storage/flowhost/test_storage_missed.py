"""Answers the flows did not understand: counted with the turn, the words sealed and short-lived."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from storage_support import T0, at, message, open_store, raw_query, raw_update, reply, turn
from support import Clock
from support.backups import restore_backup, take_backup

from storage.crypto.keys import KeyRing
from storage.errors import InvalidRecordError, StorageError
from storage.flowhost.missed import MAX_WORDS_CHARS, MissedCount, NewMiss
from storage.records import ConsentRecord, Contact
from storage.store import Store

DAY = "2026-03-02"
WORDS = "mau konsultasi RAHASIA-KATA"
MENU = NewMiss(DAY, "welcome", "main_menu")


def missed(words: str | None = None, *, close: bool = False, node: str = "main_menu") -> NewMiss:
    return NewMiss(DAY, "welcome", node, close=close, words=words)


async def typed(
    store: Store,
    address: str,
    tid: str,
    *misses: NewMiss,
    consent: ConsentRecord | None = None,
    when: datetime = T0,
) -> tuple[Contact, int]:
    """A family's typed message whose turn (at `when`) carries `misses`; (contact, inbox id)."""
    contact, inbox_id = await store.turns.receive("telegram", address, message(tid, "x"))
    assert inbox_id is not None
    write = dataclasses.replace(
        turn(contact.id, inbox_id, outbound=(reply(contact.id),), consent=consent, when=when),
        missed=misses,
    )
    await store.turns.commit_turn(write)
    return contact, inbox_id


async def test_misses_are_counted_per_question_and_day_with_close_calls_apart(
    store: Store, db_path: Path
) -> None:
    await typed(store, "101", "a1", missed(), missed(close=True))
    await typed(store, "102", "b1", missed())
    await typed(store, "103", "c1", missed(node="consent_ask"))
    await typed(store, "104", "d1", dataclasses.replace(MENU, day="2026-02-01"))
    counts = await store.missed.counts("welcome", "2026-02-25")
    assert counts == {"main_menu": MissedCount(2, 1), "consent_ask": MissedCount(1, 0)}
    assert counts["main_menu"].total == 3
    assert (await store.missed.counts("welcome", "2026-01-01"))["main_menu"].misses == 3
    assert await store.missed.counts("triage", "2026-01-01") == {}
    columns = [row[1] for row in raw_query(db_path, "PRAGMA table_info(missed_counts)")]
    # no contact, no words: the office is a number
    assert columns == ["office_id", "day", "flow_id", "node_id", "kind", "count"]


async def test_the_words_are_sealed_and_bound_to_their_row(store: Store, db_path: Path) -> None:
    await typed(store, "101", "a1", missed(WORDS))
    assert raw_query(db_path, "SELECT count(*) FROM missed_words") == [(1,)]
    for table in ("missed_words", "missed_counts"):
        for row in raw_query(db_path, f"SELECT * FROM {table}"):
            assert not any(b"RAHASIA" in bytes(str(v), "utf-8") for v in row)
            assert not any(isinstance(v, bytes) and b"RAHASIA" in v for v in row)
    (shown,) = (await store.missed.words("welcome", T0, 20))["main_menu"]
    assert (shown.text, shown.close, shown.at) == (WORDS, False, T0)
    # A ciphertext copied onto another row does not open there (the row is its context):
    # that row is left out, never shown with words that were not its own.
    await typed(store, "101", "a2", missed("lain"))
    raw_update(
        db_path,
        "UPDATE missed_words SET text_enc = (SELECT text_enc FROM missed_words WHERE id = 1)"
        " WHERE id = 2",
    )
    assert [w.text for w in (await store.missed.words("welcome", T0, 20))["main_menu"]] == [WORDS]


async def test_the_latest_words_come_first_capped_per_question_and_within_the_period(
    store: Store,
) -> None:
    for n in range(5):
        await typed(store, "101", f"a{n}", missed(f"jawaban {n}"), when=at(60 * n))
    await typed(store, "102", "b1", missed("mungkin", close=True, node="consent_ask"), when=at(600))
    words = await store.missed.words("welcome", at(60), 3)
    assert [w.text for w in words["main_menu"]] == ["jawaban 4", "jawaban 3", "jawaban 2"]
    assert [(w.text, w.close) for w in words["consent_ask"]] == [("mungkin", True)]
    assert [w.text for w in (await store.missed.words("welcome", at(200), 9))["main_menu"]] == [
        "jawaban 4"
    ]


async def test_a_retried_turn_counts_once(store: Store, db_path: Path) -> None:
    contact, inbox_id = await store.turns.receive("telegram", "101", message("a1", "x"))
    assert inbox_id is not None
    write = dataclasses.replace(turn(contact.id, inbox_id), missed=(missed(WORDS),))
    raw_update(
        db_path,
        "CREATE TRIGGER disk_trouble BEFORE UPDATE OF processed_at ON inbox"
        " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END",
    )
    with pytest.raises(StorageError):
        await store.turns.commit_turn(write)
    assert raw_query(db_path, "SELECT count(*) FROM missed_counts") == [(0,)]
    assert raw_query(db_path, "SELECT count(*) FROM missed_words") == [(0,)]
    raw_update(db_path, "DROP TRIGGER disk_trouble")
    await store.turns.commit_turn(write)
    await store.turns.commit_turn(write)  # the same message again: already processed
    assert (await store.missed.counts("welcome", DAY))["main_menu"] == MissedCount(1, 0)
    assert raw_query(db_path, "SELECT count(*) FROM missed_words") == [(1,)]


@pytest.mark.parametrize(
    "consent",
    [
        ConsentRecord(given=False, version="2025-12"),
        ConsentRecord(given=False, version="2025-12", withdrawal=True),
    ],
    ids=["declined", "withdrawn"],
)
async def test_declining_or_withdrawing_consent_deletes_the_words_in_that_turn(
    store: Store, db_path: Path, consent: ConsentRecord
) -> None:
    anna, _ = await typed(store, "101", "a1", missed(WORDS))
    await typed(store, "202", "b1", missed("budi punya"))
    await typed(store, "101", "a2", consent=consent)
    assert raw_query(db_path, "SELECT contact_id FROM missed_words") != [(anna.id,)]
    assert [w.text for w in (await store.missed.words("welcome", T0, 9))["main_menu"]] == [
        "budi punya"
    ]
    assert (await store.missed.counts("welcome", DAY))["main_menu"].misses == 2  # counts stay


async def test_an_erasure_deletes_the_words_and_leaves_the_counts(
    store: Store, db_path: Path
) -> None:
    anna, _ = await typed(store, "101", "a1", missed(WORDS))
    assert await store.erasure.erase(anna.id, reason="request", actor="cli", why="asked")
    assert raw_query(db_path, "SELECT count(*) FROM missed_words") == [(0,)]
    assert (await store.missed.counts("welcome", DAY))["main_menu"].misses == 1


async def test_an_erasure_in_the_chat_deletes_the_words_with_the_rest(
    store: Store, db_path: Path
) -> None:
    anna, _ = await typed(store, "101", "a1", missed(WORDS))
    _, confirm = await store.turns.receive("telegram", "101", message("a2", "ya"))
    assert confirm is not None
    await store.turns.commit_turn(
        dataclasses.replace(turn(anna.id, confirm, outbound=(reply(anna.id),)), erase=True)
    )
    assert raw_query(db_path, "SELECT count(*) FROM missed_words") == [(0,)]


async def test_words_in_an_old_backup_stay_unreadable_after_an_erasure(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna, _ = await typed(store, "101", "a1", missed(WORDS))
        await typed(store, "202", "b1", missed("budi punya"))
        old = tmp_path / "backup.db"
        take_backup(db_path, old)
        await store.erasure.erase(anna.id, reason="request", actor="cli", why="t")
    elsewhere = tmp_path / "restored"
    elsewhere.mkdir()
    shutil.copy2(tmp_path / "lk3.keytree", elsewhere / "lk3.keytree")
    restored = elsewhere / "lk3.db"
    restore_backup(old, restored, frozenset({"lk3.keytree"}))
    assert raw_query(restored, "SELECT count(*) FROM missed_words") == [(2,)]
    async with await open_store(restored, keyring, clock=clock) as store:
        words = await store.missed.words("welcome", T0, 9)
    assert [w.text for w in words["main_menu"]] == ["budi punya"]  # Anna's do not open


async def test_pruning_drops_words_older_than_the_period_and_keeps_the_counts(
    store: Store,
) -> None:
    await typed(store, "101", "a1", missed("lama"))
    await typed(store, "101", "a2", missed("baru"), when=T0 + timedelta(days=20))
    assert await store.missed.prune(T0 + timedelta(days=10)) == 1
    words = await store.missed.words("welcome", T0, 9)
    assert [w.text for w in words["main_menu"]] == ["baru"]
    assert (await store.missed.counts("welcome", DAY))["main_menu"].misses == 2


async def test_the_familys_export_holds_their_kept_words(store: Store) -> None:
    anna, _ = await typed(store, "101", "a1", missed(WORDS))
    await typed(store, "202", "b1", missed("budi punya"))
    data = await store.privacy.subject(anna.id)
    assert data is not None
    assert [(m.at, m.text) for m in data.missed] == [(T0, WORDS)]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"day": "2026-3-2"}, "not YYYY-MM-DD"),
        ({"day": "kemarin"}, "not YYYY-MM-DD"),
        ({"flow_id": "a flow"}, "not an id"),
        ({"node_id": ""}, "not an id"),
        ({"words": ""}, "1-200 characters"),
        ({"words": "x" * (MAX_WORDS_CHARS + 1)}, "1-200 characters"),
    ],
)
def test_a_miss_holds_a_day_ids_and_short_words(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidRecordError, match=problem):
        dataclasses.replace(MENU, **fields)  # type: ignore[arg-type]


def test_the_words_never_show_in_a_repr() -> None:
    assert "RAHASIA" not in repr(missed(WORDS))
