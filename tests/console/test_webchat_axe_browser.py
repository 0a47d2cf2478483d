"""Accessibility of the web chat pages a family sees, on a phone and on a desktop: the chat
(empty and mid-conversation, with its buttons), the statement after an erasure and the
blank note after it; axe-core finds no serious or critical violation on any of them.

`lk3 demo` in-process, Debian's Chromium through Playwright, a context with
`bypass_csp=True` so that axe-core can be injected. Also: the checker itself does find
what it is there to find.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from axe_support import axe_violations, needs_axe
from browser_support import ARTIFACTS, launch, needs_chromium
from page_tour import DESKTOP, PHONE
from support.stores import with_storage
from test_console_webchat_history_browser import confide, demo

from bot.config import load_config

pytestmark = [pytest.mark.browser, needs_chromium, needs_axe]


async def test_axe_finds_nothing_serious_on_the_web_chat_pages(tmp_path: Path) -> None:
    from playwright.async_api import Page, async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    found: dict[str, list[str]] = {}
    seen: list[str] = []

    async def inspect(page: Page, name: str) -> None:
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            await page.set_viewport_size(viewport)
            seen.append(f"{size}:{name}")
            if size == "phone":
                await page.screenshot(path=str(ARTIFACTS / f"phone-webchat-{name}.png"))
            problems = await axe_violations(page)
            if problems:
                found[f"{size}:{name}"] = problems

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(bypass_csp=True, viewport=PHONE)
            family = await context.new_page()
            async with demo(config) as base:
                await family.goto(base + "/chat")
                await inspect(family, "chat-empty")
                await confide(family, base)
                await inspect(family, "chat-conversation")
                await family.get_by_label("Pesan Anda").fill("hapus")
                await family.get_by_role("button", name="Kirim").click()
                await family.get_by_role("button", name="1. Ya", exact=True).wait_for()
                await inspect(family, "chat-choices")
                await family.get_by_role("button", name="1. Ya", exact=True).click()
                # Erasing runs in a background pass: a loaded machine may take a while.
                await expect(family.locator("#statement")).to_be_visible(timeout=20_000)
                await inspect(family, "statement")
                await family.get_by_role("button", name="Selesai, tutup halaman ini").click()
                await expect(family.locator("#note")).to_be_visible()
                await inspect(family, "note")
                await family.goto(base + "/chat?lang=en")
                await inspect(family, "note-english")
        finally:
            await browser.close()
    assert len(seen) == 12
    assert found == {}, "\n".join(f"{page}: {p}" for page, ps in found.items() for p in ps)


async def test_the_checker_finds_an_unnamed_field_and_faint_text() -> None:
    """A page made wrong on purpose: axe-core must say so, or a pass above means nothing."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page()
            await page.set_content(
                '<html><body><main><h1>x</h1><input type="text">'
                '<p style="color:#ccc;background:#fff">faint</p>'
                '<button type="button"></button></main></body></html>'
            )
            problems = " ".join(await axe_violations(page))
        finally:
            await browser.close()
    for rule in ("label (critical)", "color-contrast (serious)", "button-name (critical)"):
        assert rule in problems
