"""Hand-off storage: the queue's order, the take race, relays once, sealed notes, figures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from storage_support import T0, at, message, raw_query, turn
from support import Clock

from storage.errors import InvalidRecordError, StaleTurnError
from storage.handoff.records import AlertRef, LiveCase, RelayIn
from storage.handoff.roster import Shift
from storage.records import CaseOpen, NewOutbound
from storage.store import Store


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


async def staff_id(store: Store, name: str) -> int:
    return (await store.staff.add(name, name.title(), ["counsellor"], T0)).id


def nothing(case: LiveCase, alerts: Sequence[AlertRef]) -> list[NewOutbound]:
    """No messages: these tests are about the state changes."""
    return []


async def test_queue_orders_by_risk_then_waiting_time_never_by_activity(store: Store) -> None:
    routine = await open_case(store, "1", "biasa", 0)
    soon_old = await open_case(store, "2", "segera", 10)
    urgent_new = await open_case(store, "3", "darurat", 300)
    urgent_old = await open_case(store, "4", "darurat", 60)
    soon_new = await open_case(store, "5", "segera", 200)
    order = [c.id for c in await store.handoff.queue()]
    assert order == [urgent_old.id, urgent_new.id, soon_old.id, soon_new.id, routine.id]


async def test_two_takes_at_once_make_exactly_one_owner(store: Store) -> None:
    case = await open_case(store, "1", "darurat", 0)
    sari, budi = await staff_id(store, "sari"), await staff_id(store, "budi")
    results = await asyncio.gather(
        store.handoff.take(case.id, sari, at(5), nothing),
        store.handoff.take(case.id, budi, at(5), nothing),
    )
    assert sorted(r.outcome for r in results) == ["done", "held"]
    taken = await store.handoff.get(case.id)
    assert taken is not None and taken.status == "taken"
    assert [e.event for e in await store.handoff.events(case.id)].count("taken") == 1


@pytest.mark.parametrize(
    ("action", "outcome"),
    [("take_again_by_owner", "already"), ("release_by_other", "held"), ("close_by_other", "held")],
)
async def test_only_the_owner_changes_a_held_case(store: Store, action: str, outcome: str) -> None:
    case = await open_case(store, "1", "darurat", 0)
    sari, budi = await staff_id(store, "sari"), await staff_id(store, "budi")
    await store.handoff.take(case.id, sari, at(5), nothing)
    if action == "take_again_by_owner":
        result = await store.handoff.take(case.id, sari, at(6), nothing)
    elif action == "release_by_other":
        result = await store.handoff.release(case.id, budi, at(6), nothing)
    else:
        result = await store.handoff.close(case.id, budi, "aman", at(6), nothing)
    assert result.outcome == outcome


async def test_release_puts_the_case_back_waiting_and_a_new_concern_raises_the_held_case(
    store: Store,
) -> None:
    case = await open_case(store, "1", "segera", 0)
    sari = await staff_id(store, "sari")
    await store.handoff.take(case.id, sari, at(5), nothing)
    contact_id = case.contact_id
    _, inbox_id = await store.turns.receive("telegram", "1", message("1:2"))
    assert inbox_id is not None
    await store.turns.commit_turn(
        turn(contact_id, inbox_id, cases=(CaseOpen("krisis", "darurat"),))
    )
    raised = await store.handoff.get(case.id)
    assert raised is not None and raised.urgency == "darurat" and raised.status == "taken"
    released = await store.handoff.release(case.id, sari, at(60), nothing)
    assert released.case is not None and released.case.status == "open"
    assert released.case.owner_staff_id is None and released.case.alerted_at is None
    events = [e.event for e in await store.handoff.events(case.id)]
    assert events == ["opened", "taken", "raised", "released"]


async def test_a_relay_is_recorded_once_and_sets_the_first_reply_time(store: Store) -> None:
    case = await open_case(store, "1", "darurat", 0)
    sari = await staff_id(store, "sari")
    await store.handoff.take(case.id, sari, at(5), nothing)
    first = await store.handoff.relay(case.id, sari, "out:9", at(65), [])
    again = await store.handoff.relay(case.id, sari, "out:9", at(70), [])
    assert (first.outcome, again.outcome) == ("done", "already")
    held = await store.handoff.get(case.id)
    assert held is not None and held.first_reply_at == at(65)
    figures = await store.handoff.figures(T0, at(3600), target_seconds=300)
    urgent = figures.by_urgency[0]
    assert (urgent.urgency, urgent.opened, urgent.answered) == ("darurat", 1, 1)
    assert urgent.median_first_reply_seconds == 65.0 and urgent.waited_past_target == 0


async def test_a_family_message_is_relayed_in_its_own_turn_or_not_at_all(store: Store) -> None:
    case = await open_case(store, "1", "segera", 0)
    sari = await staff_id(store, "sari")
    await store.handoff.take(case.id, sari, at(5), nothing)
    note = NewOutbound(case.contact_id, "telegram", "relayed", (), 5, at(10))
    _, inbox_id = await store.turns.receive("telegram", "1", message("1:2"))
    assert inbox_id is not None
    relay = RelayIn(case.id, f"in:{inbox_id}", (note,), urgent=True)
    await store.turns.commit_turn(
        replace(turn(case.contact_id, inbox_id, when=at(10)), relay=relay)
    )
    held = await store.handoff.get(case.id)
    assert held is not None and held.urgent_unanswered_at == at(10)
    assert [e.event for e in await store.handoff.events(case.id)][-1] == "relayed_in"
    # Released before the next message's turn commits: nothing of that turn is written.
    await store.handoff.release(case.id, sari, at(20), nothing)
    _, later = await store.turns.receive("telegram", "1", message("1:3"))
    assert later is not None
    stale = RelayIn(case.id, f"in:{later}", (note,))
    with pytest.raises(StaleTurnError):
        await store.turns.commit_turn(
            replace(turn(case.contact_id, later, when=at(25)), relay=stale)
        )
    assert not await store.inbox.is_processed(later)
    assert [e.event for e in await store.handoff.events(case.id)].count("relayed_in") == 1


async def test_unanswered_urgent_cases_count_as_past_the_target(store: Store) -> None:
    await open_case(store, "1", "darurat", 0)
    figures = await store.handoff.figures(T0, at(301), target_seconds=300)
    assert figures.by_urgency[0].waited_past_target == 1


async def test_notes_are_sealed_and_referrals_and_outcomes_are_codes(
    store: Store, db_path: Path, clock: Clock
) -> None:
    case = await open_case(store, "1", "darurat", 0)
    sari = await staff_id(store, "sari")
    await store.handoff.note(case.id, sari, "ibu di rumah saudara di Passo", at(10))
    [note] = await store.handoff.notes(case.id)
    assert note.text == "ibu di rumah saudara di Passo"
    blobs = raw_query(db_path, "SELECT note_enc FROM case_notes")
    assert b"Passo" not in bytes(blobs[0][0])
    with pytest.raises(InvalidRecordError):
        await store.handoff.refer(case.id, sari, "my neighbour", at(11))
    with pytest.raises(InvalidRecordError):
        await store.handoff.close(case.id, sari, "whatever", at(12), nothing)


@pytest.mark.parametrize(
    ("start", "end", "day", "minute", "covered"),
    [
        (480, 960, 0, 480, True),
        (480, 960, 0, 960, False),
        (480, 960, 1, 600, False),
        (1320, 360, 0, 1400, True),  # 22:00-06:00 on Monday covers Monday night
        (1320, 360, 1, 300, True),  # ... and early Tuesday
        (1320, 360, 1, 400, False),
        (1320, 360, 6, 300, False),
    ],
)
def test_roster_shifts_cover_their_hours_and_run_past_midnight(
    start: int, end: int, day: int, minute: int, covered: bool
) -> None:
    assert Shift(1, 1, "sari", 0, start, end).covers(day, minute) is covered
