"""An office's own channel instances in storage (`telegram:tual`, `whatsapp:tual`;
migration 0024): a family first seen on an office's bot starts in that office, one
person writing to two bots is two contacts, and an office's WhatsApp sender opens
the 24-hour window as `[whatsapp]`'s does. On both backends (`--db postgres`)."""

from __future__ import annotations

from storage_support import T0, at, message, reply

from storage.channels.instances import instance_name, kind_of, office_of
from storage.offices.repo import DEFAULT_OFFICE_ID
from storage.store import Store

NUMBER = "whatsapp:+6281234567001"


async def test_a_family_first_seen_on_an_offices_bot_starts_in_that_office(store: Store) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    on_tual, _ = await store.turns.receive(
        "telegram:tual", "7001", message("t1", channel="telegram:tual")
    )
    on_default, _ = await store.turns.receive("telegram", "7001", message("t2"))
    assert on_tual.id != on_default.id, "the same person on two bots is two contacts"
    assert on_tual.channel == "telegram:tual"
    assert await store.offices.office_of_contact(on_tual.id) == tual.id
    assert await store.offices.office_of_contact(on_default.id) == DEFAULT_OFFICE_ID
    again, inbox_id = await store.turns.receive(
        "telegram:tual", "7001", message("t3", channel="telegram:tual")
    )
    assert again.id == on_tual.id and inbox_id is not None
    found = await store.contacts.find("telegram:tual", "7001")
    assert found is not None and found.id == on_tual.id


async def test_an_office_the_database_lacks_leaves_the_family_in_the_default_office(
    store: Store,
) -> None:
    channel = "telegram:saumlaki"
    contact, _ = await store.turns.receive(channel, "7001", message("t1", channel=channel))
    assert await store.offices.office_of_contact(contact.id) == DEFAULT_OFFICE_ID


async def test_a_message_to_an_offices_whatsapp_sender_opens_the_window_and_releases_held(
    store: Store,
) -> None:
    await store.offices.add("tual", "LK3 Kota Tual", T0)
    channel = "whatsapp:tual"
    family, _ = await store.turns.receive(channel, NUMBER, message("w1", channel=channel))
    window = await store.whatsapp.for_contact(family.id)
    assert window is not None and window.last_inbound_at == T0
    [held] = await store.outbox.enqueue([reply(family.id, "Halo Ibu", channel=channel)])
    assert await store.whatsapp.hold(held, at(7 * 86400), at(90000))
    assert await store.outbox.heads(at(90001)) == []
    later = message("w2", channel=channel, when=at(100000))
    await store.turns.receive(channel, NUMBER, later)
    [head] = await store.outbox.heads(at(100000))
    assert head.id == held and head.channel == channel
    # Spelling variants of the number find the one contact, as on `whatsapp`.
    same = await store.contacts.find(channel, "+62 812-3456-7001")
    assert same is not None and same.id == family.id


def test_channel_names_say_their_adapter_and_office() -> None:
    assert instance_name("telegram", "") == "telegram"
    assert instance_name("telegram", "tual") == "telegram:tual"
    assert (kind_of("whatsapp:tual"), office_of("whatsapp:tual")) == ("whatsapp", "tual")
    assert (kind_of("webchat"), office_of("webchat")) == ("webchat", "")
