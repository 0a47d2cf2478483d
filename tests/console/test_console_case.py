"""The case page: who may read it, what it shows, and every action on it."""

from __future__ import annotations

import dataclasses
from contextlib import aclosing
from datetime import timedelta

import pytest
from case_support import family_case
from console_support import add_staff, client, login, make_console, post_form, signed_in
from support import Clock

from bot.console.core import Console
from bot.console.office import Office
from storage.records import NewInbound, NewOutbound, TurnWrite

SCRIPT = "<script>alert(1)</script>"


# --- who may read a case -------------------------------------------------------------

# (viewer's roles, does the viewer hold the case?) -> status of GET /console/cases/{code}
READERS = [
    (("counsellor",), True, 200),
    (("counsellor",), False, 403),  # held by another counsellor
    (("supervisor",), False, 200),
    (("admin",), False, 403),
    (("admin", "counsellor"), False, 403),
    (("admin", "counsellor"), True, 200),
]


@pytest.mark.parametrize(("roles", "holds", "status"), READERS)
async def test_a_case_is_read_by_its_holder_and_supervisors_only(
    console: Console,
    office: Office,
    clock: Clock,
    roles: tuple[str, ...],
    holds: bool,
    status: int,
) -> None:
    other, _ = await add_staff(console, "budi", ("counsellor",))
    me, http = await signed_in(console, clock, "me", roles)
    case = await family_case(console.store, clock)
    assert (await office.handoff.take(me if holds else other, case.id)).done
    async with aclosing(http):
        response = await http.get(f"/console/cases/{case.code}")
    assert response.status_code == status
    views = [r for r in await console.store.audit.rows() if r.action == "case_view"]
    if status == 200:
        assert "suami saya memukuli saya sekarang" in response.text
        assert [(r.actor, r.subject) for r in views] == [
            (f"staff:{me}", f"case:{case.code},contact:{case.contact_id}")
        ]
    else:
        assert "memukuli" not in response.text and views == []


async def test_a_case_waiting_in_the_queue_is_not_readable_by_a_counsellor_before_taking_it(
    console: Console, clock: Clock
) -> None:
    _, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    async with aclosing(http):
        assert (await http.get(f"/console/cases/{case.code}")).status_code == 403
        assert (await http.get("/console/cases/NOSUCH")).status_code == 404


# --- what it shows -------------------------------------------------------------------


async def test_case_page_shows_triage_transcript_in_office_time_and_audits_the_reading(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, ["halo", "suami saya memukuli saya sekarang"])
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = (await http.get(f"/console/cases/{case.code}")).text
    for shown in (
        "KDRT",
        "Darurat",
        "Saya sendiri",  # who: the triage flow's own label
        "Beberapa bulan",  # since
        "2 dari 3 jawaban ya",  # SRQ-20 score
        "1/20. Apakah Anda sering menderita sakit kepala?",
        "02/03/2026 17:00 WIT",  # 08:00 UTC in Ambon (Asia/Jayapura)
    ):
        assert shown in page, shown
    order = [page.index(w) for w in ("halo", "Anda tidak sendirian", "suami saya memukuli")]
    assert order == sorted(order), "the transcript is in the order it happened"
    assert (await console.store.audit.verify()).ok


async def test_every_family_and_staff_text_is_escaped(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock, [SCRIPT], reply=SCRIPT)
    await office.handoff.take(me, case.id)
    await office.handoff.note(me, case.id, SCRIPT)
    await office.handoff.relay_out(me, case.id, SCRIPT, source="test")
    async with aclosing(http):
        page = (await http.get(f"/console/cases/{case.code}")).text
    assert SCRIPT not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4  # in, out, note, relay


