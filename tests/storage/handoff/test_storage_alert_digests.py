"""Alert digests in storage: one unsent message per counsellor gathers every case due, the
sender's seal closes it, and no case is ever filed into a message already on its way."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from storage_support import T0, at, message, raw_query, turn

from storage.handoff.digests import DIGEST_CASES, Options, digest_cases
from storage.handoff.records import AlertRef, DigestLine, DueAlert, LiveCase
from storage.records import CaseOpen, NewOutbound
from storage.store import Store

URGENT = 0


def render(lines: Sequence[DigestLine]) -> tuple[str, Options]:
    """A plain rendering, so the tests can read which cases a message lists, in order."""
    text = " ".join(f"{line.case.code}/{line.round}/{line.case.status}" for line in lines)
    return text, tuple((f"!take:{line.case.id}", line.case.code) for line in lines)


def nothing(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
    return []


async def open_case(store: Store, chat: str, urgency: str, when_seconds: float) -> LiveCase:
    contact, inbox_id = await store.turns.receive("telegram", chat, message(f"{chat}:1"))
    assert inbox_id is not None
    wanted = CaseOpen("krisis", urgency)
    await store.turns.commit_turn(
        turn(contact.id, inbox_id, cases=(wanted,), when=at(when_seconds))
    )
    case = await store.handoff.live_for(contact.id)
    assert case is not None
    return case


async def counsellor(
    store: Store, name: str, chat: str, channel: str = "telegram"
) -> tuple[int, int]:
    """(staff id, contact id) of a counsellor with a chat."""
    member = await store.staff.add(name, name.title(), ["counsellor"], T0)
    linked = dataclasses.replace(message(f"{chat}:link"), channel=channel)
    contact, _ = await store.turns.receive(channel, chat, linked)
    return member.id, contact.id


def due(case: LiveCase, *recipients: tuple[int, int], event: str = "alerted") -> DueAlert:
    return DueAlert(case.id, event, case.alerted_at, tuple(recipients))


async def file(store: Store, dues: Sequence[DueAlert], when: datetime) -> list[DueAlert]:
    return await store.handoff.file_alerts(dues, when, render, priority=URGENT)


async def cases(store: Store, count: int, urgency: str = "darurat") -> list[LiveCase]:
    return [await open_case(store, str(100 + n), urgency, n) for n in range(count)]


async def pending_alerts(store: Store, contact_id: int) -> list[tuple[str, Options]]:
    """What each unsent alert message to this chat says now, in sending order."""
    found = []
    for row in await store.outbox.due(at(3600), limit=100):
        if row.contact_id == contact_id and row.ref is not None and row.ref.kind == "alerts":
            found.append((row.text, row.options))
    return found


@pytest.mark.parametrize(
    ("channel", "count", "messages"),
    [
        # Telegram lists up to 30 cases a message (one message a second reaches a chat).
        ("telegram", 1, 1),
        ("telegram", 2, 1),
        ("telegram", 9, 1),
        ("telegram", 30, 1),
        ("telegram", 31, 2),
        ("telegram", 45, 2),
        ("telegram", 61, 3),
        # WhatsApp's list picker takes 10 items: 8 cases a message.
        ("whatsapp", 1, 1),
        ("whatsapp", 2, 1),
        ("whatsapp", 9, 2),
        ("whatsapp", 20, 3),
    ],
)
async def test_cases_due_at_once_go_to_a_counsellor_in_as_few_messages_as_fit(
    store: Store, channel: str, count: int, messages: int
) -> None:
    sari = await counsellor(store, "sari", "900", channel)
    opened = await cases(store, count)
    filed = await file(store, [due(c, sari) for c in opened], at(60))
    assert len(filed) == count
    sent = await pending_alerts(store, sari[1])
    assert len(sent) == messages
    assert all(len(options) <= digest_cases(channel) for _, options in sent)
    listed = [code for _, options in sent for _, code in options]
    assert listed == [c.code for c in opened], "every case once, longest waiting first"


async def test_the_most_urgent_case_goes_first_even_into_a_fuller_message(store: Store) -> None:
    sari = await counsellor(store, "sari", "900", "whatsapp")
    soon = await cases(store, DIGEST_CASES, urgency="segera")
    await file(store, [due(c, sari) for c in soon], at(60))
    urgent = await open_case(store, "200", "darurat", 90)
    await file(store, [due(urgent, sari)], at(100))
    first, second = await pending_alerts(store, sari[1])
    assert [code for _, code in first[1]] == [urgent.code] + [c.code for c in soon[:-1]]
    assert [code for _, code in second[1]] == [soon[-1].code]


async def test_a_case_due_while_an_alert_waits_is_merged_into_it_not_queued_behind(
    store: Store,
) -> None:
    sari = await counsellor(store, "sari", "900")
    first, second = await cases(store, 2)
    await file(store, [due(first, sari)], at(60))
    await file(store, [due(second, sari)], at(61))
    [(text, options)] = await pending_alerts(store, sari[1])
    assert text == f"{first.code}/1/open {second.code}/1/open"
    assert [value for value, _ in options] == [f"!take:{first.id}", f"!take:{second.id}"]


async def test_a_case_due_after_the_sender_sealed_the_alert_goes_into_a_new_one(
    store: Store,
) -> None:
    sari = await counsellor(store, "sari", "900")
    first, second = await cases(store, 2)
    await file(store, [due(first, sari)], at(60))
    [row] = await store.outbox.due(at(3600))
    sealed = await store.handoff.seal_digest(row.id, at(61), render)
    await file(store, [due(second, sari)], at(61))
    assert sealed is not None and sealed[0] == f"{first.code}/1/open"
    texts = [text for text, _ in await pending_alerts(store, sari[1])]
    assert texts == [f"{first.code}/1/open", f"{second.code}/1/open"]


@pytest.mark.parametrize("seal_first", [True, False])
async def test_a_seal_racing_a_merge_never_loses_a_case(store: Store, seal_first: bool) -> None:
    """The writer runs one job at a time: the case is in the sealed message or in the next."""
    sari = await counsellor(store, "sari", "900")
    first, second = await cases(store, 2)
    await file(store, [due(first, sari)], at(60))
    [row] = await store.outbox.due(at(3600))
    seal = store.handoff.seal_digest(row.id, at(61), render)
    merge = file(store, [due(second, sari)], at(61))
    if seal_first:
        sealed, _ = await asyncio.gather(seal, merge)
    else:
        _, sealed = await asyncio.gather(merge, seal)
    assert sealed is not None
    later = [text for text, _ in await pending_alerts(store, sari[1]) if text != sealed[0]]
    shown = sealed[0].split() + [part for text in later for part in text.split()]
    assert sorted(shown) == sorted([f"{first.code}/1/open", f"{second.code}/1/open"])


async def test_a_case_closed_or_taken_before_the_alert_goes_is_left_out_of_it(
    store: Store,
) -> None:
    sari = await counsellor(store, "sari", "900")
    budi = await counsellor(store, "budi", "901")
    kept, closed, taken = await cases(store, 3)
    await file(store, [due(c, sari) for c in (kept, closed, taken)], at(60))
    await store.handoff.close(closed.id, budi[0], "aman", at(70), nothing, any_owner=True)
    await store.handoff.take(taken.id, budi[0], at(71), nothing)
    [row] = await store.outbox.due(at(3600))
    sealed = await store.handoff.seal_digest(row.id, at(72), render)
    assert sealed is not None and sealed[0] == f"{kept.code}/1/open"
    # Unlinked: nothing will edit a message that never showed them.
    assert [a.outbox_id for a in await store.handoff.alerts(closed.id)] == []
    assert [a.outbox_id for a in await store.handoff.alerts(kept.id)] == [row.id]


async def test_an_alert_whose_cases_were_all_taken_is_not_sent(store: Store) -> None:
    sari = await counsellor(store, "sari", "900")
    budi = await counsellor(store, "budi", "901")
    [case] = await cases(store, 1)
    await file(store, [due(case, sari)], at(60))
    await store.handoff.take(case.id, budi[0], at(70), nothing)
    [row] = await store.outbox.due(at(3600))
    assert await store.handoff.seal_digest(row.id, at(71), render) is None


async def test_a_sent_digest_reads_back_with_each_case_as_it_is_now(store: Store) -> None:
    sari = await counsellor(store, "sari", "900")
    budi = await counsellor(store, "budi", "901")
    first, second, third = await cases(store, 3)
    await file(store, [due(c, sari) for c in (first, second, third)], at(60))
    [row] = await store.outbox.due(at(3600))
    await store.handoff.seal_digest(row.id, at(61), render)
    await store.outbox.mark_sent(row.id, "77", at(62))
    await store.handoff.take(second.id, budi[0], at(70), nothing)
    await store.handoff.close(third.id, budi[0], "aman", at(71), nothing, any_owner=True)
    digest = await store.handoff.digest(row.id)
    assert digest is not None and digest.provider_id == "77"
    assert [(line.case.code, line.case.status, line.owner_name) for line in digest.lines] == [
        (first.code, "open", None),
        (second.code, "taken", "Budi"),
        (third.code, "closed", None),
    ]
    assert await store.handoff.digest(row.id + 1000) is None


async def test_a_realert_of_a_case_still_waiting_to_go_lists_it_once_with_the_new_round(
    store: Store,
) -> None:
    sari = await counsellor(store, "sari", "900")
    [case] = await cases(store, 1)
    await file(store, [due(case, sari)], at(60))
    again = await store.handoff.get(case.id)
    assert again is not None
    await file(store, [due(again, sari, event="realerted")], at(360))
    [(text, _)] = await pending_alerts(store, sari[1])
    assert text == f"{case.code}/2/open"
    [alert] = await store.handoff.alerts(case.id)
    assert alert.staff_id == sari[0], "one message to edit, not one per round"


async def test_the_same_moment_is_filed_once_even_by_two_passes(store: Store) -> None:
    sari = await counsellor(store, "sari", "900")
    [case] = await cases(store, 1)
    twice = await asyncio.gather(
        file(store, [due(case, sari)], at(60)), file(store, [due(case, sari)], at(60))
    )
    assert sorted(len(filed) for filed in twice) == [0, 1]
    [(text, _)] = await pending_alerts(store, sari[1])
    assert text == f"{case.code}/1/open"
    events = [e.event for e in await store.handoff.events(case.id)]
    assert events.count("alerted") == 1


async def test_each_counsellor_gets_every_case_in_their_own_message(store: Store) -> None:
    sari = await counsellor(store, "sari", "900")
    budi = await counsellor(store, "budi", "901")
    opened = await cases(store, 3)
    await file(store, [due(c, sari, budi) for c in opened], at(60))
    for staff in (sari, budi):
        [(_, options)] = await pending_alerts(store, staff[1])
        assert [code for _, code in options] == [c.code for c in opened]


async def test_an_alert_with_no_recipient_chat_left_is_not_recorded(store: Store) -> None:
    [case] = await cases(store, 1)
    member = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    assert await file(store, [due(case, (member.id, 9999))], at(60)) == []
    again = await store.handoff.get(case.id)
    assert again is not None and again.alerted_at is None, "the next pass tries again"


async def test_a_digest_holds_only_codes_in_the_clear(store: Store, db_path: Path) -> None:
    sari = await counsellor(store, "sari", "900")
    opened = await cases(store, 2)
    await file(store, [due(c, sari) for c in opened], at(60))
    rows = raw_query(db_path, "SELECT * FROM alert_digests")
    assert rows and all(len(row) == 3 for row in rows), "outbox id, staff id, sealed time"
    bodies = raw_query(db_path, "SELECT body_enc FROM outbox WHERE ref LIKE 'alerts:%'")
    assert all(opened[0].code.encode() not in bytes(body[0]) for body in bodies)
