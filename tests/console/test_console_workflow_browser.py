"""An urgent case on a phone and on a desktop, in a real browser: the alarm on whatever page
is open, the kind of danger in the queue, a live conversation, a reply that keeps the
counsellor's place, and a close that asks first and does not ask the family to rate.

Debian's Chromium, headless, through Playwright; screenshots of each step land in
tests/console/artifacts/ (`urgent-<size>-<n>-<step>.png`) for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving, sign_in
from case_support import family_case
from console_support import FAST, PASSWORD, add_staff, code_for
from support import Clock

from bot.console.app import build_console
from bot.console.office import Office
from bot.console.queue_feed import FeedSettings
from storage.records import NewInbound
from storage.store import Store

pytestmark = [pytest.mark.browser, needs_chromium]
SECRETS: dict[str, str | None] = {}
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
async def served(store: Store, office: Office, clock: Clock) -> AsyncIterator[str]:
    console = build_console(
        store,
        clock=clock,
        settings=FAST,
        office=office,
        queue_feed=FeedSettings(interval=0.1, heartbeat=30, lifetime=3600),
    )
    _, SECRETS["sari"] = await add_staff(console, "sari", ("counsellor",))
    async with serving(console) as address:
        yield address


@pytest.mark.parametrize("size", sorted(SIZES))
async def test_an_urgent_case_from_alarm_to_close(
    served: str, store: Store, clock: Clock, size: str
) -> None:
    from playwright.async_api import async_playwright

    shots = iter(range(1, 20))

    async def shot(page: object, step: str) -> None:
        await page.screenshot(  # type: ignore[attr-defined]
            path=str(ARTIFACTS / f"urgent-{size}-{next(shots)}-{step}.png"), full_page=False
        )

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport=SIZES[size])  # type: ignore[arg-type]
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await sign_in(page, served, "sari", PASSWORD, code_for(str(SECRETS["sari"]), clock))
            await page.get_by_role("heading", name="Selamat datang").wait_for()

            # 1. On the home page, not the queue: an emergency arrives.
            case = await family_case(
                store, clock, ["aku mau mati saja malam ini"], crisis="suicide"
            )
            alert = page.get_by_role("alert")
            await alert.get_by_text(f"KASUS DARURAT BARU: {case.code} (Bunuh diri)").wait_for()
            await page.wait_for_function("Number(document.body.dataset.alarms || 0) >= 1")
            assert (await page.title()).startswith("(!) ")
            await shot(page, "alarm-on-home")

            # 2. The queue names the kind of danger, never the family's words.
            await alert.get_by_role("link", name="Buka antrean").click()
            row = page.locator(f'tr[data-case="{case.code}"]')
            await row.get_by_text("Bunuh diri").wait_for()
            assert await page.get_by_text("aku mau mati").count() == 0
            await shot(page, "queue")
            await page.get_by_role("button", name="Saya sudah melihat").click()
            await page.get_by_role("button", name=f"Ambil kasus {case.code}").click()
            await page.get_by_role("heading", name=f"Kasus {case.code}").wait_for()
            await shot(page, "case-opened")

            # 3. The family writes again: it appears without a reload.
            await page.evaluate("window.stayed = true")
            await store.turns.receive(
                "telegram", "7001", NewInbound("telegram", "again-1", "text", "dia pulang", clock())
            )
            await page.locator("#case-thread").get_by_text("dia pulang").wait_for()
            await page.get_by_text("Pesan baru dalam percakapan.").wait_for()

            # 4. A reply: sent in place, the counsellor's place and focus kept.
            box = page.get_by_label("Balasan untuk keluarga")
            await box.fill("Saya Sari. Apakah Anda di tempat aman sekarang?")
            await box.scroll_into_view_if_needed()
            before = await page.evaluate("window.scrollY")
            await page.get_by_role("button", name="Kirim", exact=True).click()
            await page.locator("#case-thread").get_by_text("Apakah Anda di tempat aman").wait_for()
            await (
                page.locator("#reply-status").get_by_text("Balasan dikirim ke keluarga.").wait_for()
            )
            assert await page.evaluate("window.stayed === true"), "the page was not reloaded"
            assert await page.evaluate("document.activeElement.id") == "reply-text"
            assert await box.input_value() == ""
            after = await page.evaluate("window.scrollY")
            if before > 0:
                assert after > before / 2, f"jumped towards the top: {before} -> {after}"
            await shot(page, "replied")

            # 5. Close: an outcome must be chosen, a second step, no rating question.
            await page.get_by_role("button", name="Tutup kasus").click()
            assert await page.evaluate("window.stayed === true"), "the browser refused it first"
            await page.get_by_label("Hasil").select_option("aman")
            assert not await page.get_by_label("Minta keluarga menilai").is_checked()
            await page.get_by_role("button", name="Tutup kasus").click()
            await page.get_by_role("heading", name=f"Tutup kasus {case.code}").wait_for()
            await page.get_by_text("tanpa pertanyaan penilaian").wait_for()
            await shot(page, "close-confirm")
            await page.get_by_role("button", name="Ya, tutup kasus").click()
            await page.get_by_text("Kasus ditutup. Keluarga diberi ucapan terima kasih").wait_for()
            await shot(page, "closed")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES[size]["width"], f"the page is {width} px wide"
            assert errors == []
        finally:
            await browser.close()
    closed = await store.handoff.get(case.id)
    assert closed is not None and (closed.status, closed.outcome) == ("closed", "aman")
    session = await store.sessions.get(case.contact_id)
    assert session is None or '"feedback"' not in session, "not asked to rate"


async def test_without_javascript_a_reply_and_a_close_still_work(
    served: str, store: Store, clock: Clock, office: Office
) -> None:
    from playwright.async_api import async_playwright

    sari = await store.staff.by_username("sari")
    assert sari is not None
    case = await family_case(store, clock, crisis="violence_now")
    assert (await office.handoff.take(sari.id, case.id)).done
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(java_script_enabled=False, viewport=SIZES["phone"])  # type: ignore[arg-type]
            page = await context.new_page()
            await sign_in(page, served, "sari", PASSWORD, code_for(str(SECRETS["sari"]), clock))
            await page.goto(served + f"/console/cases/{case.code}")
            await page.get_by_text("Kekerasan sedang terjadi").wait_for()
            await page.get_by_label("Balasan untuk keluarga").fill("Tanpa skrip pun sampai.")
            await page.get_by_role("button", name="Kirim", exact=True).click()
            await page.get_by_text("Balasan dikirim ke keluarga.").wait_for()
            await page.get_by_text("Tanpa skrip pun sampai.").wait_for()
            await page.get_by_role("button", name="Kembalikan ke antrean").click()
            await page.get_by_role(
                "heading", name=f"Kembalikan kasus {case.code} ke antrean?"
            ).wait_for()
            await page.get_by_role("link", name="Batal, kembali").click()
            await page.get_by_label("Hasil").select_option("selesai")
            await page.get_by_role("button", name="Tutup kasus").click()
            await page.get_by_role("button", name="Ya, tutup kasus").click()
            await page.get_by_text("Kasus ditutup.").wait_for()
        finally:
            await browser.close()
    closed = await store.handoff.get(case.id)
    assert closed is not None and closed.outcome == "selesai"
