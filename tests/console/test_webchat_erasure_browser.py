"""Deleting one's data from the web chat, in a real browser: after pressing Ya the page
shows what was deleted (never a blank page) and nothing of the conversation; closing it
leaves the blank note, with nothing of the service on it, even after a reload; writing
in the note starts over.

Debian's Chromium, headless, through Playwright, against `lk3 demo`; a screenshot in
tests/console/artifacts/.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium
from support.stores import with_storage
from test_console_webchat_history_browser import SECRET, confide, demo

from bot.config import load_config

pytestmark = [pytest.mark.browser, needs_chromium]


async def test_after_pressing_ya_the_page_shows_what_was_deleted(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            family = await (await browser.new_context()).new_page()
            errors: list[str] = []
            family.on("pageerror", lambda e: errors.append(str(e)))
            lines, statement = family.locator("li.line"), family.locator("#statement")
            async with demo(config) as base:
                await confide(family, base)
                await expect(statement).to_be_hidden()
                await family.get_by_label("Pesan Anda").fill("hapus")
                await family.get_by_role("button", name="Kirim").click()
                await family.get_by_role("button", name="1. Ya", exact=True).click()

                await expect(statement).to_be_visible()  # live, without a reload
                await expect(statement).to_contain_text("Data Anda sudah kami hapus.")
                await expect(statement).to_contain_text("Yang kami hapus:")
                await expect(lines).to_have_count(0)
                assert SECRET not in await family.content()
                await family.screenshot(path=str(ARTIFACTS / "webchat-erased.png"))

                await family.reload()  # read again: still there, still nothing of before
                await expect(statement).to_contain_text("Yang kami hapus:")
                await expect(lines).to_have_count(0)

                await family.get_by_role("button", name="Selesai, tutup halaman ini").click()
                note = family.locator("#note")
                await expect(note).to_be_visible()  # the blank note: nothing says whose
                await expect(family).to_have_title("Catatan")
                await expect(family.locator("h1")).to_have_count(0)
                # What a person sees or a reader of the page's words finds (random hidden
                # tokens may hold the digits 112 by chance: they are not words).
                shown = await family.locator("body").inner_text() + await family.title()
                for word in ("LK3", "hapus", "112"):
                    assert word not in shown
                assert "LK3" not in await family.content() and "hapus" not in await family.content()
                await family.screenshot(path=str(ARTIFACTS / "webchat-erased-closed.png"))
                await family.reload()
                await expect(note).to_be_visible()

                await note.locator("textarea").fill("halo")
                await note.get_by_role("button", name="Kirim").click()
                await expect(statement).to_be_hidden()  # a new conversation starts over
                await expect(lines.last).to_have_class(re.compile("bot"))
                assert SECRET not in await family.content()
            assert errors == []
        finally:
            await browser.close()