async def test_whatsapp_window_is_shown_for_whatsapp_families_only(
    console: Console, office: Office, clock: Clock
) -> None:
    me, _ = await add_staff(console, "sari", ("counsellor",))
    wa = await family_case(console.store, clock, channel="whatsapp", address="+628123")
    tg = await family_case(console.store, clock, address="7002")
    await office.handoff.take(me, wa.id)
    await office.handoff.take(me, tg.id)
    # (seconds since the family's message, what the counsellor is told)
    for later, says in [
        (3600, "WhatsApp: balasan bebas masih bisa dikirim selama 22 j 50 mnt lagi."),
        (25 * 3600, "WhatsApp: jendela 24 jam sudah tertutup."),
    ]:
        clock.now = wa.opened_at + timedelta(seconds=later - 1)  # opened 1 s after it came
        async with client(console) as http:
            await login(http, "sari", None, clock)
            assert says in (await http.get(f"/console/cases/{wa.code}")).text
            assert "WhatsApp" not in (await http.get(f"/console/cases/{tg.code}")).text


async def test_case_page_speaks_english_when_asked(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        await post_form(http, "/console/lang", page, {"lang": "en", "back": page})
        text = (await http.get(page)).text
    assert "Domestic violence" in text and "Myself" in text and "Private notes" in text


# --- actions ---------------------------------------------------------------------------


async def test_reply_relays_to_the_family_at_once_and_counts_as_first_reply(
    store: object, office: Office, clock: Clock
) -> None:
    wakes: list[int] = []
    office = dataclasses.replace(office, wake_sender=lambda: wakes.append(1))
    console = make_console(office.handoff._store, clock, office=office)  # noqa: SLF001
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        done = await post_form(http, page + "/reply", page, {"text": "Saya Sari, saya di sini."})
        assert done.status_code == 303 and done.headers["location"] == page + "?msg=sent"
        shown = (await http.get(done.headers["location"])).text
    assert "Balasan dikirim ke keluarga." in shown and "Saya Sari, saya di sini." in shown
    lines = await console.store.console_cases.transcript(case.contact_id)
    relayed = [line for line in lines if line.source == "counsellor"]
    assert [line.text for line in relayed] == ["Saya Sari, saya di sini."]
    after = await console.store.handoff.get(case.id)
    assert after is not None and after.first_reply_at is not None
    assert wakes, "the sender is woken so the reply leaves now"


# (form path, form data, the notice shown) for bad input: a kind word, nothing done.
BAD_INPUT = [
    ("reply", {"text": "   "}, "Teksnya kosong"),
    ("notes", {"text": ""}, "Teksnya kosong"),
    ("refer", {"service": SCRIPT}, "Pilihan itu tidak dikenal"),
    ("close", {"outcome": "meledak"}, "Pilihan itu tidak dikenal"),
]


@pytest.mark.parametrize(("action", "data", "says"), BAD_INPUT)
async def test_bad_input_gets_a_kind_answer_and_changes_nothing(
    console: Console, office: Office, clock: Clock, action: str, data: dict[str, str], says: str
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    before = await console.store.handoff.events(case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        done = await post_form(http, f"{page}/{action}", page, data)
        assert done.status_code == 303 and SCRIPT not in done.headers["location"]
        shown = (await http.get(done.headers["location"])).text
    assert says in shown
    assert await console.store.handoff.events(case.id) == before


async def test_notes_and_referrals_are_kept_and_listed_notes_sealed(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        noted = await post_form(http, page + "/notes", page, {"text": "Ibu R. aman di rumah kakak"})
        assert noted.headers["location"].endswith("?msg=noted")
        referred = await post_form(http, page + "/refer", page, {"service": "uptd_ppa"})
        assert referred.headers["location"].endswith("?msg=referred")
        shown = (await http.get(page)).text
    assert "Ibu R. aman di rumah kakak" in shown and "UPTD PPA" in shown
    [referral] = await console.store.handoff.referrals(case.id)
    assert referral.service == "uptd_ppa" and referral.staff_id == me
    files = [console.store.path, console.store.path.with_name("lk3.db-wal")]
    raw = b"".join(p.read_bytes() for p in files if p.exists())
    assert b"aman di rumah kakak" not in raw


async def test_close_with_an_outcome_and_release_back_to_the_queue(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    first = await family_case(console.store, clock)
    second = await family_case(console.store, clock, address="7002")
    await office.handoff.take(me, first.id)
    await office.handoff.take(me, second.id)
    async with aclosing(http):
        page = f"/console/cases/{first.code}"
        asked = await post_form(http, page + "/close", page, {"outcome": "aman"})
        assert asked.status_code == 200 and "Tutup kasus" in asked.text, "a second step first"
        assert (await console.store.handoff.get(first.id)).status == "taken"  # type: ignore[union-attr]
        closed = await post_form(http, page + "/close", page, {"outcome": "aman", "confirm": "yes"})
        assert closed.headers["location"].endswith("?msg=closed_quiet"), "urgent: no rating asked"
        shown = (await http.get(page)).text
        assert "Sudah aman" in shown and "Ditutup" in shown and 'id="reply-text"' not in shown
        page = f"/console/cases/{second.code}"
        asked = await post_form(http, page + "/release", page, {})
        assert asked.status_code == 200 and f"Kembalikan kasus {second.code}" in asked.text
        released = await post_form(http, page + "/release", page, {"confirm": "yes"})
        assert released.headers["location"] == "/console/queue"
        assert (await http.get(page)).status_code == 403, "no longer theirs to read"
    first_now = await console.store.handoff.get(first.id)
    second_now = await console.store.handoff.get(second.id)
    assert first_now is not None and (first_now.status, first_now.outcome) == ("closed", "aman")
    assert second_now is not None and second_now.status == "open"


async def test_supervisor_may_close_but_not_reply_on_a_case_someone_else_holds(
    console: Console, office: Office, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    _, http = await signed_in(console, clock, "maya", ("supervisor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(sari, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        assert 'id="reply-text"' not in (await http.get(page)).text
        refused = await post_form(http, page + "/reply", page, {"text": "halo"})
        assert refused.headers["location"].endswith("?msg=not_yours")
        closed = await post_form(
            http, page + "/close", page, {"outcome": "selesai", "confirm": "yes"}
        )
        assert closed.headers["location"].endswith("?msg=closed_quiet")
    lines = await console.store.console_cases.transcript(case.contact_id)
    assert not [line for line in lines if line.source == "counsellor"]
    after = await console.store.handoff.get(case.id)
    assert after is not None and after.status == "closed"


async def test_actions_without_the_csrf_token_are_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        for action, data in [("reply", {"text": "x"}), ("close", {"outcome": "aman"})]:
            refused = await http.post(f"/console/cases/{case.code}/{action}", data=data)
            assert refused.status_code == 403
    after = await console.store.handoff.get(case.id)
    assert after is not None and after.status == "taken" and after.first_reply_at is None


async def test_a_family_who_left_in_a_hurry_is_shown_and_not_written_to(
    store: object, office: Office, clock: Clock
) -> None:
    console = make_console(office.handoff._store, clock, office=office)  # noqa: SLF001
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    item = NewInbound("telegram", "7001-exit", "text", "keluar", clock())
    contact, inbox_id = await console.store.turns.receive("telegram", "7001", item)
    assert inbox_id is not None
    neutral = NewOutbound(contact.id, "telegram", "Oke, terima kasih.", (), 0, clock())
    await console.store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, "{}", (neutral,), clock(), quick_exit=True)
    )
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        shown = (await http.get(page)).text
        assert "keluar cepat" in shown and "jangan menelepon" in shown
        assert 'action="/console/cases/' + case.code + '/reply"' not in shown, "no reply form"
        refused = await post_form(http, page + "/reply", page, {"text": "Ibu di mana?"})
        assert refused.headers["location"] == page + "?msg=family_left"
    lines = await console.store.console_cases.transcript(case.contact_id)
    assert not [line for line in lines if line.source == "counsellor"], "nothing was sent"
