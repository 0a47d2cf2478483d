"""The queue and a case in a real browser: an emergency arrives live, is taken and answered.

Debian's Chromium, headless, through Playwright. Screenshots (desktop and a 390 px
phone) land in tests/console/artifacts/ for a person to look at.
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
from storage.store import Store

pytestmark = [pytest.mark.browser, needs_chromium]
SECRETS: dict[str, str | None] = {}  # the fixture's staff, for the code form
WORDS = "suami saya memukuli saya sekarang <script>alert(1)</script>"


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


async def test_urgent_case_appears_live_sounds_is_taken_and_answered(
    served: str, store: Store, clock: Clock
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await sign_in(page, served, "sari", PASSWORD, code_for(str(SECRETS["sari"]), clock))
            await page.get_by_role("link", name="Antrean").click()
            await page.get_by_text("Tidak ada kasus yang menunggu.").wait_for()
            await page.get_by_text("Langsung: diperbarui otomatis.").wait_for()

            case = await family_case(store, clock, [WORDS])  # arrives while the page is open
            alert = page.get_by_role("alert")
            await alert.get_by_text(f"KASUS DARURAT BARU: {case.code}").wait_for()
            await page.wait_for_function("Number(document.body.dataset.sounds || 0) >= 1")
            assert (await page.title()).startswith("(!) ")
            await page.screenshot(path=str(ARTIFACTS / "queue-urgent.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=str(ARTIFACTS / "queue-urgent-phone.png"), full_page=True)
            await page.set_viewport_size({"width": 1200, "height": 900})

            await page.get_by_role("button", name="Saya sudah melihat").click()
            assert await alert.is_hidden()
            await page.get_by_role("button", name=f"Ambil kasus {case.code}").click()
            await page.get_by_role("heading", name=f"Kasus {case.code}").wait_for()
            assert await page.get_by_text(WORDS).count() == 1, "shown as text, not run"
            await page.get_by_label("Balasan untuk keluarga").fill("Saya Sari. Anda aman sekarang?")
            await page.get_by_role("button", name="Kirim").click()
            await page.get_by_text("Balasan dikirim ke keluarga.").wait_for()
            await page.get_by_text("Saya Sari. Anda aman sekarang?").wait_for()
            await page.get_by_label("Catatan baru").fill("Perlu dihubungi lagi sore ini.")
            await page.get_by_role("button", name="Simpan catatan").click()
            await page.get_by_text("Catatan disimpan.").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "case.png"), full_page=True)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.screenshot(path=str(ARTIFACTS / "case-phone.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
    lines = await store.console_cases.transcript(case.contact_id)
    assert [line.text for line in lines if line.source == "counsellor"] == [
        "Saya Sari. Anda aman sekarang?"
    ]
