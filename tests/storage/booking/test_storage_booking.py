"""Booking storage: hours, closures, holds, the one-family-per-slot rule, reminders."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from storage_support import T0, message, raw_query, raw_update, reply, turn
from support import Clock

from storage.booking.records import (
    CancelBooking,
    ConfirmAttendance,
    ConfirmHold,
    HoldSlot,
    ReleaseHold,
    Reminder,
)
from storage.errors import InvalidRecordError, NotFoundError, SlotTakenError
from storage.records import TurnWrite
from storage.store import Store

MONDAY_10 = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # Monday 9 March 2026, 10.00 WIT
HOUR = timedelta(hours=1)


async def counsellor(store: Store, name: str = "sari") -> int:
    member = await store.staff.add(name, name.title(), ["counsellor"], T0)
    return member.id


async def family(store: Store, n: int) -> int:
    contact, _ = await store.turns.receive("telegram", f"chat-{n}", message(f"hello-{n}"))
    return contact.id


def hold(candidates: tuple[int, ...], starts: datetime = MONDAY_10, **kw: object) -> HoldSlot:
    values: dict[str, object] = {
        "mode": "kantor",
        "starts_at": starts,
        "ends_at": starts + HOUR,
        "urgency": "biasa",
        "candidates": candidates,
        "expires_at": T0 + timedelta(minutes=10),
    }
    values.update(kw)
    return HoldSlot(**values)  # type: ignore[arg-type]


# --- hours and closures -----------------------------------------------------------


async def test_weekly_hours_are_kept_with_their_modes_and_refuse_an_overlap(store: Store) -> None:
    sari = await counsellor(store)
    await store.bookings.add_hours(sari, 0, 9 * 60, 12 * 60, ["telepon", "kantor"], T0)
    await store.bookings.add_hours(sari, 0, 13 * 60, 15 * 60, ["chat"], T0)
    with pytest.raises(
        InvalidRecordError, match=r"overlap hours already set that day \(09:00-12:00"
    ):
        await store.bookings.add_hours(sari, 0, 11 * 60, 14 * 60, ["kantor"], T0)
    hours = await store.bookings.hours(sari)
    assert [(h.weekday, h.start_minute, h.end_minute, sorted(h.modes)) for h in hours] == [
        (0, 540, 720, ["kantor", "telepon"]),
        (0, 780, 900, ["chat"]),
    ]
    assert await store.bookings.clear_hours(sari, 0) == 2


@pytest.mark.parametrize(
    ("weekday", "start", "end", "modes", "problem"),
    [
        (7, 540, 600, ["kantor"], "weekday 7"),
        (0, 600, 540, ["kantor"], "start before they end"),
        (0, 540, 600, [], "at least one consultation mode"),
        (0, 540, 600, ["zoom"], "unknown consultation mode 'zoom'"),
    ],
)
async def test_bad_hours_are_refused_with_what_was_wrong(
    store: Store, weekday: int, start: int, end: int, modes: list[str], problem: str
) -> None:
    sari = await counsellor(store)
    with pytest.raises(InvalidRecordError, match=problem):
        await store.bookings.add_hours(sari, weekday, start, end, modes, T0)


async def test_a_closure_is_listed_once_and_can_be_removed(store: Store) -> None:
    await store.bookings.add_closure(date(2026, 12, 24), "  cuti  bersama ", T0)
    with pytest.raises(InvalidRecordError, match="already closed on 2026-12-24"):
        await store.bookings.add_closure(date(2026, 12, 24), "lagi", T0)
    closures = await store.bookings.closures(date(2026, 12, 1), date(2026, 12, 31))
    assert [(c.day, c.reason) for c in closures] == [(date(2026, 12, 24), "cuti bersama")]
    assert await store.bookings.remove_closure(date(2026, 12, 24)) is True
    assert await store.bookings.remove_closure(date(2026, 12, 24)) is False


# --- one family per counsellor and time --------------------------------------------


async def test_many_families_racing_for_one_slot_exactly_one_wins(store: Store) -> None:
    sari = await counsellor(store)
    families = [await family(store, n) for n in range(12)]
    results = await asyncio.gather(
        *(store.bookings.hold(f, hold((sari,)), T0) for f in families), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and all(isinstance(e, SlotTakenError) for e in lost)
    assert store.write_stats.largest_batch > 1, "the writes really shared transactions"
    rows = raw_query(store.path, "SELECT count(*) FROM bookings WHERE status = 'held'")
    assert rows == [(1,)]


async def test_a_lost_slot_goes_to_the_next_offered_counsellor(store: Store) -> None:
    sari, budi = await counsellor(store, "sari"), await counsellor(store, "budi")
    first, second = await family(store, 1), await family(store, 2)
    a = await store.bookings.hold(first, hold((sari, budi)), T0)
    b = await store.bookings.hold(second, hold((sari, budi)), T0)
    assert (a.staff_id, b.staff_id) == (sari, budi)


@pytest.mark.parametrize(
    "statement",
    [
        # Same counsellor and start, straight into the table.
        "INSERT INTO bookings (rid, code, contact_id, staff_id, mode, urgency, starts_at,"
        " ends_at, status, created_at, updated_at) SELECT x'00', 'ZZZZZZ', contact_id, staff_id,"
        " mode, urgency, starts_at, ends_at, 'confirmed', 0, 0 FROM bookings",
        # Same counsellor, a start half an hour later: an overlap, not the same start.
        "INSERT INTO bookings (rid, code, contact_id, staff_id, mode, urgency, starts_at,"
        " ends_at, status, created_at, updated_at) SELECT x'00', 'ZZZZZZ', contact_id, staff_id,"
        " mode, urgency, starts_at + 1800000000, ends_at + 1800000000, 'held', 0, 0 FROM bookings",
    ],
)
async def test_the_database_itself_refuses_a_double_booking(
    store: Store, db_path: Path, statement: str
) -> None:
    sari = await counsellor(store)
    await store.bookings.hold(await family(store, 1), hold((sari,)), T0)
    await store.close()
    with pytest.raises(sqlite3.IntegrityError):
        raw_update(db_path, statement)


async def test_an_expired_hold_is_released_before_the_next_family_takes_the_slot(
    store: Store, clock: Clock
) -> None:
    sari = await counsellor(store)
    first, second = await family(store, 1), await family(store, 2)
    await store.bookings.hold(first, hold((sari,)), T0)
    with pytest.raises(SlotTakenError):
        await store.bookings.hold(second, hold((sari,)), T0 + timedelta(minutes=5))
    later = T0 + timedelta(minutes=11)
    won = await store.bookings.hold(second, hold((sari,), expires_at=later + HOUR), later)
    assert won.contact_id == second
    assert raw_query(store.path, "SELECT contact_id FROM bookings") == [(second,)]


async def test_a_family_holds_one_time_at_a_time(store: Store) -> None:
    sari = await counsellor(store)
    me = await family(store, 1)
    await store.bookings.hold(me, hold((sari,)), T0)
    await store.bookings.hold(me, hold((sari,), starts=MONDAY_10 + HOUR), T0)
    rows = raw_query(store.path, "SELECT starts_at FROM bookings WHERE status = 'held'")
    assert len(rows) == 1


# --- confirming, cancelling, reminders -------------------------------------------------


def reminders(contact_id: int) -> tuple[Reminder, ...]:
    return (
        Reminder("day_before", reply(contact_id, "besok", due=MONDAY_10 - timedelta(days=1))),
        Reminder("two_hours", reply(contact_id, "nanti", due=MONDAY_10 - 2 * HOUR)),
    )


async def booked(store: Store, sari: int, n: int = 1) -> tuple[int, int]:
    """A family with a confirmed booking (through turns); (contact id, booking id)."""
    contact = await family(store, 100 + n)
    op_contact = await store.contacts.find("telegram", f"chat-{100 + n}")
    assert op_contact is not None
    await store.bookings.hold(contact, hold((sari,), starts=MONDAY_10 + n * HOUR), T0)
    _, inbox_id = await store.turns.receive("telegram", f"chat-{100 + n}", message(f"yes-{n}"))
    assert inbox_id is not None
    write = turn(contact, inbox_id)
    await store.turns.commit_turn(
        TurnWrite(
            write.inbox_id,
            write.contact_id,
            write.session_state,
            (),
            write.processed_at,
            booking=ConfirmHold(MONDAY_10 + n * HOUR, reminders(contact)),
        )
    )
    mine = await store.bookings.for_contact(contact)
    return contact, mine[0].id


def pending_refs(path: Path) -> list[str]:
    rows = raw_query(path, "SELECT ref FROM outbox WHERE status = 'pending' AND ref IS NOT NULL")
    return sorted(str(r[0]) for r in rows)


async def test_confirming_queues_two_reminders_in_the_same_transaction(store: Store) -> None:
    sari = await counsellor(store)
    contact, booking_id = await booked(store, sari)
    assert pending_refs(store.path) == [
        f"booking:{booking_id}:day_before",
        f"booking:{booking_id}:two_hours",
    ]
    booking = await store.bookings.get(booking_id)
    assert booking is not None and booking.status == "confirmed"
    assert booking.hold_expires_at is None


async def test_cancelling_withdraws_the_reminders_with_the_booking(store: Store) -> None:
    sari = await counsellor(store)
    contact, booking_id = await booked(store, sari)
    _, inbox_id = await store.turns.receive("telegram", "chat-101", message("batal"))
    assert inbox_id is not None
    write = turn(contact, inbox_id)
    await store.turns.commit_turn(
        TurnWrite(
            write.inbox_id,
            write.contact_id,
            write.session_state,
            (),
            write.processed_at,
            booking=CancelBooking(booking_id),
        )
    )
    assert pending_refs(store.path) == []
    withdrawn = raw_query(
        store.path, "SELECT DISTINCT last_error FROM outbox WHERE ref IS NOT NULL"
    )
    assert withdrawn == [("cancelled",)]
    booking = await store.bookings.get(booking_id)
    assert booking is not None and booking.status == "cancelled"


async def test_confirming_a_new_time_replaces_the_old_booking_and_its_reminders(
    store: Store,
) -> None:
    sari = await counsellor(store)
    contact, old_id = await booked(store, sari)
    await store.bookings.hold(contact, hold((sari,), starts=MONDAY_10 + 5 * HOUR), T0)
    _, inbox_id = await store.turns.receive("telegram", "chat-101", message("again"))
    assert inbox_id is not None
    write = turn(contact, inbox_id)
    await store.turns.commit_turn(
        TurnWrite(
            write.inbox_id,
            write.contact_id,
            write.session_state,
            (),
            write.processed_at,
            booking=ConfirmHold(MONDAY_10 + 5 * HOUR, reminders(contact)),
        )
    )
    statuses = {b.id: b.status for b in await store.bookings.for_contact(contact)}
    new_id = max(statuses)
    assert statuses == {old_id: "cancelled", new_id: "confirmed"}
    assert pending_refs(store.path) == [
        f"booking:{new_id}:day_before",
        f"booking:{new_id}:two_hours",
    ]


async def test_a_confirm_without_the_hold_is_a_lost_slot_and_writes_nothing(store: Store) -> None:
    sari = await counsellor(store)
    me = await family(store, 1)
    _, inbox_id = await store.turns.receive("telegram", "chat-1", message("ya"))
    assert inbox_id is not None
    write = turn(me, inbox_id, outbound=(reply(me),))
    with pytest.raises(SlotTakenError):
        await store.turns.commit_turn(
            TurnWrite(
                write.inbox_id,
                write.contact_id,
                write.session_state,
                write.outbound,
                write.processed_at,
                booking=ConfirmHold(MONDAY_10, reminders(me)),
            )
        )
    assert await store.inbox.get(inbox_id) is not None, "still unprocessed"
    assert raw_query(store.path, "SELECT count(*) FROM outbox WHERE inbox_id = ?", (inbox_id,)) == [
        (0,)
    ]
    assert sari


async def test_release_and_attendance_reply_change_only_the_familys_own_booking(
    store: Store,
) -> None:
    sari = await counsellor(store)
    contact, booking_id = await booked(store, sari)
    other = await family(store, 2)
    await store.bookings.hold(other, hold((sari,), starts=MONDAY_10 + 7 * HOUR), T0)
    _, inbox_id = await store.turns.receive("telegram", "chat-2", message("nanti"))
    assert inbox_id is not None
    write = turn(other, inbox_id)
    await store.turns.commit_turn(
        TurnWrite(
            write.inbox_id,
            other,
            write.session_state,
            (),
            write.processed_at,
            booking=ReleaseHold(),
        )
    )
    _, inbox_id = await store.turns.receive("telegram", "chat-2", message("1"))
    assert inbox_id is not None
    write = turn(other, inbox_id)
    await store.turns.commit_turn(
        TurnWrite(
            write.inbox_id,
            other,
            write.session_state,
            (),
            write.processed_at,
            booking=ConfirmAttendance(booking_id),  # not theirs
        )
    )
    assert await store.bookings.for_contact(other) == []
    mine = await store.bookings.get(booking_id)
    assert mine is not None and mine.status == "confirmed" and not mine.family_confirmed


# --- attendance -------------------------------------------------------------------------


async def test_a_no_show_gets_one_follow_up_however_often_it_is_marked(store: Store) -> None:
    sari = await counsellor(store)
    contact, booking_id = await booked(store, sari)
    booking = await store.bookings.get(booking_id)
    assert booking is not None
    followup = reply(contact, "Halo, kami belum sempat bertemu Anda.")
    first = await store.bookings.mark(booking.code, "no_show", T0, followup)
    again = await store.bookings.mark(booking.code.lower(), "no_show", T0, followup)
    assert (first[0].status, first[1], again[1]) == ("no_show", True, False)
    refs = raw_query(store.path, "SELECT ref, status FROM outbox WHERE ref LIKE 'booking:%'")
    assert sorted(refs) == [
        (f"booking:{booking_id}:day_before", "failed"),
        (f"booking:{booking_id}:no_show", "pending"),
        (f"booking:{booking_id}:two_hours", "failed"),
    ]
    corrected = await store.bookings.mark(booking.code, "attended", T0, followup)
    back = await store.bookings.mark(booking.code, "no_show", T0, followup)
    assert (corrected[0].status, back[0].status) == ("attended", "no_show")
    count = raw_query(store.path, "SELECT count(*) FROM outbox WHERE ref LIKE '%:no_show'")
    assert count == [(1,)], "one follow-up, even after a corrected mark"


async def test_only_a_confirmed_booking_is_marked(store: Store) -> None:
    sari = await counsellor(store)
    me = await family(store, 1)
    held = await store.bookings.hold(me, hold((sari,)), T0)
    with pytest.raises(InvalidRecordError, match="is held; only a confirmed booking is marked"):
        await store.bookings.mark(held.code, "attended", T0)


async def test_marking_an_unknown_code_says_so(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no booking with code ABC123"):
        await store.bookings.mark("abc123", "attended", T0)


# --- what the pipeline reads ---------------------------------------------------------------


async def test_the_snapshot_leaves_out_run_out_holds_and_the_familys_own_hold(
    store: Store,
) -> None:
    sari = await counsellor(store)
    await store.bookings.add_hours(sari, 0, 540, 720, ["kantor"], T0)
    me, other, stale = await family(store, 1), await family(store, 2), await family(store, 3)
    await store.bookings.hold(me, hold((sari,)), T0)
    await store.bookings.hold(other, hold((sari,), starts=MONDAY_10 + HOUR), T0)
    await store.bookings.hold(
        stale, hold((sari,), starts=MONDAY_10 + 2 * HOUR, expires_at=T0 + timedelta(seconds=1)), T0
    )
    later = T0 + timedelta(minutes=1)
    seen = await store.bookings.snapshot(me, T0, T0 + timedelta(days=30), later)
    assert [start for _, start, _ in seen.busy] == [MONDAY_10 + HOUR]
    assert seen.hold is not None and seen.hold.starts_at == MONDAY_10
    assert seen.staff_names == ((sari, "Sari"),) and len(seen.hours) == 1
    assert seen.load == ((sari, 2),)


@pytest.mark.sqlite_only("the test reads the SQLite file's bytes")
async def test_the_phone_number_for_a_call_is_sealed_and_read_back(store: Store) -> None:
    sari = await counsellor(store)
    me = await family(store, 1)
    booking = await store.bookings.hold(me, hold((sari,), detail="+6281234567890"), T0)
    assert await store.bookings.detail(booking.id) == "+6281234567890"
    await store.close()
    assert b"6281234567890" not in store.path.read_bytes()


@pytest.mark.sqlite_only("the test reads the SQLite file's bytes")
async def test_a_feed_token_is_kept_only_as_a_keyed_hash(store: Store) -> None:
    sari = await counsellor(store)
    await store.bookings.set_feed_token(sari, "first-token", T0)
    await store.bookings.set_feed_token(sari, "second-token", T0)
    assert await store.bookings.staff_for_feed_token("first-token") is None
    assert await store.bookings.staff_for_feed_token("second-token") == sari
    await store.close()
    assert b"second-token" not in store.path.read_bytes()


async def test_erasing_a_family_can_cancel_its_bookings_first(store: Store) -> None:
    sari = await counsellor(store)
    contact, booking_id = await booked(store, sari)
    assert await store.bookings.cancel_for_contact(contact, T0) == 1
    assert pending_refs(store.path) == []
