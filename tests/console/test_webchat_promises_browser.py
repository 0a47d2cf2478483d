"""Two of the web chat's promises, in a real browser as a family meets them (issue 18):

- someone who declines consent finds none of their words after a reload;
- a cry for help typed after a burst of quick lines, past the conversation's limit, is
  taken at once: shown as sent, answered with the emergency numbers, an urgent case
  opened. Ordinary lines past the limit wait in the box and are never lost.

Debian's Chromium, headless, through Playwright, against `lk3 demo` (its own limits: 60
posts a minute per conversation); screenshots in tests/console/artifacts/.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium
from support.stores import with_storage
from test_console_webchat_history_browser import demo

from bot.channels.webchat.page import Limits
from bot.config import load_config

pytestmark = [pytest.mark.browser, needs_chromium]
FIRST = "mau tanya soal sekolah anak saya RAHASIA-DECLINE-4410"
CRY = "dia bawa parang mau bunuh mama sekarang"


async def test_after_declining_a_reload_shows_none_of_their_words(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            family = await (await browser.new_context()).new_page()
            async with demo(config) as base:
                await family.goto(base + "/chat")
                await family.get_by_label("Pesan Anda").fill(FIRST)  # words first, as many do
                await family.get_by_role("button", name="Kirim").click()
                await family.locator("li.line.you", has_text=FIRST).wait_for()
                decline = family.get_by_role("button", name="2. Tidak setuju", exact=True)
                await decline.click()
                answer = family.locator("li.line.bot", has_text="Tidak apa-apa, itu hak Anda")
                await expect(answer).to_be_visible()

                await family.reload()
                await expect(family.locator("li.line.bot").first).to_be_visible()
                assert FIRST not in await family.content()
                assert "RAHASIA-DECLINE" not in await family.content()
                await family.screenshot(path=str(ARTIFACTS / "webchat-declined.png"))
        finally:
            await browser.close()


async def test_a_cry_for_help_past_the_limit_is_taken_and_ordinary_lines_wait(
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    limit = Limits().per_address
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            family = await (await browser.new_context()).new_page()
            async with demo(config) as base:
                await family.goto(base + "/chat")
                box = family.get_by_label("Pesan Anda")
                # A burst of short lines, each sent with Enter as people do on a phone.
                for n in range(limit):
                    await box.fill(f"kak {n}")
                    await box.press("Enter")
                    await expect(box).to_have_value("")  # taken, the box emptied
                await box.fill("halo?")
                await box.press("Enter")
                notice = family.locator("#notice")
                await expect(notice).not_to_be_empty()  # over the limit: told, not lost
                await expect(box).to_have_value("halo?")

                await box.fill(CRY)
                await box.press("Enter")
                await family.locator("li.line.you", has_text=CRY).wait_for()
                answer = family.locator("li.line.bot", has_text="112")
                await expect(answer.last).to_be_visible(timeout=15_000)
                await family.screenshot(path=str(ARTIFACTS / "webchat-cry-past-limit.png"))
        finally:
            await browser.close()
