"""A family's photo or voice note in storage: where to fetch it is kept only until its turn,
the bytes only sealed under the family's key, and nothing of either survives erasure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from storage_support import T0, message, raw_query, turn
from support.media import ogg_opus, png

from storage.errors import InvalidRecordError
from storage.media.records import MediaRef
from storage.records import NewInbound
from storage.store import Store

LOCATOR = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


def voice(transport_id: str = "wa-1", ref: MediaRef | None = None) -> NewInbound:
    item = message(transport_id, "", kind="voice", channel="whatsapp")
    return replace(item, media=ref or MediaRef(LOCATOR, "audio/ogg", 2048))


async def received(store: Store, item: NewInbound) -> tuple[int, int]:
    contact, inbox_id = await store.turns.receive(item.channel, "whatsapp:+6281200000001", item)
    assert inbox_id is not None
    return contact.id, inbox_id


async def test_where_to_fetch_a_voice_note_is_stored_sealed_with_its_message(
    store: Store, db_path: Path
) -> None:
    _, inbox_id = await received(store, voice())
    item = await store.media.of_message(inbox_id)
    assert item is not None and (item.kind, item.status) == ("voice", "waiting")
    assert await store.media.ref(item.id) == MediaRef(LOCATOR, "audio/ogg", 2048)
    assert not any(
        b"twilio" in bytes(cell) for (cell,) in raw_query(db_path, "SELECT locator_enc FROM media")
    )


async def test_a_text_or_a_sticker_keeps_no_media_row(store: Store) -> None:
    _, text_id = await received(store, message("wa-2", "halo", channel="whatsapp"))
    sticker = replace(message("wa-3", "", kind="sticker", channel="whatsapp"), media=MediaRef("x"))
    _, sticker_id = await received(store, sticker)
    assert await store.media.of_message(text_id) is None
    assert await store.media.of_message(sticker_id) is None


async def test_a_locator_nobody_fetched_goes_with_its_turn(store: Store) -> None:
    contact_id, inbox_id = await received(store, voice())
    await store.turns.commit_turn(turn(contact_id, inbox_id))
    assert await store.media.of_message(inbox_id) is None


async def test_kept_bytes_are_sealed_and_survive_the_turn(store: Store, db_path: Path) -> None:
    contact_id, inbox_id = await received(store, voice())
    item = await store.media.of_message(inbox_id)
    assert item is not None
    audio = ogg_opus(0.5)
    kept = await store.media.settle(item.id, "stored", mime="audio/ogg", data=audio)
    assert kept is not None and (kept.status, kept.size, kept.mime) == (
        "stored",
        len(audio),
        "audio/ogg",
    )
    await store.turns.commit_turn(turn(contact_id, inbox_id))
    content = await store.media.content(item.id)
    assert content is not None and content.data == audio and content.received_at == T0
    ((sealed, locator),) = raw_query(db_path, "SELECT data_enc, locator_enc FROM media")
    assert b"OggS" not in bytes(sealed) and locator is None
    assert await store.media.for_contact(contact_id) == {inbox_id: kept}


async def test_a_row_settled_once_is_not_settled_again(store: Store) -> None:
    _, inbox_id = await received(store, voice())
    item = await store.media.of_message(inbox_id)
    assert item is not None
    await store.media.settle(item.id, "too_large")
    again = await store.media.settle(item.id, "stored", mime="image/png", data=png())
    assert again is not None and again.status == "too_large" and again.size == 0
    assert await store.media.content(item.id) is None
    assert await store.media.ref(item.id) is None


async def test_bytes_go_exactly_with_the_stored_status(store: Store) -> None:
    with pytest.raises(InvalidRecordError):
        await store.media.settle(1, "stored")
    with pytest.raises(InvalidRecordError):
        await store.media.settle(1, "failed", data=b"x")
    with pytest.raises(InvalidRecordError):
        await store.media.settle(1, "waiting")


async def test_erasure_takes_the_media_and_its_key(store: Store, db_path: Path) -> None:
    contact_id, inbox_id = await received(store, voice())
    item = await store.media.of_message(inbox_id)
    assert item is not None
    await store.media.settle(item.id, "stored", mime="audio/ogg", data=ogg_opus(0.2))
    await store.turns.commit_turn(turn(contact_id, inbox_id))
    assert await store.erasure.erase(contact_id, reason="purge", actor="cli", why="test")
    assert raw_query(db_path, "SELECT count(*) FROM media") == [(0,)]
    assert await store.media.content(item.id) is None
    assert store.erasure.is_erased(contact_id)


async def test_a_person_who_declines_keeps_no_photo_or_voice_note_either(store: Store) -> None:
    contact_id, inbox_id = await received(store, voice())
    item = await store.media.of_message(inbox_id)
    assert item is not None
    await store.media.settle(item.id, "stored", mime="audio/ogg", data=ogg_opus(0.2))
    await store.turns.commit_turn(replace(turn(contact_id, inbox_id), forget_text=True))
    assert await store.media.of_message(inbox_id) is None
    assert await store.media.content(item.id) is None
