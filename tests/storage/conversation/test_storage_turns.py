"""commit_turn: everything a processed message changes, in one transaction, exactly once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from storage_support import T0, at, message, open_store, reply, turn
from support import Clock

from storage.crypto.keys import KeyRing
from storage.errors import ConstraintError, InvalidRecordError, NotFoundError
from storage.handoff.cases import CODE_ALPHABET
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, ConsentRecord, Contact, NewOutbound, TurnWrite
from storage.store import Store

CODE = re.compile(r"[2-9A-HJ-NP-Z]{6}")


async def received(
    store: Store, transport_id: str = "u1", address: str = "555"
) -> tuple[Contact, int]:
    contact, inbox_id = await store.turns.receive("telegram", address, message(transport_id))
    assert inbox_id is not None
    return contact, inbox_id


async def test_turn_writes_state_replies_case_language_consent_and_processed_mark(
    store: Store,
) -> None:
    contact, inbox_id = await received(store)
    ids = await store.turns.commit_turn(
        turn(
            contact.id,
            inbox_id,
            state='{"node": "ask_need"}',
            outbound=(
                reply(contact.id, "Selamat datang", options=(("info", "Informasi"),)),
                reply(contact.id, "Apa yang bisa kami bantu?", due=at(1)),
            ),
            cases=(CaseOpen("konsultasi", "biasa"),),
            language="id",
            consent=ConsentRecord(True, "2026-01"),
            when=at(2),
        )
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    assert await store.sessions.get(contact.id) == '{"node": "ask_need"}'
    due = await store.outbox.due(at(5))
    assert [(r.id, r.text, r.options, r.address) for r in due] == [
        (ids[0], "Selamat datang", (("info", "Informasi"),), "555"),
        (ids[1], "Apa yang bisa kami bantu?", (), "555"),
    ]
    case = await store.cases.open_for(contact.id)
    assert case is not None
    assert (case.category, case.urgency, case.status, case.opened_at) == (
        "konsultasi",
        "biasa",
        "open",
        at(2),
    )
    assert CODE.fullmatch(case.code)
    updated = await store.contacts.get(contact.id)
    assert updated is not None and updated.language == "id"
    assert await store.consents.latest(contact.id) == ConsentRecord(True, "2026-01")
    assert await store.inbox.pending() == []
    assert await store.inbox.is_processed(inbox_id)


async def test_an_unprocessed_message_is_read_whole_and_a_processed_or_unknown_one_is_none(
    store: Store,
) -> None:
    contact, inbox_id = await received(store)
    row = await store.inbox.unprocessed(inbox_id)
    assert row is not None and (row.id, row.contact_id) == (inbox_id, contact.id)
    assert row == await store.inbox.get(inbox_id)
    await store.turns.commit_turn(turn(contact.id, inbox_id, state="{}", outbound=()))
    assert await store.inbox.unprocessed(inbox_id) is None
    assert await store.inbox.get(inbox_id) is not None, "processed, still stored"
    assert await store.inbox.unprocessed(inbox_id + 1000) is None


async def test_a_turn_starts_with_the_message_its_session_and_who_answers_it(
    store: Store,
) -> None:
    family, first = await received(store, "f1", "1001")
    start = await store.inbox.turn_start(first)
    assert start is not None
    assert (start.row, start.session, start.staff, start.held) == (
        await store.inbox.get(first),
        None,
        False,
        False,
    ), "a first message: no session yet, not staff, nobody holds a case"
    await store.turns.commit_turn(
        turn(family.id, first, state='{"node": "menu"}', cases=(CaseOpen("kdrt", "darurat"),))
    )
    assert await store.inbox.turn_start(first) is None, "processed: nothing to start"

    _, second = await received(store, "f2", "1001")
    start = await store.inbox.turn_start(second)
    assert start is not None and start.session == '{"node": "menu"}' and not start.held
    case = await store.cases.open_for(family.id)
    assert case is not None
    member = await store.staff.add("konselor", "Konselor", ["counsellor"], at(0))
    await store.handoff.take(case.id, member.id, at(1), lambda live, refs: ())
    start = await store.inbox.turn_start(second)
    assert start is not None and start.held, "a counsellor holds the family's case"

    counsellor, linked = await received(store, "c1", "2002")
    code = await store.staff.issue_link_code(member.id, at(2))
    assert await store.staff.redeem_link_code(code, counsellor.id, at(3)) is not None
    start = await store.inbox.turn_start(linked)
    assert start is not None and start.staff and not start.held
    await store.staff.set_active(member.id, False, at(4))
    start = await store.inbox.turn_start(linked)
    assert start is not None and not start.staff, "a deactivated member is a stranger again"


async def test_committing_the_same_turn_twice_changes_nothing_the_second_time(store: Store) -> None:
    contact, inbox_id = await received(store)
    first = turn(contact.id, inbox_id, state='{"v": 1}', outbound=(reply(contact.id, "satu"),))
    assert len(await store.turns.commit_turn(first)) == 1
    again = turn(contact.id, inbox_id, state='{"v": 2}', outbound=(reply(contact.id, "dua"),))
    assert await store.turns.commit_turn(again) == []
    assert await store.sessions.get(contact.id) == '{"v": 1}'
    assert [r.text for r in await store.outbox.due(T0)] == ["satu"]


async def test_two_writers_committing_the_same_turn_at_once_commit_it_once(
    store: Store, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """Two processes on one database (PostgreSQL) that both processed a message (a claim
    lost with its connection): the processed mark, read under the row's lock, lets one in."""
    other = await open_store(db_path, keyring, clock=clock)
    try:
        contact, inbox_id = await received(store)
        results = await asyncio.gather(
            *(
                writer.turns.commit_turn(
                    turn(
                        contact.id,
                        inbox_id,
                        state=f'{{"v": {n}}}',
                        outbound=(reply(contact.id, f"r{n}"),),
                    )
                )
                for n, writer in enumerate((store, other, store, other))
            )
        )
    finally:
        await other.close()
    assert sorted(len(ids) for ids in results) == [0, 0, 0, 1]
    assert len(await store.outbox.due(T0)) == 1


