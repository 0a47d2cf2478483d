"""The web chat's conversation in a real browser: it survives a restart of `lk3 demo` on the
same data folder, and a quick exit turns the page into a blank note live, on a reload and
in a tab that was asleep while it happened, until the family writes again from it.

Debian's Chromium, headless, through Playwright; a screenshot in tests/console/artifacts/.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium
from support.stores import with_storage

from bot.config import Config, load_config
from bot.console.auth.passwords import Hasher
from bot.demo import run_demo

pytestmark = [pytest.mark.browser, needs_chromium]
SECRET = "anak saya belum pulang RAHASIA-3307"
NEUTRAL = "Oke, terima kasih."
NOTE = "Catatan"  # the blank note's title and its text box's name


@asynccontextmanager
async def demo(config: Config) -> AsyncIterator[str]:
    """`lk3 demo` on any free port until the block ends; its base address."""
    stop, out = asyncio.Event(), io.StringIO()
    fast = Hasher(memory_kib=8, time_cost=1)
    task = asyncio.create_task(run_demo(config, port=0, stop=stop, out=out, hasher=fast))
    while "running" not in out.getvalue():
        assert not task.done(), "the demo stopped at start"
        await asyncio.sleep(0.02)
    found = re.search(r"(http://127\.0\.0\.1:[0-9]+)/chat", out.getvalue())
    assert found is not None
    try:
        yield found.group(1)
    finally:
        stop.set()
        assert await task == 0


async def confide(page: Any, base: str) -> None:
    """A family opens the chat, consents and writes something private; the bot answers."""
    from playwright.async_api import expect

    await page.goto(base + "/chat")
    await page.get_by_role("button", name="Mulai").click()
    await page.get_by_role("button", name="1. Setuju", exact=True).click()
    await page.locator("li.line.you", has_text="Setuju").wait_for()
    await page.get_by_label("Pesan Anda").fill(SECRET)
    await page.get_by_role("button", name="Kirim").click()
    await page.locator("li.line.you", has_text=SECRET).wait_for()  # stored, shown
    await expect(page.locator("li.line").last).to_have_class(re.compile("bot"))  # answered


async def assert_blank_note(page: Any) -> None:
    """The tab shows the plain note: nothing of LK3, its chat or what was said."""
    from playwright.async_api import expect

    await expect(page).to_have_title(NOTE)
    await expect(page.get_by_label(NOTE)).to_be_visible()
    await expect(page.get_by_label(NOTE)).to_have_value("")
    assert await page.locator("h1, li.line, a, script, #chat").count() == 0
    content = await page.content()
    assert "LK3" not in content and SECRET not in content and NEUTRAL not in content
    assert await page.evaluate("document.title") == NOTE
    icon = await page.locator("link[rel=icon]").get_attribute("href")
    assert icon == "data:,", "no logo in the tab"


async def leave(page: Any) -> None:
    """The family types the quick exit in the chat."""
    await page.get_by_label("Pesan Anda").fill("keluar")
    await page.get_by_role("button", name="Kirim").click()


async def test_a_conversation_survives_a_restart_and_a_quick_exit_clears_it(
    tmp_path: Path,
) -> None:
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
            lines = family.locator("li.line")
            async with demo(config) as base:
                await confide(family, base)
                await family.locator("li.line.you", has_text=SECRET).wait_for()
                await expect(family.locator("#waiting")).to_be_hidden()
                before = await lines.all_inner_texts()

            async with demo(config) as base:  # the bot restarted on the same data
                await family.goto(base + "/chat")  # the same browser session, its cookie
                assert await lines.all_inner_texts() == before
                await leave(family)
                await assert_blank_note(family)  # live, by the page's own script
                await family.screenshot(path=str(ARTIFACTS / "webchat-quick-exit.png"))
                await family.reload()
                await assert_blank_note(family)
                await family.goto(base + "/chat")
                await assert_blank_note(family)

                await family.get_by_label(NOTE).fill("halo, saya kembali")  # writes again
                await family.get_by_role("button", name="Kirim").click()
                await family.get_by_role("heading", name="Layanan LK3").wait_for()
                await family.locator("li.line.you", has_text="saya kembali").wait_for()
                await expect(lines.last).to_have_class(re.compile("bot"))
                assert SECRET not in await family.content()
            assert errors == []
        finally:
            await browser.close()


async def test_a_tab_asleep_across_a_quick_exit_wakes_to_only_the_new_conversation(
    tmp_path: Path,
) -> None:
    from playwright.async_api import Route, async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            tabs = await browser.new_context()  # two tabs of one browser: one cookie
            awake, asleep = await tabs.new_page(), await tabs.new_page()
            errors: list[str] = []
            for tab in (awake, asleep):
                tab.on("pageerror", lambda e: errors.append(str(e)))
            woken = asyncio.Event()

            async def sleeping(route: Route) -> None:
                await woken.wait()  # a phone's background tab: its poll goes out on waking
                await route.continue_()

            await asleep.route("**/chat/replies*", sleeping)
            async with demo(config) as base:
                await confide(awake, base)
                await asleep.goto(base + "/chat")
                old = await asleep.locator("li.line").count()
                assert SECRET in await asleep.content()

                lines = awake.locator("li.line")
                await leave(awake)
                await assert_blank_note(awake)
                await awake.get_by_label(NOTE).fill("halo lagi")  # the family writes again
                await awake.get_by_role("button", name="Kirim").click()
                await awake.locator("li.line.you", has_text="halo lagi").wait_for()
                for n in range(8):  # the new conversation's numbers pass the old cursor
                    if await lines.count() > old:
                        break
                    await awake.get_by_label("Pesan Anda").fill(f"halo {n}")
                    await awake.get_by_role("button", name="Kirim").click()
                    await awake.locator("li.line.you", has_text=f"halo {n}").wait_for()
                    await expect(lines.last).to_have_class(re.compile("bot"))
                now = await lines.all_inner_texts()
                assert len(now) > old

                woken.set()
                await expect(asleep.locator("li.line")).to_have_count(len(now))
                assert await asleep.locator("li.line").all_inner_texts() == now
                assert SECRET not in await asleep.content()
            assert errors == []
        finally:
            await browser.close()


async def test_a_tab_asleep_while_the_family_left_wakes_to_the_blank_note(tmp_path: Path) -> None:
    from playwright.async_api import Route, async_playwright

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            tabs = await browser.new_context()  # two tabs of one browser: one cookie
            awake, asleep = await tabs.new_page(), await tabs.new_page()
            errors: list[str] = []
            for tab in (awake, asleep):
                tab.on("pageerror", lambda e: errors.append(str(e)))
            woken = asyncio.Event()

            async def sleeping(route: Route) -> None:
                await woken.wait()  # a phone's background tab: its poll goes out on waking
                await route.continue_()

            async with demo(config) as base:
                await confide(awake, base)
                await awake.goto(base + "/chat?lang=id")  # the chat twice in its history
                # Asleep from the start: no poll of it may already be under way when the
                # family leaves (one would come back at once with the news, and wake it).
                await asleep.route("**/chat/replies*", sleeping)
                await asleep.goto(base + "/chat?lang=en")
                assert SECRET in await asleep.content()
                await leave(awake)
                await assert_blank_note(awake)
                await awake.go_back()  # nothing of the chat behind the note either
                await assert_blank_note(awake)
                assert SECRET in await asleep.content()  # still asleep, still showing it

                woken.set()
                await asleep.wait_for_url("**/chat?lang=en")
                await asleep.get_by_label("Notes").wait_for()
                assert await asleep.title() == "Notes"
                assert await asleep.locator("h1, li.line").count() == 0
                content = await asleep.content()
                assert "LK3" not in content and SECRET not in content
                await asleep.screenshot(path=str(ARTIFACTS / "webchat-quick-exit-asleep.png"))
            assert errors == []
        finally:
            await browser.close()
