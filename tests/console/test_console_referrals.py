"""Referral destinations page (admins): add, rename, retire; the case page offers what is
offered and still names a retired destination on a case referred to it; every change audited."""

from __future__ import annotations

from contextlib import aclosing

from case_support import family_case
from console_support import add_staff, client, login, post, post_form, signed_in
from support import Clock

from bot.console.core import Console
from bot.console.office import Office


async def test_an_admin_adds_a_destination_and_the_case_page_offers_it(
    console: Console, office: Office, clock: Clock
) -> None:
    admin, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        page = await http.get("/console/referrals")
        assert page.status_code == 200 and "uptd_ppa" in page.text and "UPTD PPA" in page.text
        added = await post(
            http,
            "/console/referrals",
            {"code": "rumah_aman", "label_id": "Rumah aman", "label_en": "Safe house"},
            "/console/referrals",
        )
        assert added.status_code == 200 and "rumah_aman" in added.text
    me, sari = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    async with aclosing(sari):
        case_page = f"/console/cases/{case.code}"
        shown = (await sari.get(case_page)).text
        assert 'value="rumah_aman"' in shown and "Rumah aman" in shown
        referred = await post_form(sari, case_page + "/refer", case_page, {"service": "rumah_aman"})
        assert referred.headers["location"].endswith("?msg=referred")
    rows = [(r.actor, r.action, r.subject) for r in await console.store.audit.rows()]
    assert (f"staff:{admin}", "referral_added", "referral:rumah_aman") in rows


async def test_a_retired_destination_is_not_offered_but_old_cases_keep_its_name(
    console: Console, office: Office, clock: Clock
) -> None:
    me, sari = await signed_in(console, clock, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.take(me, case.id)
    await office.handoff.refer(me, case.id, "lbh")
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        retired = await post(
            http,
            "/console/referrals/lbh",
            {"label_id": "LBH Ambon", "label_en": "Legal aid Ambon"},
            "/console/referrals",
        )
        assert retired.status_code == 200
    destination = await console.store.referrals.get("lbh")
    assert destination is not None and not destination.active
    assert destination.label_id == "LBH Ambon"
    async with aclosing(sari):
        case_page = f"/console/cases/{case.code}"
        shown = (await sari.get(case_page)).text
        assert 'value="lbh"' not in shown and "LBH Ambon" in shown
        refused = await post_form(sari, case_page + "/refer", case_page, {"service": "lbh"})
        assert refused.headers["location"].endswith("?msg=bad_choice")
    reasons = [r.reason for r in await console.store.audit.rows() if r.action == "referral_changed"]
    assert reasons == ["renamed, retired"]


async def test_a_bad_code_is_refused_in_the_admins_language(console: Console, clock: Clock) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        refused = await post(
            http,
            "/console/referrals",
            {"code": "=HYPERLINK(1)", "label_id": "x", "label_en": "x"},
            "/console/referrals",
        )
        taken = await post(
            http,
            "/console/referrals",
            {"code": "polisi", "label_id": "Polisi", "label_en": "Police"},
            "/console/referrals",
        )
    assert refused.status_code == 400 and "tidak bisa dipakai" in refused.text
    assert taken.status_code == 400 and "sudah dipakai" in taken.text
    assert [d.code for d in await console.store.referrals.list()].count("polisi") == 1


async def test_only_admins_see_the_page_and_a_post_without_csrf_is_refused(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        assert (await http.get("/console/referrals")).status_code == 403
    _, admin = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", admin, clock)
        forged = await http.post(
            "/console/referrals", data={"code": "palsu", "label_id": "P", "label_en": "P"}
        )
        assert forged.status_code == 403
    assert await console.store.referrals.get("palsu") is None
