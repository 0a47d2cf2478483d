"""The encryption claims, proved on the real files: nothing readable, nothing movable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from storage_support import T0, message, open_store, raw_query, raw_update, reply, turn
from support import Clock
from support.backups import readable_bytes, take_backup

from storage.crypto.keys import KeyRing, MasterKey, generate_key_file
from storage.errors import DecryptError, WrongKeyError
from storage.records import ConsentRecord
from storage.store import Store

CHAT_ID = "987654321012"
PHONE = "+62 812-9988-7766"
MARKERS = {
    "chat id": CHAT_ID,
    "phone": "81299887766",
    "inbox text": "PENANDA-PESAN-7f3a Ibu saya dipukul lagi",
    "whatsapp text": "PENANDA-WA-0c41",
    "transport id": "PENANDA-TRANSPORT-91",
    "outbox text": "PENANDA-BALASAN-22c1",
    "option label": "PENANDA-PILIHAN-8d",
    "session state": "PENANDA-SESI-55",
}
PLAIN_CONTROL = "PENANDA-KONTROL-TERBUKA-3e"


def file_bytes(db_path: Path) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db_path}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def leaks(db_path: Path) -> list[tuple[str, str]]:
    return [
        (label, name)
        for name, data in file_bytes(db_path).items()
        for label, marker in MARKERS.items()
        if marker.encode() in data
    ]


async def write_markers(store: Store) -> None:
    contact, inbox_id = await store.turns.receive(
        "telegram",
        CHAT_ID,
        message(MARKERS["transport id"], MARKERS["inbox text"]),
    )
    assert inbox_id is not None
    options = (("ya", MARKERS["option label"]),)
    await store.turns.commit_turn(
        turn(
            contact.id,
            inbox_id,
            state='{"note": "' + MARKERS["session state"] + '"}',
            outbound=(reply(contact.id, MARKERS["outbox text"], options=options),),
            consent=ConsentRecord(True, "2026-01"),
        )
    )
    await store.turns.receive(
        "whatsapp", PHONE, message("SM-1", MARKERS["whatsapp text"], channel="whatsapp")
    )
    # A plain (unencrypted) value, to prove the scan can see what is written.
    await store.flows.publish("control", "1", PLAIN_CONTROL, T0)


@pytest.mark.sqlite_only("the test reads the SQLite file's bytes and its WAL")
async def test_personal_data_is_nowhere_in_the_database_wal_or_shm(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    store = await open_store(db_path, keyring, clock=clock)
    try:
        await write_markers(store)
        before = file_bytes(db_path)
        assert "lk3.db-wal" in before
        assert any(PLAIN_CONTROL.encode() in data for data in before.values())
        assert leaks(db_path) == []
        # And everything still reads back through the store.
        rows = await store.outbox.due(T0)
        assert rows[0].text == MARKERS["outbox text"]
        assert rows[0].address == CHAT_ID
    finally:
        await store.close()
    after = file_bytes(db_path)
    assert PLAIN_CONTROL.encode() in after["lk3.db"]  # checkpointed into the main file
    assert leaks(db_path) == []


async def test_personal_data_is_nowhere_in_a_backup_on_either_database(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """The SQLite copy, or the pg_dump archive read as pg_restore replays it."""
    async with await open_store(db_path, keyring, clock=clock) as store:
        await write_markers(store)
        backup = take_backup(db_path, tmp_path / "backup")
    assert backup.stat().st_mode & 0o777 == 0o600
    data = readable_bytes(backup)
    assert PLAIN_CONTROL.encode() in data  # the scan sees what is stored in the clear
    found = [
        label
        for label, marker in MARKERS.items()
        if marker.encode() in data or marker.encode().hex().encode() in data
    ]
    assert found == []


async def make_two_contacts(db_path: Path, keyring: KeyRing, clock: Clock) -> None:
    """Contact 1 has inbox rows 1 and 2 (with outbox rows 1 and 2); contact 2 has row 3."""
    async with await open_store(db_path, keyring, clock=clock) as store:
        first, one = await store.turns.receive("telegram", "111", message("u1", "pesan pertama"))
        _, two = await store.turns.receive("telegram", "111", message("u2", "pesan kedua"))
        second, three = await store.turns.receive("telegram", "222", message("u3", "pesan lain"))
        assert (one, two, three) == (1, 2, 3)
        for contact_id, inbox_id in ((first.id, 1), (first.id, 2), (second.id, 3)):
            await store.turns.commit_turn(
                turn(
                    contact_id,
                    inbox_id,
                    state=f'{{"turn": {inbox_id}}}',
                    outbound=(reply(contact_id, f"balasan {inbox_id}"),),
                )
            )


Read = Callable[[Store], Awaitable[object]]

MOVES: list[tuple[str, str, Read, str]] = [
    (
        "inbox text to another row of the same contact",
        "UPDATE inbox SET text_enc = (SELECT text_enc FROM inbox WHERE id = 1) WHERE id = 2",
        lambda s: s.inbox.get(2),
        "inbox.text of row",
    ),
    (
        "inbox text into the transport id column of its own row",
        "UPDATE inbox SET transport_id_enc = text_enc WHERE id = 1",
        lambda s: s.inbox.get(1),
        "inbox.transport_id of row",
    ),
    (
        "outbox body to another row of the same contact",
        "UPDATE outbox SET body_enc = (SELECT body_enc FROM outbox WHERE id = 1) WHERE id = 2",
        lambda s: s.outbox.due(T0),
        "outbox.body of row",
    ),
    (
        "session state to another contact",
        "UPDATE sessions SET state_enc = (SELECT state_enc FROM sessions WHERE contact_id = 1)"
        " WHERE contact_id = 2",
        lambda s: s.sessions.get(2),
        "sessions.state of row 2",
    ),
    (
        "address to another contact",
        "UPDATE contacts SET address_enc = (SELECT address_enc FROM contacts WHERE id = 1)"
        " WHERE id = 2",
        lambda s: s.contacts.address(2),
        "contacts.address of row",
    ),
    (
        "wrapped data key to another contact",
        "UPDATE contact_keys SET wrapped = (SELECT wrapped FROM contact_keys WHERE contact_id = 1)"
        " WHERE contact_id = 2",
        lambda s: s.sessions.get(2),
        "contact_keys.dek of row 2",
    ),
]


@pytest.mark.parametrize(
    ("sql", "read", "where"), [m[1:] for m in MOVES], ids=[m[0] for m in MOVES]
)
async def test_ciphertext_moved_elsewhere_fails_to_decrypt(
    db_path: Path, keyring: KeyRing, clock: Clock, sql: str, read: Read, where: str
) -> None:
    await make_two_contacts(db_path, keyring, clock)
    raw_update(db_path, sql)
    async with await open_store(db_path, keyring, clock=clock) as store:
        with pytest.raises(DecryptError, match=f"cannot decrypt {where}") as caught:
            await read(store)
    assert "pesan" not in str(caught.value)
    assert "balasan" not in str(caught.value)


async def test_untouched_rows_still_read_after_a_neighbour_is_tampered_with(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await make_two_contacts(db_path, keyring, clock)
    raw_update(db_path, MOVES[0][1])
    async with await open_store(db_path, keyring, clock=clock) as store:
        row = await store.inbox.get(1)
        assert row is not None and row.text == "pesan pertama"


async def test_wrong_key_file_is_refused_with_a_clear_error(
    tmp_path: Path, db_path: Path, clock: Clock
) -> None:
    right = tmp_path / "right.key"
    wrong = tmp_path / "wrong.key"
    right_id = generate_key_file(right)
    generate_key_file(wrong)
    async with await open_store(db_path, KeyRing.load(right, {}), clock=clock) as store:
        await store.turns.receive("telegram", "111", message("u1", "rahasia"))
    with pytest.raises(WrongKeyError) as caught:
        await open_store(db_path, KeyRing.load(wrong, {}), clock=clock)
    assert str(caught.value) == (
        f"the master key(s) in key file {wrong} do not match this database"
        f" (it expects key id {right_id})"
    )
    # The refused key was not recorded, and the right key still reads everything.
    assert raw_query(db_path, "SELECT key_id FROM master_keys") == [(right_id,)]
    async with await open_store(db_path, KeyRing.load(right, {}), clock=clock) as store:
        pending = await store.inbox.pending()
        assert [row.text for row in pending] == ["rahasia"]


async def test_a_different_key_under_a_known_id_is_refused(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await (await open_store(db_path, keyring, clock=clock)).close()
    impostor = KeyRing((MasterKey(keyring.primary.key_id, bytes(32)),), "test ring")
    with pytest.raises(WrongKeyError, match="is not the key this database knows by that id"):
        await open_store(db_path, impostor, clock=clock)


async def test_new_first_key_with_an_old_known_key_starts_rotation(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    old = keyring.primary
    async with await open_store(db_path, keyring, clock=clock) as store:
        await store.turns.receive("telegram", "111", message("u1", "lama"))
    new = MasterKey.generate()
    async with await open_store(db_path, KeyRing((new, old), "both"), clock=clock) as store:
        await store.turns.receive("telegram", "222", message("u2", "baru"))
        assert [r.text for r in await store.inbox.pending()] == ["lama", "baru"]
    recorded = {row[0] for row in raw_query(db_path, "SELECT key_id FROM master_keys")}
    assert recorded == {old.key_id, new.key_id}
    wrapped_under = raw_query(db_path, "SELECT master_key_id FROM contact_keys ORDER BY contact_id")
    assert wrapped_under == [(old.key_id,), (new.key_id,)]
    # Dropping the old key before rotation has rewrapped its keys is reported, not garbled.
    with pytest.raises(WrongKeyError, match=f"wrapped under master key id {old.key_id}"):
        await open_store(db_path, KeyRing((new,), "new only"), clock=clock)
