"""The office pages in a real browser (Debian's Chromium, headless): an admin edits,
checks and publishes a flow, reads the month's figures and a counsellor's week, on a
laptop and on a phone-sized screen. Screenshots land in tests/console/artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, paste, serving
from console_support import PASSWORD, T0, add_staff, code_for
from support import Clock
from test_console_bookings import confirmed
from test_console_figures import families

from bot.console.core import Console
from bot.console.office import Office

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def test_admin_publishes_a_flow_and_reads_the_figures_and_a_week(
    console: Console, office: Office, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright

    sari, _ = await add_staff(console, "sari", ("counsellor",))
    for n in range(3):
        await confirmed(console.store, sari, n, datetime(2026, 3, 3 + n, 1, tzinfo=T0.tzinfo))
    await families(console.store, [("kdrt", "darurat")] * 7 + [("anak", "segera")] * 3)
    await console.store.bookings.add_closure(T0.date() + timedelta(days=4), "Nyepi", T0)
    _, secret = await add_staff(console, "ana", ("admin", "supervisor"))
    assert secret is not None
    before = office.flows.library.current_version("welcome")
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await page.goto(served + "/console/")
            await page.get_by_label("Nama pengguna").fill("ana")
            await page.get_by_label("Kata sandi").fill(PASSWORD)
            await page.get_by_role("button", name="Masuk").click()
            await page.get_by_label("Kode 6 angka").fill(code_for(secret, clock))
            await page.get_by_role("button", name="Periksa").click()
            await page.get_by_role("heading", name="Selamat datang, Ana").wait_for()

            await page.get_by_role("navigation").get_by_role("link", name="Alur percakapan").click()
            await page.get_by_role("link", name="welcome").click()
            editor = page.get_by_label("Isi berkas TOML")
            source = await editor.input_value()
            await paste(editor, source.replace('next = "consent_ask"', 'next = "consent_aks"', 1))
            await page.get_by_role("button", name="Periksa").click()
            await page.get_by_text("tujuan 'consent_aks' tidak ada", exact=False).wait_for()
            await page.screenshot(path=str(ARTIFACTS / "flow-problems.png"), full_page=False)
            assert errors == [
                "Failed to load resource: the server responded with a status of 400 (Bad Request)"
            ]
            errors.clear()  # the refused check answers 400, as it should
            edited = source.replace("Terima kasih atas kepercayaan Anda.", "Terima kasih banyak.")
            await paste(page.get_by_label("Isi berkas TOML"), edited)
            await page.get_by_role("button", name="Periksa").click()
            await page.get_by_text("Alur ini valid dan siap diterbitkan.").wait_for()
            await page.get_by_role("button", name="Terbitkan").click()
            await page.get_by_text("diterbitkan. Percakapan baru memakai versi ini.").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "flow-published.png"), full_page=False)

            await page.get_by_role("navigation").get_by_role("link", name="Angka bulanan").click()
            await page.get_by_role("heading", name="Angka bulan 2026-03").wait_for()
            assert await page.locator("svg.bar-chart").count() == 3  # urgency, category, bookings
            assert await page.locator("svg.bar-chart rect.bar").count() == 2  # "<5" draws none
            await page.screenshot(path=str(ARTIFACTS / "figures.png"), full_page=True)

            await page.goto(served + f"/console/bookings?staff={sari}&day=2026-03-03&view=week")
            await page.get_by_text("Kantor tutup: Nyepi").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "bookings-week.png"), full_page=True)

            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto(served + f"/console/bookings?staff={sari}&day=2026-03-03")
            # Tomorrow's appointment: no "Tidak hadir" button before its time, only the hint.
            await page.get_by_text("Tidak hadir: bisa dicatat setelah 10:00").first.wait_for()
            assert await page.get_by_role("button", name="Tidak hadir").count() == 0
            await page.get_by_role("button", name="Hadir").first.click()
            await page.get_by_text("dicatat: Hadir.").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "bookings-phone.png"), full_page=True)
            await page.goto(served + "/console/figures")
            await page.screenshot(path=str(ARTIFACTS / "figures-phone.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
    assert office.flows.library.current_version("welcome") != before
    assert "Terima kasih banyak." in office.flows.source("welcome")
