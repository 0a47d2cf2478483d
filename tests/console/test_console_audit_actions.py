"""Every action a staff member takes writes an audit row: who, what, which case or booking
code; never what the family wrote or what the counsellor wrote to them."""

from __future__ import annotations

from contextlib import aclosing

import pytest
from case_support import family_case
from console_support import add_staff, client, login, post_form, signed_in
from support import Clock
from test_console_bookings import TUESDAY_10, confirmed

from bot.console.core import Console
from storage.privacy.audit import AuditRow
from storage.store import Store

FAMILY_WORDS = "suami saya memukuli saya sekarang"
REPLY = "Ibu, saya Sari dari LK3. Apakah Ibu aman sekarang?"
NOTE = "Ibu terdengar takut, coba telepon besok pagi"


async def rows_since(store: Store, seq: int) -> list[AuditRow]:
    return await store.audit.rows(after_seq=seq)


async def head(store: Store) -> int:
    newest = await store.audit.newest(limit=1)
    return newest[0].seq if newest else 0


def words_absent(rows: list[AuditRow], *words: str) -> bool:
    text = " ".join(f"{r.actor} {r.action} {r.subject} {r.reason}" for r in rows)
    return not any(w in text for w in words)


# (form path under the case page, form data, the audit action, a word its reason holds)
CASE_ACTIONS = [
    ("reply", {"text": REPLY}, "case_reply", "console"),
    ("notes", {"text": NOTE}, "case_note", "note"),
    ("refer", {"service": "polisi"}, "case_referral", "polisi"),
    ("release", {}, "case_release", "released"),
    ("close", {"outcome": "aman"}, "case_close", "aman"),
]


async def test_taking_a_case_from_the_queue_writes_a_row_naming_the_case(
    console: Console, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, [FAMILY_WORDS])
    before = await head(console.store)
    async with aclosing(http):
        taken = await post_form(http, f"/console/cases/{case.code}/take", "/console/queue", {})
        assert taken.status_code == 303
    [row] = [r for r in await rows_since(console.store, before) if r.action == "case_take"]
    assert (row.actor, row.subject) == (f"staff:{me}", f"case:{case.code}")


@pytest.mark.parametrize(("path", "data", "action", "word"), CASE_ACTIONS)
async def test_each_action_on_a_case_writes_one_row_without_anyones_words(
    console: Console,
    clock: Clock,
    path: str,
    data: dict[str, str],
    action: str,
    word: str,
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, [FAMILY_WORDS])
    await console.desk.handoff.take(me, case.id)
    before = await head(console.store)
    page = f"/console/cases/{case.code}"
    async with aclosing(http):
        done = await post_form(http, f"{page}/{path}", page, data)
        assert done.status_code == 303
    rows = [r for r in await rows_since(console.store, before) if r.action != "case_view"]
    assert [(r.actor, r.action, r.subject) for r in rows] == [
        (f"staff:{me}", action, f"case:{case.code}")
    ]
    assert word in rows[0].reason
    assert words_absent(rows, FAMILY_WORDS, REPLY, NOTE, "Ibu")


async def test_every_reply_is_sent_and_audited_not_only_the_first(
    console: Console, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, [FAMILY_WORDS])
    await console.desk.handoff.take(me, case.id)
    before = await head(console.store)
    page = f"/console/cases/{case.code}"
    async with aclosing(http):
        for text in ("Halo Ibu.", "Saya di sini."):
            done = await post_form(http, f"{page}/reply", page, {"text": text})
            assert done.headers["location"] == page + "?msg=sent"
    replies = [r for r in await rows_since(console.store, before) if r.action == "case_reply"]
    assert len(replies) == 2
    lines = await console.store.console_cases.transcript(case.contact_id)
    assert [ln.text for ln in lines if ln.source == "counsellor"] == ["Halo Ibu.", "Saya di sini."]


async def test_a_reply_from_telegram_is_audited_too(console: Console, clock: Clock) -> None:
    """The hand-off writes the row in the change's own transaction, whichever desk asks."""
    me, _ = await add_staff(console, "sari", ("counsellor",))
    case = await family_case(console.store, clock, [FAMILY_WORDS])
    await console.desk.handoff.take(me, case.id)
    before = await head(console.store)
    result = await console.desk.handoff.relay_out(me, case.id, REPLY, source="4711")
    assert result.done
    [row] = await rows_since(console.store, before)
    assert (row.action, row.subject) == ("case_reply", f"case:{case.code}")
    assert "staff chat" in row.reason and REPLY not in row.reason


async def test_a_refused_action_writes_no_row(console: Console, clock: Clock) -> None:
    owner, _ = await add_staff(console, "budi", ("counsellor",))
    _, http = await signed_in(console, clock, "susi", ("supervisor",))
    case = await family_case(console.store, clock, [FAMILY_WORDS])
    await console.desk.handoff.take(owner, case.id)
    before = await head(console.store)
    page = f"/console/cases/{case.code}"
    async with aclosing(http):
        refused = await post_form(http, f"{page}/reply", page, {"text": "halo"})
        assert refused.headers["location"].endswith("msg=not_yours")
    assert [r.action for r in await rows_since(console.store, before)] == ["case_view"]


async def test_marking_attendance_writes_a_row_naming_the_booking(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    _, code = await confirmed(console.store, sari, 1, TUESDAY_10)
    before = await head(console.store)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        page = "/console/bookings?day=2026-03-03"
        done = await post_form(
            http, f"/console/bookings/{code}/mark", page, {"outcome": "attended"}
        )
        assert done.status_code == 200
    [row] = [r for r in await rows_since(console.store, before) if r.action == "booking_attendance"]
    assert (row.actor, row.subject, row.reason) == (f"staff:{sari}", f"booking:{code}", "attended")


async def test_hours_and_closures_each_write_a_row(console: Console, clock: Clock) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    susi, secret = await add_staff(console, "susi", ("supervisor",))
    page = "/console/availability"
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        before = await head(console.store)
        hours = {"staff_id": str(sari), "weekday": "1", "start": "09:00", "end": "12:00"}
        await post_form(http, "/console/availability/hours", page, {**hours, "mode": "kantor"})
        [block] = await console.store.bookings.hours(sari)
        await post_form(http, f"/console/availability/hours/{block.id}/remove", page, {})
        closure = {"day": "2026-03-20", "reason": "Nyepi"}
        await post_form(http, "/console/availability/closures", page, closure)
        await post_form(http, "/console/availability/closures/2026-03-20/remove", page, {})
        refused = await post_form(
            http, "/console/availability/closures/2026-03-21/remove", page, {}
        )
        assert refused.status_code == 400
    rows = await rows_since(console.store, before)
    assert [(r.actor, r.action, r.subject) for r in rows] == [
        (f"staff:{susi}", "hours_added", f"staff:{sari}"),
        (f"staff:{susi}", "hours_removed", f"hours:{block.id}"),
        (f"staff:{susi}", "closure_added", "day:2026-03-20"),
        (f"staff:{susi}", "closure_removed", "day:2026-03-20"),
    ]
    assert words_absent(rows, "Nyepi")


async def test_the_figures_csv_export_writes_a_row(console: Console, clock: Clock) -> None:
    susi, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        before = await head(console.store)
        assert (await http.get("/console/figures.csv?month=2026-03")).status_code == 200
        assert (await http.get("/console/figures.csv?month=13-2026")).status_code == 400
    rows = await rows_since(console.store, before)
    assert [(r.actor, r.action, r.subject) for r in rows] == [
        (f"staff:{susi}", "figures_export", "month:2026-03")
    ]
