"""The flows editor in a real browser: the draft is checked while the admin types, the test
chat answers from the draft in the page, and the flow is drawn as a picture.

Screenshots land in tests/console/artifacts/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, paste, serving
from console_support import PASSWORD, add_staff, code_for
from support import Clock

from bot.console.core import Console
from bot.console.office import Office

if TYPE_CHECKING:
    from playwright.async_api import Page, Route

pytestmark = [pytest.mark.browser, needs_chromium]

THANKS = "Terima kasih atas kepercayaan Anda."


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def sign_in(page: Page, served: str, secret: str, clock: Clock) -> None:
    await page.goto(served + "/console/")
    await page.get_by_label("Nama pengguna").fill("ana")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await page.get_by_label("Kode 6 angka").fill(code_for(secret, clock))
    await page.get_by_role("button", name="Periksa").click()
    await page.get_by_role("heading", name="Selamat datang, Ana").wait_for()


async def test_admin_sees_problems_while_typing_tries_the_draft_and_sees_the_diagram(
    console: Console, office: Office, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright

    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    before = office.flows.library.current_version("welcome")
    source = office.flows.source("welcome")
    nodes = len(office.flows.library.flow("welcome").nodes)
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await sign_in(page, served, secret, clock)
            await page.goto(served + "/console/flows/welcome")

            # The picture: drawn on the page, scrollable, with its Mermaid text kept.
            picture = page.locator(".diagram svg")
            await picture.scroll_into_view_if_needed()
            box = await picture.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 300
            assert await page.locator(".diagram svg g.node").count() > 20
            assert await page.get_by_role("img", name="Diagram alur welcome").count() == 1
            await page.locator(".diagram").screenshot(path=str(ARTIFACTS / "flow-diagram.png"))

            # A mistake shows up by itself, ~0.6 s after typing stops; nothing is pressed.
            live = page.locator("#flow-live")
            editor = page.get_by_label("Isi berkas TOML")
            broken = source.replace('next = "consent_ask"', 'next = "consent_aks"', 1)
            await paste(editor, broken)
            await live.get_by_text("tujuan 'consent_aks' tidak ada", exact=False).wait_for()
            await live.get_by_text("Belum valid, 1 masalah:").wait_for()
            await page.screenshot(path=str(ARTIFACTS / "flow-live-problem.png"))

            fixed = source.replace(THANKS, "Terima kasih banyak dari rancangan.")
            async with page.expect_request("**/flows/welcome/validate"):
                await paste(editor, fixed)
            await live.get_by_text(f"Valid: alur welcome punya {nodes} langkah.").wait_for()
            assert await live.get_attribute("class") == "live-check valid"

            # A late answer for an older draft does not overwrite the newer one: the
            # first answer is held back until the second has been shown.
            held: list[Route] = []

            async def hold_first(route: Route) -> None:
                if held:
                    await route.continue_()
                else:
                    held.append(route)

            await page.route("**/flows/welcome/validate", hold_first)
            answered = int(await live.get_attribute("data-answers") or "0")
            answers = "n => document.getElementById('flow-live').dataset.answers === String(n)"
            async with page.expect_request("**/flows/welcome/validate"):
                await paste(editor, broken)
            async with page.expect_request("**/flows/welcome/validate"):
                await paste(editor, fixed)
            await page.wait_for_function(answers, arg=answered + 1)  # the newer one, shown
            assert len(held) == 1
            await live.get_by_text(f"Valid: alur welcome punya {nodes} langkah.").wait_for()
            await held[0].continue_()
            await page.wait_for_function(answers, arg=answered + 2)  # the older one, late
            assert "consent_aks" not in (await live.inner_text())
            assert await live.get_attribute("class") == "live-check valid"
            await page.unroute("**/flows/welcome/validate", hold_first)

            # The test chat answers from the draft in the editor, published or not.
            chat = page.locator("#flow-chat")
            await chat.get_by_role("button", name="Setuju", exact=True).click()
            log = chat.locator(".chat-log")
            await log.get_by_text("Terima kasih banyak dari rancangan.").wait_for()
            await log.get_by_text(
                "(akan dilakukan: record_consent given=yes version=2026-12-07)"
            ).wait_for()
            await chat.get_by_label("Pesan sebagai keluarga").fill("saya mau bunuh diri")
            await chat.get_by_label("Pesan sebagai keluarga").press("Enter")
            await log.get_by_text("→ beralih ke alur crisis)").wait_for()
            await log.get_by_text("(akan dilakukan: handoff reason=crisis)").wait_for()
            assert await chat.get_by_label("Pesan sebagai keluarga").input_value() == ""
            await page.locator("#chat-title").scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / "flow-test-chat.png"))
            await page.screenshot(path=str(ARTIFACTS / "flow-editor.png"), full_page=True)
            assert errors == []
        finally:
            await browser.close()
    assert office.flows.library.current_version("welcome") == before  # nothing was published
    assert await console.store.audit.rows() == []
