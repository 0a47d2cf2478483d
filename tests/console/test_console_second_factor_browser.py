"""The second factor in Chromium on a phone: a counsellor enrols at first login, and a
guesser's wrong codes end on the password page with a kind word (screenshots in artifacts/)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving
from console_support import PASSWORD, add_staff, code_for
from support import Clock

from bot.console.core import Console

pytestmark = [pytest.mark.browser, needs_chromium]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def test_a_counsellor_enrols_on_a_phone_then_five_wrong_codes_ask_for_the_password(
    console: Console, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright

    member_id, _ = await add_staff(console, "nona", ("counsellor",), totp=False)
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport=PHONE)
            errors: list[str] = []
            # A wrong code is answered 401, which Chromium logs: only script errors count.
            page.on("pageerror", lambda e: errors.append(str(e)))

            async def password() -> None:
                await page.goto(served + "/console/login")
                await page.get_by_label("Nama pengguna").fill("nona")
                await page.get_by_label("Kata sandi").fill(PASSWORD)
                await page.get_by_role("button", name="Masuk").click()

            await password()
            await page.get_by_role("heading", name="Verifikasi dua langkah").wait_for()
            assert await page.get_by_role("img", name="Kode QR").count() == 1
            await page.get_by_label("Kode 6 angka").fill("000000")
            await page.get_by_role("button", name="Aktifkan").click()
            await page.get_by_role("alert").get_by_text("Kode tidak cocok").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "enrol-phone.png"), full_page=True)
            secret = await console.store.console.totp_secret(member_id)
            assert secret is not None
            await page.get_by_label("Kode 6 angka").fill(code_for(secret, clock))
            await page.get_by_role("button", name="Aktifkan").click()
            await page.get_by_role("heading", name="Selamat datang, Nona").wait_for()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]

            await page.locator("#top-menu > summary").click()  # on a phone, in the menu
            await page.get_by_role("button", name="Keluar").click()
            await password()
            for _ in range(5):
                await page.get_by_label("Kode 6 angka").fill("123456")
                await page.get_by_role("button", name="Periksa").click()
            await page.get_by_role("heading", name="Masuk ke konsol").wait_for()
            alert = page.get_by_role("alert")
            await alert.get_by_text("silakan masuk lagi dengan kata sandi Anda").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "totp-restart-phone.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
