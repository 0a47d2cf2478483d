"""Edit → check → publish on a phone, in a real browser: the diff shows added lines green
with a +, removed lines red with a −, long lines wrapped inside the screen; the Publish
button appears after a passing check and is disabled again by any edit until the next
check. Screenshots in tests/console/artifacts/flow-review-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, paste, serving, sign_in
from console_support import PASSWORD, add_staff, code_for
from page_tour import PHONE
from support import Clock
from test_console_flows import THANKS

from bot.console.core import Console
from bot.console.office import Office

pytestmark = [pytest.mark.browser, needs_chromium]
LONG = "Terima kasih banyak atas kepercayaan Anda kepada layanan kami " * 4


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def test_an_admin_reads_the_diff_and_publishes_only_what_passed_the_check(
    console: Console, office: Office, clock: Clock, served: str
) -> None:
    from playwright.async_api import async_playwright, expect

    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    before = office.flows.library.current_version("welcome")
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport=PHONE)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await sign_in(page, served, "ana", PASSWORD, code_for(secret, clock))
            await page.goto(served + "/console/flows/welcome")
            publish = page.get_by_role("button", name="Terbitkan")
            assert await publish.count() == 0  # nothing checked yet
            editor = page.get_by_label("Isi berkas TOML")
            await paste(editor, (await editor.input_value()).replace(THANKS, LONG.strip()))
            await page.get_by_role("button", name="Periksa", exact=True).click()
            await page.get_by_text("Alur ini valid dan siap diterbitkan.").wait_for()

            added, removed = page.locator("ol.diff li.d-add"), page.locator("ol.diff li.d-remove")
            await expect(added).to_have_count(1)
            await expect(removed).to_have_count(1)
            assert await added.locator(".d-mark").inner_text() == "+"
            assert await removed.locator(".d-mark").inner_text() == "−"
            green = await added.evaluate("e => getComputedStyle(e).backgroundColor")
            red = await removed.evaluate("e => getComputedStyle(e).backgroundColor")
            assert green == "rgb(227, 244, 231)" and red == "rgb(253, 232, 233)"
            box = await added.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] > 40, "the long line wraps onto several lines"
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            await added.scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / "flow-review-diff-phone.png"))

            await expect(publish).to_be_enabled()
            await editor.press("End")
            await editor.type(" ")  # an edit after the check
            await expect(publish).to_be_disabled()
            await expect(page.get_by_text("Draf diubah setelah diperiksa")).to_be_visible()
            await publish.scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / "flow-review-stale-phone.png"))

            await page.get_by_role("button", name="Periksa", exact=True).click()
            await page.get_by_text("Alur ini valid dan siap diterbitkan.").wait_for()
            await page.get_by_role("button", name="Terbitkan").click()
            await page.get_by_text("diterbitkan. Percakapan baru memakai versi ini.").wait_for()
            assert errors == []
        finally:
            await browser.close()
    assert office.flows.library.current_version("welcome") != before
    assert LONG.strip() in office.flows.source("welcome")
