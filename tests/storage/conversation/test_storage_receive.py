"""Receiving: durable on return, deduplicated by channel + transport id, one contact per address."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from storage_support import T0, at, message, open_store, raw_query, raw_update
from support import Clock

from storage.crypto.keys import KeyRing
from storage.errors import InvalidRecordError, WrongKeyError
from storage.records import NewInbound
from storage.store import Store


async def test_first_message_creates_the_contact_and_stores_the_message(store: Store) -> None:
    contact, inbox_id = await store.turns.receive(
        "telegram", "555", message("u1", "Halo, saya butuh bantuan")
    )
    assert inbox_id is not None
    assert contact.channel == "telegram"
    assert contact.language is None
    assert contact.unreachable is False
    assert contact.created_at == T0
    row = await store.inbox.get(inbox_id)
    assert row is not None
    assert (row.contact_id, row.channel, row.transport_id, row.kind) == (
        contact.id,
        "telegram",
        "u1",
        "text",
    )
    assert row.text == "Halo, saya butuh bantuan"
    assert row.received_at == T0
    assert await store.contacts.address(contact.id) == "555"


async def test_same_transport_id_again_is_a_duplicate_and_changes_nothing(
    store: Store, db_path: Path
) -> None:
    contact, first = await store.turns.receive("telegram", "555", message("u1", "halo"))
    snapshot = (
        raw_query(db_path, "SELECT * FROM inbox"),
        raw_query(db_path, "SELECT * FROM contacts"),
    )
    again, second = await store.turns.receive("telegram", "555", message("u1", "halo", when=at(60)))
    assert second is None
    assert again == contact
    assert (
        raw_query(db_path, "SELECT * FROM inbox"),
        raw_query(db_path, "SELECT * FROM contacts"),
    ) == snapshot
    assert await store.inbox.count_pending() == 1


async def test_same_transport_id_on_another_channel_is_a_new_message(store: Store) -> None:
    _, first = await store.turns.receive("telegram", "555", message("m1"))
    _, second = await store.turns.receive("whatsapp", "+628111", message("m1", channel="whatsapp"))
    assert first is not None and second is not None and first != second


@pytest.mark.parametrize(
    ("channel", "addresses", "contacts"),
    [
        ("telegram", ["555", "555", "556"], 2),
        ("whatsapp", ["whatsapp:+6281234567890", "0812-3456-7890", "+62 812 3456 7890"], 1),
        ("whatsapp", ["+6281234567890", "+6281234567891"], 2),
    ],
)
async def test_each_address_is_one_contact(
    store: Store, channel: str, addresses: list[str], contacts: int
) -> None:
    ids = set()
    for number, address in enumerate(addresses):
        contact, _ = await store.turns.receive(
            channel, address, message(f"t{number}", channel=channel)
        )
        ids.add(contact.id)
    assert len(ids) == contacts
    assert await store.contacts.count() == contacts


async def test_contact_keeps_the_address_as_first_given_for_replies(store: Store) -> None:
    contact, _ = await store.turns.receive(
        "whatsapp", "whatsapp:+6281234567890", message("a", channel="whatsapp")
    )
    found = await store.contacts.find("whatsapp", "0812 3456 7890")
    assert found == contact
    assert await store.contacts.address(contact.id) == "whatsapp:+6281234567890"


async def test_same_address_on_two_channels_is_two_contacts(store: Store) -> None:
    a, _ = await store.turns.receive("telegram", "6281234567890", message("a"))
    b, _ = await store.turns.receive("whatsapp", "6281234567890", message("b", channel="whatsapp"))
    assert a.id != b.id


async def test_received_message_survives_reopening(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        contact, inbox_id = await store.turns.receive(
            "telegram", "555", message("u1", "jangan hilang")
        )
    async with await open_store(db_path, keyring, clock=clock) as store:
        pending = await store.inbox.pending()
        assert [(r.id, r.contact_id, r.text) for r in pending] == [
            (inbox_id, contact.id, "jangan hilang")
        ]
        again, duplicate = await store.turns.receive(
            "telegram", "555", message("u1", "jangan hilang")
        )
        assert duplicate is None and again.id == contact.id


async def test_pending_lists_unprocessed_messages_oldest_first_up_to_the_limit(
    store: Store,
) -> None:
    for number in range(5):
        await store.turns.receive(
            "telegram", str(100 + number % 2), message(f"u{number}", f"pesan {number}")
        )
    assert [r.text for r in await store.inbox.pending(limit=3)] == ["pesan 0", "pesan 1", "pesan 2"]
    assert await store.inbox.count_pending() == 5


async def test_last_seen_follows_the_newest_message(store: Store, db_path: Path) -> None:
    await store.turns.receive("telegram", "555", message("u1", when=at(10)))
    await store.turns.receive("telegram", "555", message("u2", when=at(90)))
    await store.turns.receive("telegram", "555", message("u3", when=at(30)))
    assert raw_query(db_path, "SELECT last_seen_at FROM contacts") == [
        (raw_query(db_path, "SELECT max(received_at) FROM inbox")[0][0],)
    ]


async def test_message_for_another_channel_is_refused_and_nothing_is_stored(store: Store) -> None:
    with pytest.raises(
        InvalidRecordError, match="message of channel 'whatsapp' received on 'telegram'"
    ):
        await store.turns.receive("telegram", "555", message("u1", channel="whatsapp"))
    assert await store.contacts.count() == 0
    assert await store.inbox.count_pending() == 0


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: NewInbound("telegram", "u1", "gif", "x", T0), "kind 'gif' is not one of"),
        (lambda: NewInbound("telegram", "", "text", "x", T0), "transport_id is empty"),
        (
            lambda: NewInbound("telegram", "u1", "text", "x", T0.replace(tzinfo=None)),
            "received_at is a naive datetime",
        ),
    ],
    ids=["unknown kind", "empty transport id", "naive time"],
)
def test_unusable_inbound_is_refused_when_built(
    build: Callable[[], NewInbound], error: str
) -> None:
    with pytest.raises(InvalidRecordError, match=error):
        build()


async def test_data_key_under_an_unknown_master_key_is_reported(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await store.turns.receive("telegram", "555", message("u1"))
    raw_update(db_path, "UPDATE contact_keys SET master_key_id = 'deadbeef'")
    async with await open_store(db_path, keyring, clock=clock) as store:
        with pytest.raises(
            WrongKeyError, match="wrapped under master key id deadbeef, which a generated"
        ):
            await store.inbox.pending()


async def test_empty_address_is_refused(store: Store) -> None:
    with pytest.raises(InvalidRecordError, match="the telegram address is empty"):
        await store.turns.receive("telegram", "  ", message("u1"))
    assert await store.contacts.count() == 0
