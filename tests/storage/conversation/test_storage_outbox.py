"""The outbox as the sender sees it: what is due, in what order, and what each mark does."""

from __future__ import annotations

import pytest
from storage_support import T0, at, message, reply

from storage.errors import InvalidRecordError, NotFoundError
from storage.store import Store


async def contact_id(store: Store, address: str = "555") -> int:
    contact, _ = await store.turns.receive("telegram", address, message(f"from-{address}"))
    return contact.id


async def test_due_orders_by_priority_then_due_time_then_id(store: Store) -> None:
    cid = await contact_id(store)
    ids = await store.outbox.enqueue(
        [
            reply(cid, "routine later", priority=5, due=at(20)),
            reply(cid, "routine early", priority=5, due=at(10)),
            reply(cid, "urgent late", priority=0, due=at(30)),
            reply(cid, "routine early twin", priority=5, due=at(10)),
            reply(cid, "not yet", priority=0, due=at(100)),
        ]
    )
    due = await store.outbox.due(at(60))
    assert [r.text for r in due] == [
        "urgent late",
        "routine early",
        "routine early twin",
        "routine later",
    ]
    assert [r.id for r in due] == [ids[2], ids[1], ids[3], ids[0]]
    assert [r.text for r in await store.outbox.due(at(60), limit=2)] == [
        "urgent late",
        "routine early",
    ]


async def test_row_is_due_exactly_at_its_due_time(store: Store) -> None:
    cid = await contact_id(store)
    await store.outbox.enqueue([reply(cid, "pengingat", due=at(3600))])
    assert await store.outbox.due(at(3599)) == []
    assert [r.text for r in await store.outbox.due(at(3600))] == ["pengingat"]


async def test_retry_hides_the_row_until_the_retry_time(store: Store) -> None:
    cid = await contact_id(store)
    (row_id,) = await store.outbox.enqueue([reply(cid, "coba lagi")])
    await store.outbox.mark_retry(row_id, "RetryLater", at(30))
    assert await store.outbox.due(at(29)) == []
    assert await store.outbox.next_due_at() == at(30)
    (again,) = await store.outbox.due(at(30))
    assert (again.id, again.attempts) == (row_id, 1)
    assert await store.outbox.count_pending() == 1


async def test_an_ended_upstream_fault_brings_its_retries_forward_with_or_without_a_limit(
    store: Store,
) -> None:
    """Found on PostgreSQL: no limit was SQLite's `LIMIT -1`, an error there."""
    cid = await contact_id(store)
    ids = await store.outbox.enqueue([reply(cid, f"balasan {n}") for n in range(3)])
    for n, row_id in enumerate(ids):
        await store.outbox.mark_retry(row_id, "server_error", at(60 + n))
    assert await store.outbox.retry_now("telegram", ["server_error"], at(1), limit=1) == 1
    assert [r.id for r in await store.outbox.due(at(1))] == [ids[0]]
    assert await store.outbox.retry_now("telegram", ["server_error"], at(2)) == 2
    assert [r.id for r in await store.outbox.due(at(2))] == ids


async def test_next_due_at_is_the_earliest_sendable_moment(store: Store) -> None:
    assert await store.outbox.next_due_at() is None
    cid = await contact_id(store)
    first, second = await store.outbox.enqueue(
        [reply(cid, "a", due=at(10)), reply(cid, "b", due=at(50))]
    )
    assert await store.outbox.next_due_at() == at(10)
    await store.outbox.mark_retry(first, "Timeout", at(90))
    assert await store.outbox.next_due_at() == at(50)
    await store.outbox.mark_sent(second, "p-2", at(50))
    assert await store.outbox.next_due_at() == at(90)


async def test_sent_row_leaves_the_queue_and_a_second_mark_changes_nothing(store: Store) -> None:
    cid = await contact_id(store)
    (row_id,) = await store.outbox.enqueue([reply(cid, "terkirim")])
    await store.outbox.mark_sent(row_id, "tg-77", at(1))
    await store.outbox.mark_sent(row_id, "tg-78", at(2))
    await store.outbox.mark_failed(row_id, "Forbidden", at(3))
    assert await store.outbox.due(at(10)) == []
    assert await store.outbox.count_pending() == 0


async def test_failed_row_is_never_due_again(store: Store) -> None:
    cid = await contact_id(store)
    (row_id,) = await store.outbox.enqueue([reply(cid, "gagal")])
    await store.outbox.mark_failed(row_id, "Forbidden", at(1))
    assert await store.outbox.due(at(10_000)) == []
    assert await store.outbox.next_due_at() is None


@pytest.mark.parametrize("mark", ["sent", "retry", "failed"])
async def test_marking_an_unknown_row_is_an_error(store: Store, mark: str) -> None:
    with pytest.raises(NotFoundError, match="outbox row 404 does not exist"):
        if mark == "sent":
            await store.outbox.mark_sent(404, None, T0)
        elif mark == "retry":
            await store.outbox.mark_retry(404, "Timeout", T0)
        else:
            await store.outbox.mark_failed(404, "Timeout", T0)


@pytest.mark.parametrize("code", ["", "chat 628123456789 not found", "x" * 65, "kode\nbaru"])
async def test_error_codes_must_be_short_machine_codes(store: Store, code: str) -> None:
    cid = await contact_id(store)
    (row_id,) = await store.outbox.enqueue([reply(cid, "x")])
    with pytest.raises(InvalidRecordError, match="error code must be 1-64 characters"):
        await store.outbox.mark_retry(row_id, code, at(5))
    with pytest.raises(InvalidRecordError, match="error code must be 1-64 characters"):
        await store.outbox.mark_failed(row_id, code, at(5))


async def test_enqueue_returns_ids_in_order_and_rows_carry_each_recipients_address(
    store: Store,
) -> None:
    family = await contact_id(store, "555")
    counsellor = await contact_id(store, "900")
    items = [reply(family if n % 2 else counsellor, f"pesan {n}", due=at(n)) for n in range(150)]
    ids = await store.outbox.enqueue(items)
    assert ids == sorted(ids) and len(set(ids)) == 150
    due = await store.outbox.due(at(200), limit=200)
    assert [(r.text, r.address) for r in due] == [
        (f"pesan {n}", "555" if n % 2 else "900") for n in range(150)
    ]


async def test_unreachable_flag_is_recorded_and_cleared(store: Store) -> None:
    cid = await contact_id(store)
    await store.contacts.mark_unreachable(cid, True)
    flagged = await store.contacts.get(cid)
    assert flagged is not None and flagged.unreachable
    await store.contacts.mark_unreachable(cid, False)
    cleared = await store.contacts.get(cid)
    assert cleared is not None and not cleared.unreachable
    with pytest.raises(NotFoundError, match="contact 77 does not exist"):
        await store.contacts.mark_unreachable(77, True)


async def test_naive_due_time_is_refused_when_built() -> None:
    with pytest.raises(InvalidRecordError, match="NewOutbound.due_at is a naive datetime"):
        reply(1, due=T0.replace(tzinfo=None))