async def test_two_writers_appending_to_the_audit_log_at_once_keep_one_chain(
    store: Store, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    other = await open_store(db_path, keyring, clock=clock)
    try:
        entries = [AuditEntry("system", "test_event", f"contact:{n}", "test") for n in range(8)]
        seqs = await asyncio.gather(
            *((store if n % 2 else other).audit.record(e) for n, e in enumerate(entries))
        )
    finally:
        await other.close()
    assert sorted(seqs) == list(range(1, 9))
    report = await store.audit.verify()
    assert report.rows == 8 and not report.problems


async def test_a_contacts_unprocessed_messages_are_read_oldest_first(store: Store) -> None:
    contact, first = await received(store, "u1")
    _, second = await received(store, "u2")
    _, third = await received(store, "u3")
    _, stranger = await received(store, "u4", address="777")
    await store.turns.commit_turn(turn(contact.id, second))
    assert await store.inbox.pending_of(contact.id) == [first, third]


async def test_turn_without_replies_still_marks_the_message_processed(store: Store) -> None:
    contact, inbox_id = await received(store)
    assert await store.turns.commit_turn(turn(contact.id, inbox_id)) == []
    assert await store.inbox.count_pending() == 0


@pytest.mark.parametrize(
    ("bad_reply", "error", "message_part"),
    [
        (
            lambda cid: reply(cid, "x", priority=42),
            ConstraintError,
            "CHECK constraint failed|violates check constraint",  # SQLite's words, PostgreSQL's
        ),
        (lambda cid: reply(cid + 1000, "x"), NotFoundError, "contact 1001 does not exist"),
    ],
    ids=["priority out of range", "reply to an unknown contact"],
)
async def test_failing_turn_leaves_no_partial_state(
    store: Store, bad_reply: Callable[[int], NewOutbound], error: type[Exception], message_part: str
) -> None:
    contact, inbox_id = await received(store)
    broken = turn(
        contact.id,
        inbox_id,
        state='{"half": true}',
        outbound=(reply(contact.id, "baik"), bad_reply(contact.id)),
        cases=(CaseOpen("krisis", "darurat"),),
        language="en",
        consent=ConsentRecord(True, "2026-01"),
    )
    with pytest.raises(error, match=message_part):
        await store.turns.commit_turn(broken)
    assert await store.sessions.get(contact.id) is None
    assert await store.outbox.count_pending() == 0
    assert await store.cases.open_for(contact.id) is None
    assert await store.consents.latest(contact.id) is None
    unchanged = await store.contacts.get(contact.id)
    assert unchanged is not None and unchanged.language is None
    assert [r.id for r in await store.inbox.pending()] == [inbox_id]
    # The same message can then be processed properly.
    fixed = turn(contact.id, inbox_id, outbound=(reply(contact.id, "baik"),))
    assert len(await store.turns.commit_turn(fixed)) == 1


async def test_turn_for_an_unknown_inbox_row_is_refused(store: Store) -> None:
    contact, _ = await received(store)
    with pytest.raises(NotFoundError, match="inbox row 99 does not exist"):
        await store.turns.commit_turn(turn(contact.id, 99))


async def test_turn_for_another_contacts_message_is_refused(store: Store) -> None:
    _, inbox_id = await received(store, "u1", "555")
    other, _ = await received(store, "u2", "556")
    with pytest.raises(
        InvalidRecordError, match=f"inbox row {inbox_id} belongs to contact 1, not 2"
    ):
        await store.turns.commit_turn(turn(other.id, inbox_id))


@pytest.mark.parametrize(
    ("first", "then", "expected"),
    [
        (("konsultasi", "biasa"), ("kdrt", "segera"), ("kdrt", "segera")),
        (("kdrt", "segera"), ("konsultasi", "biasa"), ("kdrt", "segera")),
        (("krisis", "darurat"), ("konsultasi", "biasa"), ("krisis", "darurat")),
        (("krisis", "darurat"), ("kdrt", "segera"), ("krisis", "darurat")),
        (("kdrt", "segera"), ("krisis", "darurat"), ("krisis", "darurat")),
        (("kdrt", "segera"), ("anak", "segera"), ("kdrt", "segera")),
    ],
)
async def test_open_case_is_raised_never_lowered(
    store: Store, first: tuple[str, str], then: tuple[str, str], expected: tuple[str, str]
) -> None:
    contact, one = await received(store, "u1")
    await store.turns.commit_turn(turn(contact.id, one, cases=(CaseOpen(*first),), when=at(1)))
    opened = await store.cases.open_for(contact.id)
    _, two = await received(store, "u2")
    await store.turns.commit_turn(turn(contact.id, two, cases=(CaseOpen(*then),), when=at(2)))
    case = await store.cases.open_for(contact.id)
    assert opened is not None and case is not None
    assert (case.category, case.urgency) == expected
    assert (case.id, case.code, case.opened_at) == (opened.id, opened.code, at(1))


async def test_two_concerns_in_one_turn_share_one_case(store: Store) -> None:
    contact, inbox_id = await received(store)
    cases = (CaseOpen("konsultasi", "biasa"), CaseOpen("krisis", "darurat"))
    await store.turns.commit_turn(turn(contact.id, inbox_id, cases=cases))
    case = await store.cases.open_for(contact.id)
    assert case is not None and (case.category, case.urgency) == ("krisis", "darurat")


async def test_each_contact_gets_its_own_case_code(store: Store) -> None:
    codes = set()
    for number in range(20):
        contact, inbox_id = await received(store, f"u{number}", str(700 + number))
        await store.turns.commit_turn(
            turn(contact.id, inbox_id, cases=(CaseOpen("konsultasi", "biasa"),))
        )
        case = await store.cases.open_for(contact.id)
        assert case is not None
        assert set(case.code) <= set(CODE_ALPHABET) and not set(case.code) & set("0O1I")
        found = await store.cases.get_by_code(case.code.lower())
        assert found == case
        codes.add(case.code)
    assert len(codes) == 20
    assert await store.cases.get_by_code("ZZZZZZ") is None


async def test_case_urgency_must_be_known() -> None:
    with pytest.raises(InvalidRecordError, match="urgency 'tinggi' is not one of"):
        CaseOpen("krisis", "tinggi")


async def test_everything_committed_is_there_after_reopening(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        contact, inbox_id = await received(store)
        await store.turns.commit_turn(
            turn(
                contact.id,
                inbox_id,
                state='{"node": "booked"}',
                outbound=(reply(contact.id, "Jadwal Anda: Senin 09.00"),),
                cases=(CaseOpen("konsultasi", "segera"),),
                language="en",
                consent=ConsentRecord(False, "2026-01"),
            )
        )
        await store.flows.publish("intake", "3", "[flow]\nid='intake'", T0)
        case = await store.cases.open_for(contact.id)
    async with await open_store(db_path, keyring, clock=clock) as store:
        assert await store.sessions.get(contact.id) == '{"node": "booked"}'
        assert [r.text for r in await store.outbox.due(T0)] == ["Jadwal Anda: Senin 09.00"]
        assert await store.cases.open_for(contact.id) == case
        reopened = await store.contacts.get(contact.id)
        assert reopened is not None and reopened.language == "en"
        assert await store.consents.latest(contact.id) == ConsentRecord(False, "2026-01")
        assert await store.inbox.count_pending() == 0
        assert await store.flows.sources() == ["[flow]\nid='intake'"]


async def test_a_forgotten_message_keeps_its_row_but_not_its_words(store: Store) -> None:
    contact, inbox_id = await received(store)
    base = turn(contact.id, inbox_id)
    forget = TurnWrite(
        base.inbox_id, base.contact_id, base.session_state, (), base.processed_at, forget_text=True
    )
    await store.turns.commit_turn(forget)
    row = await store.inbox.get(inbox_id)
    assert row is not None and row.text == "" and await store.inbox.is_processed(inbox_id)
    # The transport id still deduplicates a repeat.
    _, again = await store.turns.receive("telegram", "555", message("u1"))
    assert again is None
