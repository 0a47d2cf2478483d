"""commit_turn_ready: a turn's first reply given back ready to send when it is next in line.

The sender sends such a reply at once instead of looking for due rows and reading the
row again (bot.core.outbox `OutboxSender.offer`), so what it is given must be exactly
what that read would give, and never a reply that must wait behind another.
"""

from __future__ import annotations

from storage_support import at, message, reply, turn

from storage.records import Contact
from storage.store import Store


async def received(store: Store, transport_id: str, address: str = "555") -> tuple[Contact, int]:
    contact, inbox_id = await store.turns.receive("telegram", address, message(transport_id))
    assert inbox_id is not None
    return contact, inbox_id


async def test_the_first_reply_is_given_back_as_the_outbox_would_read_it(store: Store) -> None:
    contact, inbox_id = await received(store, "u1")
    done = await store.turns.commit_turn_ready(
        turn(
            contact.id,
            inbox_id,
            outbound=(
                reply(contact.id, "Selamat datang", options=(("info", "Informasi"),)),
                reply(contact.id, "Apa yang bisa kami bantu?"),
            ),
        )
    )
    assert len(done.outbox_ids) == 2
    assert done.first is not None
    assert done.first == await store.outbox.load(done.outbox_ids[0])
    assert (done.first.address, done.first.text, done.first.attempts) == (
        "555",
        "Selamat datang",
        0,
    )
    assert await store.outbox.count_pending() == 2, "committed pending, like any other row"


async def test_a_reply_behind_a_pending_one_of_the_same_family_is_not_given(store: Store) -> None:
    contact, first_id = await received(store, "u1")
    earlier = await store.turns.commit_turn_ready(
        turn(contact.id, first_id, outbound=(reply(contact.id, "satu"),))
    )
    assert earlier.first is not None
    _, second_id = await received(store, "u2")
    behind = await store.turns.commit_turn_ready(
        turn(contact.id, second_id, outbound=(reply(contact.id, "dua"),))
    )
    assert behind.first is None, "the earlier reply is still pending: it goes first"
    assert len(behind.outbox_ids) == 1

    assert await store.outbox.mark_sent(earlier.outbox_ids[0], "p1", at(1)), "one more pending"
    assert not await store.outbox.mark_sent(behind.outbox_ids[0], "p2", at(2)), "none left"
    _, third_id = await received(store, "u3")
    after = await store.turns.commit_turn_ready(
        turn(contact.id, third_id, outbound=(reply(contact.id, "tiga"),))
    )
    assert after.first is not None and after.first.text == "tiga"


async def test_another_familys_pending_reply_does_not_hold_this_one(store: Store) -> None:
    other, other_inbox = await received(store, "o1", address="777")
    await store.turns.commit_turn_ready(turn(other.id, other_inbox, outbound=(reply(other.id),)))
    contact, inbox_id = await received(store, "u1")
    done = await store.turns.commit_turn_ready(
        turn(contact.id, inbox_id, outbound=(reply(contact.id, "halo"),))
    )
    assert done.first is not None and done.first.address == "555"


async def test_a_reply_due_later_or_no_reply_gives_nothing_to_send_now(store: Store) -> None:
    contact, inbox_id = await received(store, "u1")
    later = await store.turns.commit_turn_ready(
        turn(contact.id, inbox_id, outbound=(reply(contact.id, due=at(3600)),))
    )
    assert later.first is None and len(later.outbox_ids) == 1
    _, quiet_id = await received(store, "u2")
    silent = await store.turns.commit_turn_ready(turn(contact.id, quiet_id))
    assert silent == type(silent)(())


async def test_a_turn_already_committed_gives_nothing_the_second_time(store: Store) -> None:
    contact, inbox_id = await received(store, "u1")
    write = turn(contact.id, inbox_id, outbound=(reply(contact.id),))
    assert (await store.turns.commit_turn_ready(write)).first is not None
    again = await store.turns.commit_turn_ready(write)
    assert again.outbox_ids == () and again.first is None
    assert await store.outbox.count_pending() == 1
