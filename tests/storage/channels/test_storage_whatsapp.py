"""WhatsApp's window and held replies, and delivery receipts (migration 0006)."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_support import T0, at, message, raw_query, reply

from storage.errors import InvalidRecordError
from storage.store import Store

NUMBER = "whatsapp:+6281234567001"


async def whatsapp_family(store: Store, transport_id: str = "w1", seconds: float = 0) -> int:
    contact, _ = await store.turns.receive(
        "whatsapp", NUMBER, message(transport_id, channel="whatsapp", when=at(seconds))
    )
    return contact.id


async def test_a_whatsapp_message_opens_the_window_in_the_same_write(store: Store) -> None:
    family = await whatsapp_family(store, "w1", 0)
    await whatsapp_family(store, "w2", 3600)
    window = await store.whatsapp.for_contact(family)
    assert window is not None and window.last_inbound_at == at(3600)
    telegram, _ = await store.turns.receive("telegram", "555", message("t1"))
    other = await store.whatsapp.for_contact(telegram.id)
    assert other is not None and other.last_inbound_at is None


async def test_a_held_reply_leaves_the_queue_until_the_family_writes_again(
    store: Store,
) -> None:
    family = await whatsapp_family(store)
    [held] = await store.outbox.enqueue([reply(family, "Halo Ibu", channel="whatsapp")])
    assert await store.whatsapp.hold(held, at(7 * 86400), at(90000))
    assert await store.outbox.heads(at(90001)) == []
    window = await store.whatsapp.for_row(held)
    assert window is not None and window.held_at == at(90000)
    assert await store.whatsapp.held(family) == [held]

    await whatsapp_family(store, "w2", 100000)
    [head] = await store.outbox.heads(at(100000))
    assert head.id == held and head.due_at == at(100000)
    assert await store.whatsapp.held(family) == []


async def test_the_notice_is_noted_until_the_family_writes_again(store: Store) -> None:
    family = await whatsapp_family(store)
    await store.whatsapp.notified(family, at(90000))
    window = await store.whatsapp.for_contact(family)
    assert window is not None and window.notified_at == at(90000)
    await whatsapp_family(store, "w2", 100000)
    window = await store.whatsapp.for_contact(family)
    assert window is not None and window.notified_at is None


async def test_receipts_move_forward_only_and_count_failures(store: Store) -> None:
    family = await whatsapp_family(store)
    [row] = await store.outbox.enqueue([reply(family, channel="whatsapp")])
    await store.outbox.mark_sent(row, "SMa", T0)
    assert await store.outbox.record_status("SMzz", "sent", T0) is None

    steps = [("SMa", "delivered", None), ("SMa", "sent", None), ("SMa", "read", None)]
    seen = []
    for provider_id, status, code in steps:
        update = await store.outbox.record_status(provider_id, status, T0, error_code=code)
        assert update is not None
        seen.append((update.status, update.changed))
    assert seen == [("delivered", True), ("delivered", False), ("read", True)]
    failed = await store.outbox.record_status(
        "SMb", "failed", T0, outbox_id=row, error_code="30003"
    )
    assert failed is not None and (failed.failures, failed.row_status) == (1, "sent")
    assert await store.deliveries.status_of(row) == ("failed", T0)


@pytest.mark.parametrize(
    ("provider_id", "status", "code"),
    [("SM 1", "sent", None), ("SMa", "lost", None), ("SMa", "failed", "no spaces")],
)
async def test_a_malformed_receipt_is_refused(
    store: Store, provider_id: str, status: str, code: str | None
) -> None:
    with pytest.raises(InvalidRecordError, match="record_status"):
        await store.outbox.record_status(provider_id, status, T0, error_code=code)


async def test_a_sent_reply_can_go_back_to_the_queue_or_fail_but_only_once(store: Store) -> None:
    family = await whatsapp_family(store)
    [row] = await store.outbox.enqueue([reply(family, channel="whatsapp")])
    await store.outbox.mark_sent(row, "SMa", T0)
    assert await store.deliveries.retry_sent(row, "twilio_30003", at(60))
    assert not await store.deliveries.retry_sent(row, "twilio_30003", at(60))
    assert await store.outbox.heads(at(59)) == []
    [head] = await store.outbox.heads(at(60))
    assert head.attempts == 2
    await store.outbox.mark_sent(row, "SMb", at(60))
    assert await store.deliveries.fail_sent(row, "opted_out", at(61))
    assert not await store.deliveries.fail_sent(row, "opted_out", at(61))


async def test_erasing_a_whatsapp_family_takes_its_window_receipts_and_held_replies(
    store: Store, db_path: Path
) -> None:
    family = await whatsapp_family(store)
    first, second = await store.outbox.enqueue(
        [reply(family, channel="whatsapp"), reply(family, "Kedua", channel="whatsapp")]
    )
    await store.outbox.mark_sent(first, "SMa", T0)
    await store.outbox.record_status("SMa", "delivered", T0, outbox_id=first)
    await store.whatsapp.hold(second, at(86400), at(1))
    assert await store.erasure.erase(
        family, reason="purge", actor="cli", why="t", unless_busy=False
    )
    for table in ("whatsapp_windows", "whatsapp_held", "deliveries"):
        assert raw_query(db_path, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert raw_query(db_path, "SELECT count(*) FROM outbox") == [(0,)]
