"""The console on a 390×844 phone, in a real browser: no page is wider than the screen, for
any role, and the header leaves most of the screen to the page.

Debian's Chromium, headless, through Playwright. Every page is photographed to
tests/console/artifacts/phone-*.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving, sign_in
from console_support import PASSWORD, code_for
from page_tour import PHONE, furnish, roles, tour, visitor_tour
from support import Clock

from bot.console.core import Console

pytestmark = [pytest.mark.browser, needs_chromium]
HEADER_MAX = 120
"""The most of the phone's 844 px height the header may take, in CSS pixels."""


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


@pytest.mark.parametrize("role", ["visitor", *roles()])
async def test_no_console_page_is_wider_than_a_phone(
    console: Console, clock: Clock, served: str, role: str
) -> None:
    from playwright.async_api import Page, async_playwright

    made = await furnish(console, clock)
    too_wide: dict[str, int] = {}
    headers: dict[str, float] = {}
    seen: list[str] = []

    async def inspect(page: Page, name: str) -> None:
        seen.append(name)
        await page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[name] = width
        header = await page.evaluate(
            "(() => { const h = document.querySelector('header.top');"
            " return h ? h.getBoundingClientRect().height : 0; })()"
        )
        headers[name] = header

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(viewport=PHONE, device_scale_factor=1)
            if role == "visitor":
                await visitor_tour(context, served, inspect)
            else:
                await tour(context, served, role, made, clock, inspect)
        finally:
            await browser.close()
    assert len(seen) >= 3
    assert too_wide == {}, f"wider than {PHONE['width']} px: {too_wide}"
    tall = {name: h for name, h in headers.items() if h > HEADER_MAX}
    assert tall == {}, f"the header takes more than {HEADER_MAX} px: {tall}"


async def test_the_phone_menu_folds_with_the_script_and_stays_in_the_flow_without(
    console: Console, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright, expect

    made = await furnish(console, clock)
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            for script in (True, False):
                context = await browser.new_context(viewport=PHONE, java_script_enabled=script)
                page = await context.new_page()
                clock.advance(30)
                await sign_in(
                    page,
                    served,
                    "counsellor",
                    PASSWORD,
                    code_for(made.secrets["counsellor"], clock),
                )
                await page.get_by_role("heading", name="Selamat datang, Counsellor").wait_for()
                menu = page.locator("#top-menu")
                logout = page.get_by_role("button", name="Keluar")
                if script:  # folded: the queue one tap away, the rest behind "Menu"
                    await expect(logout).to_be_hidden()
                    await expect(page.locator("header .quick")).to_be_visible()
                    await menu.locator("summary").click()
                    await expect(logout).to_be_visible()
                    await page.screenshot(path=str(ARTIFACTS / "phone-menu-open.png"))
                    await page.keyboard.press("Escape")
                    await expect(logout).to_be_hidden()
                else:  # open, above the page rather than over it
                    await expect(logout).to_be_visible()
                    header = await page.locator("header.top").bounding_box()
                    heading = await page.locator("main h1").bounding_box()
                    assert header is not None and heading is not None
                    assert heading["y"] >= header["y"] + header["height"]
                    await page.screenshot(path=str(ARTIFACTS / "phone-menu-noscript.png"))
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                await context.close()
        finally:
            await browser.close()
