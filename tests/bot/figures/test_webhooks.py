"""Signed case webhooks: what a province system receives, checked as it would check it,
through a receiver that fails, a sender that dies mid-delivery, and a restart."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from receiver_support import SECRET, Receiver, receiving
from support import Clock
from support.stores import open_store

from bot.figures.config import Webhook
from bot.figures.signing import TOLERANCE, sign, verify
from bot.figures.webhooks import LEASE_SECONDS, WebhookSender, retry_wait
from storage.crypto.keys import KeyRing
from storage.handoff.records import AlertRef, LiveCase
from storage.records import CaseOpen, NewInbound, NewOutbound, TurnWrite
from storage.store import Store

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def nothing(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
    return []


async def open_case(store: Store, chat: str, clock: Clock) -> LiveCase:
    contact, inbox_id = await store.turns.receive(
        "telegram", chat, NewInbound("telegram", f"{chat}:1", "text", "tolong saya", clock())
    )
    assert inbox_id is not None
    await store.turns.commit_turn(
        TurnWrite(
            inbox_id=inbox_id,
            contact_id=contact.id,
            session_state='{"node": "start"}',
            outbound=(),
            processed_at=clock(),
            cases=(CaseOpen("kdrt", "darurat"),),
        )
    )
    case = await store.handoff.live_for(contact.id)
    assert case is not None
    return case


def sender(store: Store, receiver: Receiver, clock: Clock) -> WebhookSender:
    return WebhookSender(store, [Webhook("provinsi", receiver.url, SECRET)], clock=clock)


async def test_a_case_s_life_arrives_signed_in_order_with_codes_only(
    tmp_path: Path, clock_at_t0: Clock
) -> None:
    clock = clock_at_t0
    store = await open_store(tmp_path / "lk3.db", KeyRing.generate(), clock=clock)
    async with receiving(clock().timestamp()) as receiver:
        out = sender(store, receiver, clock)
        try:
            await out.sync()
            case = await open_case(store, "6281234", clock)
            staff = (await store.staff.add("sari", "Sari Wattimena", ["counsellor"], clock())).id
            await store.handoff.take(case.id, staff, clock(), nothing)
            await store.handoff.relay(case.id, staff, "out:1", clock(), [])
            await store.handoff.refer(case.id, staff, "uptd_ppa", clock())
            await store.handoff.close(case.id, staff, "dirujuk", clock(), nothing)
            await out.tick()
        finally:
            await out.close()
            await store.close()
    assert receiver.bad_signatures == 0
    assert [t["type"] for t in receiver.taken] == [
        "case.opened",
        "case.first_reply",
        "case.referred",
        "case.closed",
    ]
    assert all(t["case"]["code"] == case.code for t in receiver.taken)
    text = json.dumps(receiver.taken)
    for secret_thing in ("6281234", "Sari", "tolong"):
        assert secret_thing not in text


async def test_a_receiver_answering_500_gets_the_same_event_again_after_the_wait(
    tmp_path: Path, clock_at_t0: Clock
) -> None:
    clock = clock_at_t0
    store = await open_store(tmp_path / "lk3.db", KeyRing.generate(), clock=clock)
    async with receiving(clock().timestamp()) as receiver:
        receiver.statuses = [500]
        out = sender(store, receiver, clock)
        try:
            await out.sync()
            await open_case(store, "1", clock)
            await open_case(store, "2", clock)
            pause = await out.tick()
            assert pause == pytest.approx(retry_wait(1))
            assert len(receiver.seen) == 1 and receiver.taken == []
            await out.tick()  # still paused: nothing sent
            assert len(receiver.seen) == 1
            clock.advance(retry_wait(1))
            receiver.now = clock().timestamp()
            await out.tick()
            (state,) = await store.webhooks.endpoints()
        finally:
            await out.close()
            await store.close()
    first, *_ = receiver.seen
    assert receiver.seen == [first, first, receiver.seen[2]], "the failed one first, then on"
    assert [t["id"] for t in receiver.taken] == [first, receiver.seen[2]]
    assert (state.pending, state.delivered, state.failures) == (0, 2, 0)


async def test_a_sender_killed_mid_delivery_delivers_after_a_restart_once_deduped(
    tmp_path: Path, clock_at_t0: Clock
) -> None:
    clock = clock_at_t0
    keyring = KeyRing.generate()
    path = tmp_path / "lk3.db"
    store = await open_store(path, keyring, clock=clock)
    async with receiving(clock().timestamp()) as receiver:
        out = sender(store, receiver, clock)
        await out.sync()
        await open_case(store, "1", clock)
        receiver.hang_next = True
        pass_ = asyncio.create_task(out.tick())
        await receiver.arrived.wait()  # the receiver has the request: now the sender dies
        pass_.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pass_
        await out.close()
        await store.close()
        receiver.release.set()

        clock.advance(LEASE_SECONDS + 1)  # the dead process's lease runs out
        receiver.now = clock().timestamp()
        store = await open_store(path, keyring, clock=clock)
        again = sender(store, receiver, clock)
        try:
            await again.sync()
            await again.tick()
            (state,) = await store.webhooks.endpoints()
        finally:
            await again.close()
            await store.close()
    assert len(receiver.seen) == 2 and receiver.seen[0] == receiver.seen[1], "at least once"
    assert len(receiver.taken) == 1, "the receiver dedupes by the event id"
    assert (state.pending, state.delivered) == (0, 1)


def test_a_signature_is_refused_when_altered_stale_or_from_another_secret() -> None:
    body = b'{"id":"evt_1"}'
    now = 1_793_526_000
    good = sign(SECRET, now, body)
    assert verify(SECRET, str(now), good, body, now + 10)
    assert not verify(SECRET, str(now), good, body + b" ", now)
    assert not verify(SECRET, str(now), good, body, now + TOLERANCE + 1), "a replay later"
    assert not verify("x" * 40, str(now), good, body, now)
    assert not verify(SECRET, "１２３", good, body, now)


@pytest.fixture
def clock_at_t0() -> Clock:
    return Clock(T0)


def test_the_wait_doubles_to_an_hour() -> None:
    assert [retry_wait(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert retry_wait(40) == 3600.0
    assert timedelta(seconds=retry_wait(12)) <= timedelta(hours=1)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"provinsi": {"url": "ftp://x", "secret": SECRET}}, "Not an http(s) URL"),
        ({"provinsi": {"url": "https://x"}}, "at least 32 characters"),
        ({"provinsi": {"url": "https://x", "secret": SECRET, "extra": 1}}, "unknown key"),
        ({"Provinsi!": {"url": "https://x", "secret": SECRET}}, "webhook name"),
    ],
)
def test_a_bad_webhook_table_is_a_config_error_that_never_shows_the_secret(
    table: dict[str, object], says: str
) -> None:
    from bot.configvalues import ConfigError
    from bot.figures.config import figures_section

    with pytest.raises(ConfigError, match=re.escape(says)) as caught:
        figures_section(table, {})
    assert SECRET not in str(caught.value)


def test_the_secret_may_come_from_the_environment() -> None:
    from bot.figures.config import figures_section

    got = figures_section(
        {"provinsi": {"url": "https://x"}}, {"LK3_WEBHOOK_SECRET_PROVINSI": SECRET}
    )
    assert got.webhooks[0].secret == SECRET and SECRET not in repr(got)
