"""Every read the console and the alerts make, asked for one office, gives that office's rows
only (both backends: the same SQL is translated for PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from storage_support import T0, at, message, turn

from storage.errors import NotFoundError
from storage.handoff.records import LiveCase
from storage.offices.repo import Office
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen
from storage.store import Store


async def case_for(store: Store, address: str, office: Office | None) -> LiveCase:
    contact, inbox_id = await store.turns.receive("telegram", address, message(f"{address}-1"))
    assert inbox_id is not None
    if office is not None:
        await store.offices.route_contact(contact.id, office.id)
    await store.turns.commit_turn(turn(contact.id, inbox_id, cases=(CaseOpen("kdrt", "darurat"),)))
    case = await store.handoff.live_for(contact.id)
    assert case is not None
    return case


async def test_queue_taken_and_figures_read_one_office(store: Store) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    mine = await case_for(store, "7001", None)
    theirs = await case_for(store, "8001", tual)
    assert (mine.office_id, theirs.office_id) == (1, tual.id)
    assert [c.id for c in await store.handoff.queue(office_id=1)] == [mine.id]
    assert [c.id for c in await store.handoff.queue(office_id=tual.id)] == [theirs.id]
    assert {c.id for c in await store.handoff.queue()} == {mine.id, theirs.id}
    nona = await store.staff.add("nona", "Nona", ["counsellor"], T0, office_id=tual.id)
    assert (await store.handoff.take(theirs.id, nona.id, at(5), lambda c, a: [])).done
    assert await store.console_cases.taken(office_id=1) == []
    assert [c.id for c in await store.console_cases.taken(office_id=tual.id)] == [theirs.id]
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
    month = await store.office.month(since, until, office_id=tual.id)
    assert dict(month.by_urgency) == {"darurat": 1} and month.contacts == 1
    assert (await store.office.month(since, until)).contacts == 2
    replies = await store.handoff.figures(since, until, target_seconds=300, office_id=1)
    assert sum(f.opened for f in replies.by_urgency) == 1


async def test_staff_roster_hours_and_closures_read_one_office(store: Store) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    sari = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    nona = await store.staff.add("nona", "Nona", ["counsellor"], T0, office_id=tual.id)
    assert [m.username for m in await store.staff.list(office_id=tual.id)] == ["nona"]
    assert [m.username for m in await store.staff.list()] == ["sari", "nona"]
    shift = await store.roster.add(nona.id, 0, 480, 960, T0)
    await store.roster.add(sari.id, 0, 480, 960, T0)
    assert [s.username for s in await store.roster.shifts(office_id=tual.id)] == ["nona"]
    with pytest.raises(NotFoundError):  # another office's shift: not found from here
        await store.roster.remove(shift, office_id=1)
    hours = await store.bookings.add_hours(nona.id, 0, 540, 720, ("kantor",), T0)
    assert await store.office.remove_hours(hours.id, office_id=1) is None
    assert await store.office.remove_hours(hours.id, office_id=tual.id) == hours
    day = date(2026, 12, 25)
    await store.bookings.add_closure(day, "Natal", T0)
    await store.bookings.add_closure(day, "Natal", T0, office_id=tual.id)  # its own
    assert len(await store.bookings.closures(office_id=tual.id)) == 1
    assert await store.bookings.remove_closure(day, office_id=tual.id)
    assert len(await store.bookings.closures()) == 1


async def test_the_audit_log_reads_what_one_offices_staff_did(store: Store) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    sari = await store.staff.add("sari", "Sari", ["supervisor"], T0)
    nona = await store.staff.add("nona", "Nona", ["supervisor"], T0, office_id=tual.id)
    await store.audit.record(AuditEntry(f"staff:{sari.id}", "case_view", "case:AAA111", "r"))
    await store.audit.record(AuditEntry(f"staff:{nona.id}", "case_view", "case:BBB222", "r"))
    await store.audit.record(AuditEntry("system", "retention", "contacts:3", "r"))
    subjects = {r.subject for r in await store.audit.newest(office_id=1)}
    assert subjects == {"case:AAA111", "contacts:3"}
    assert {r.subject for r in await store.audit.newest(office_id=tual.id)} == {"case:BBB222"}
    assert len(await store.audit.newest()) == 3


async def test_a_familys_booking_options_are_its_offices(store: Store) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    sari = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    nona = await store.staff.add("nona", "Nona", ["counsellor"], T0, office_id=tual.id)
    await store.bookings.add_hours(sari.id, 0, 540, 720, ("kantor",), T0)
    await store.bookings.add_hours(nona.id, 1, 540, 720, ("kantor",), T0)
    await store.bookings.add_closure(date(2026, 3, 10), "Hari jadi", T0, office_id=tual.id)
    family, _ = await store.turns.receive("telegram", "8002", message("8002-1"))
    await store.offices.route_contact(family.id, tual.id)
    view = await store.bookings.snapshot(family.id, T0, T0 + timedelta(days=14), T0)
    assert {h.staff_id for h in view.hours} == {nona.id}
    assert [c.reason for c in view.closures] == ["Hari jadi"]
    default = await store.bookings.snapshot(None, T0, T0 + timedelta(days=14), T0)
    assert {h.staff_id for h in default.hours} == {sari.id} and default.closures == ()
