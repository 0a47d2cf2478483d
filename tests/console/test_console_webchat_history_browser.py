"""The web chat's conversation in a real browser: it survives a restart of `lk3 demo` on the
same data folder, and a quick exit clears the page live, leaving nothing to reload, even
in a tab that was asleep while it happened.

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

from bot.config import Config, load_config
from bot.console.auth.passwords import Hasher
from bot.demo import run_demo

pytestmark = [pytest.mark.browser, needs_chromium]
SECRET = "anak saya belum pulang RAHASIA-3307"
NEUTRAL = "Oke, terima kasih."


@asynccontextmanager
async def demo(config: Config) -> AsyncIterator[str]:
    """`lk3 demo` on any free port until the block ends; its base address."""
    stop, out = asyncio.Event(), io.StringIO()
    fast = Hasher(log2_n=10, r=8, p=1)
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
    await expect(page.locator("li.line").last).to_have_class(re.compile("bot"))


async def test_a_conversation_survives_a_restart_and_a_quick_exit_clears_it(
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    config = dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
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
                await family.get_by_label("Pesan Anda").fill("keluar")
                await family.get_by_role("button", name="Kirim").click()
                await expect(lines).to_have_count(1)  # live: older lines leave the page
                await expect(lines.first).to_contain_text(NEUTRAL)
                await family.screenshot(path=str(ARTIFACTS / "webchat-quick-exit.png"))
                await family.reload()
                assert [t.split("\n")[-1] for t in await lines.all_inner_texts()] == [NEUTRAL]
                assert SECRET not in await family.content()
            assert errors == []
        finally:
            await browser.close()


async def test_a_tab_asleep_across_a_quick_exit_wakes_to_only_the_new_conversation(
    tmp_path: Path,
) -> None:
    from playwright.async_api import Route, async_playwright, expect

    config = dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
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
                await awake.get_by_label("Pesan Anda").fill("keluar")
                await awake.get_by_role("button", name="Kirim").click()
                await expect(lines).to_have_count(1)
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
