"""The console in a real browser: Debian's Chromium driven by Playwright, headless.

Screenshots land in tests/console/artifacts/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving
from console_support import PASSWORD, add_staff, code_for
from support import Clock

from bot.console.core import Console

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def test_admin_signs_in_with_password_and_totp_then_adds_a_user(
    console: Console, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright

    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await page.goto(served + "/console/")
            await page.get_by_label("Nama pengguna").fill("ana")
            await page.get_by_label("Kata sandi").fill(PASSWORD)
            await page.get_by_role("button", name="Masuk").click()
            await page.get_by_label("Kode 6 angka").fill(code_for(secret, clock))
            await page.get_by_role("button", name="Periksa").click()
            await page.get_by_role("heading", name="Selamat datang, Ana").wait_for()
            await page.get_by_role("link", name="Pengguna").first.click()
            await page.locator("#new-username").fill("budi")
            await page.locator("#new-name").fill("<script>alert(1)</script>")
            await page.locator("form.card input[value=counsellor]").check()
            await page.locator("#new-password").fill(PASSWORD)
            await page.get_by_role("button", name="Tambah pengguna").last.click()
            await page.get_by_text("Pengguna budi ditambahkan.").wait_for()
            assert await page.get_by_text("<script>alert(1)</script>").count() == 1
            await page.screenshot(path=str(ARTIFACTS / "users.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
    added = await console.store.staff.by_username("budi")
    assert added is not None and added.roles == frozenset({"counsellor"})
