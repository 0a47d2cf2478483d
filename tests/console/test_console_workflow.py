"""The counsellor under stress (issue 20): nothing irreversible in one tap, no-shows only
after the time, a queue that tells urgent cases apart, and a case page that stays live."""

from __future__ import annotations

import json
from contextlib import aclosing

from case_support import family_case
from console_support import add_staff, client, csrf_of, login, post_form, signed_in
from support import Clock
from test_console_bookings import HOUR, TUESDAY_10, confirmed, follow_ups

from bot.console.core import Console
from bot.console.office import Office
from bot.handoff.kinds import crisis_kinds
from bot.safety import Assessment, Level
from storage.records import CaseOpen, NewInbound, TurnWrite


async def test_a_no_show_is_refused_before_the_appointment_and_asks_first_after_it(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    contact, code = await confirmed(console.store, sari, 1, TUESDAY_10)
    before = await follow_ups(console.store, contact)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        page = "/console/bookings?day=2026-03-03"
        shown = (await http.get(page)).text
        assert "Tidak hadir: bisa dicatat setelah 10:00" in shown, "no button before the time"
        assert 'value="no_show"' not in shown
        early = await post_form(
            http, f"/console/bookings/{code}/mark", page, {"outcome": "no_show", "confirm": "yes"}
        )
        assert early.status_code == 400 and "belum dimulai (mulai 10:00)" in early.text
        clock.advance((TUESDAY_10 + HOUR / 2 - clock()).total_seconds())
        await login(http, "sari", None, clock)  # the next morning: signed in again
        assert 'value="no_show"' in (await http.get(page)).text
        asked = await post_form(
            http, f"/console/bookings/{code}/mark", page, {"outcome": "no_show"}
        )
        assert asked.status_code == 200 and f"Catat janji {code} sebagai tidak hadir?" in asked.text
        assert await follow_ups(console.store, contact) == before, "the first tap sends nothing"
        done = await post_form(
            http, f"/console/bookings/{code}/mark", page, {"outcome": "no_show", "confirm": "yes"}
        )
        assert f"Janji {code} dicatat: Tidak hadir." in done.text
    assert await follow_ups(console.store, contact) == before + 1
    booking = await console.store.bookings.by_code(code)
    assert booking is not None and booking.status == "no_show"


async def test_deactivate_and_reset_second_factor_ask_first(console: Console, clock: Clock) -> None:
    target, _ = await add_staff(console, "budi", ("counsellor",), totp=True)
    _, http = await signed_in(console, clock, "ana", ("admin",))
    async with aclosing(http):
        asked = await post_form(
            http, f"/console/users/{target}/active", "/console/users", {"active": "0"}
        )
        assert asked.status_code == 200 and "Nonaktifkan akun Budi?" in asked.text
        assert 'name="confirm" value="yes"' in asked.text and 'href="/console/users"' in asked.text
        reset = await post_form(http, f"/console/users/{target}/totp-reset", "/console/users", {})
        assert "Atur ulang verifikasi dua langkah Budi?" in reset.text
        member = await console.store.staff.get(target)
        assert member is not None and member.active, "one tap changed nothing"
        assert await console.store.console.totp_secret(target) is not None
        await post_form(
            http,
            f"/console/users/{target}/active",
            "/console/users",
            {"active": "0", "confirm": "yes"},
        )
    member = await console.store.staff.get(target)
    assert member is not None and not member.active


async def test_a_close_needs_a_chosen_outcome_and_a_second_step(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)  # urgent
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        shown = (await http.get(page)).text
        assert '<option value="" selected disabled>— Pilih hasil —</option>' in shown
        assert 'name="ask_rating" value="yes">' in shown, "urgent: the rating box is unticked"
        bare = await post_form(http, page + "/close", page, {"confirm": "yes"})
        assert bare.headers["location"].endswith("?msg=need_outcome")
        kind = (await http.get(bare.headers["location"])).text
        assert "Pilih dulu hasil kasus ini, lalu tutup lagi." in kind
        asked = await post_form(http, page + "/close", page, {"outcome": "dirujuk"})
        assert f"Tutup kasus {case.code} dengan hasil “Dirujuk”?" in asked.text
        assert "tanpa pertanyaan penilaian" in asked.text
        assert '<input type="hidden" name="ask_rating" value="no">' in asked.text
        still = await console.store.handoff.get(case.id)
        assert still is not None and still.status == "taken"
        rated = await post_form(
            http,
            page + "/close",
            page,
            {"outcome": "dirujuk", "ask_rating": "yes", "confirm": "yes"},
        )
        assert rated.headers["location"].endswith("?msg=closed")
    closed = await console.store.handoff.get(case.id)
    assert closed is not None and (closed.status, closed.outcome) == ("closed", "dirujuk")
    session = await console.store.sessions.get(case.contact_id)
    assert session is not None and '"feedback"' in session, "asked to rate, as ticked"


def test_crisis_kinds_are_named_from_rule_ids_never_words() -> None:
    urgent = Assessment(Level.URGENT, ("violence.ongoing", "child.danger", "violence.threat"))
    assert crisis_kinds(urgent) == "violence_now,child_danger"
    assert crisis_kinds(Assessment(Level.URGENT, ("model.urgent",))) == "unclear"
    assert crisis_kinds(Assessment(Level.CHECK, ("hopeless",))) == ""


async def test_the_queue_names_each_emergencys_kind_and_a_release_keeps_its_place(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    first = await family_case(console.store, clock, address="7001")
    await _raise(console, clock, first.contact_id, "7001", "suicide")
    clock.advance(minutes=10)
    second = await family_case(console.store, clock, address="7002")
    await _raise(console, clock, second.contact_id, "7002", "child_danger,sexual_violence")
    assert (await office.handoff.take(me, first.id)).done
    clock.advance(minutes=5)
    assert (await office.handoff.release(me, first.id)).done
    queue = await office.handoff.queue()
    assert [c.code for c in queue] == [first.code, second.code], "back in its first place"
    async with aclosing(http):
        shown = (await http.get("/console/queue")).text
    assert shown.index(first.code) < shown.index(second.code)
    row = shown[shown.index(f'data-case="{first.code}"') :].split("</tr>")[0]
    assert "Bunuh diri" in row and "15 mnt" in row, "its whole wait, not 0 mnt"
    row = shown[shown.index(f'data-case="{second.code}"') :].split("</tr>")[0]
    assert "Anak dalam bahaya" in row and "Kekerasan seksual" in row
    assert "memukuli" not in shown, "never the family's words"


async def _raise(console: Console, clock: Clock, contact_id: int, address: str, kinds: str) -> None:
    """Another urgent message of the family, as the pipeline records it."""
    contact = await console.store.contacts.get(contact_id)
    assert contact is not None
    _, inbox_id = await console.store.turns.receive(
        contact.channel,
        address,
        NewInbound(contact.channel, f"k{contact_id}", "text", "x", clock()),
    )
    assert inbox_id is not None
    await console.store.turns.commit_turn(
        TurnWrite(
            inbox_id, contact_id, "{}", (), clock(), cases=(CaseOpen("krisis", "darurat", kinds),)
        )
    )


async def test_the_case_stream_sends_a_new_family_message_and_a_reply_by_script_stays_in_place(
    console: Console, office: Office, clock: Clock
) -> None:
    me, http = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(http):
        page = f"/console/cases/{case.code}"
        shown = (await http.get(page)).text
        mark = shown.split('data-mark="')[1].split('"')[0]
        quiet = await http.get(page + f"/events?since={mark}")
        assert "event: thread" not in quiet.text, "nothing new: nothing sent"
        contact = await console.store.contacts.get(case.contact_id)
        assert contact is not None
        await console.store.turns.receive(
            contact.channel,
            "7001",
            NewInbound(contact.channel, "late-1", "text", "dia datang lagi", clock()),
        )
        fresh = await http.get(page + f"/events?since={mark}")
        assert "event: thread" in fresh.text and "dia datang lagi" in fresh.text
        token = csrf_of(shown)
        sent = await http.post(
            page + "/reply",
            data={"csrf": token, "text": "Kunci pintu, saya di sini."},
            headers={"X-Requested-With": "fetch"},
        )
        assert sent.status_code == 200
        answer = json.loads(sent.text)
        assert answer["ok"] and answer["notice"] == "Balasan dikirim ke keluarga."
        assert "Kunci pintu, saya di sini." in answer["thread"]
        empty = await http.post(
            page + "/reply",
            data={"csrf": token, "text": " "},
            headers={"X-Requested-With": "fetch"},
        )
        assert not json.loads(empty.text)["ok"]
    views = [r for r in await console.store.audit.rows() if r.action == "case_view"]
    assert len(views) >= 3, "the page and each stream opened are readings, audited"
