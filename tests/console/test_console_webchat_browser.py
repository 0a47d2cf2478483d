"""The whole demo in a real browser: a family writes an emergency in the web chat, it appears
live in the counsellor's queue, the counsellor takes it and replies, and the reply appears
in the family's web chat. Through `lk3 demo` itself (the same pipeline as every channel).

Debian's Chromium, headless, through Playwright; screenshots in tests/console/artifacts/.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from pathlib import Path

import pyotp
import pytest
from browser_support import ARTIFACTS, demo_secrets, launch, needs_chromium, sign_in
from support.stores import with_storage

from bot.config import load_config
from bot.console.auth.passwords import Hasher
from bot.demo import run_demo

pytestmark = [pytest.mark.browser, needs_chromium]
WORDS = "suami saya memukuli saya sekarang, saya takut dibunuh"
REPLY = "Saya konselor LK3. Apakah Anda aman sekarang?"


async def test_an_emergency_in_the_web_chat_is_taken_and_answered_live(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    stop, out = asyncio.Event(), io.StringIO()
    fast = Hasher(memory_kib=8, time_cost=1)
    demo = asyncio.create_task(run_demo(config, port=0, stop=stop, out=out, hasher=fast))
    while "running" not in out.getvalue():
        assert not demo.done(), "the demo stopped at start"
        await asyncio.sleep(0.02)
    found = re.search(r"(http://127\.0\.0\.1:[0-9]+)/chat", out.getvalue())
    password = re.search(r"^  konselor +password (\S+)", out.getvalue(), flags=re.M)
    assert found is not None and password is not None
    base = found.group(1)
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                errors: list[str] = []
                staff = await (await browser.new_context()).new_page()
                family = await (await browser.new_context()).new_page()  # its own cookies
                for page in (staff, family):
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.on(
                        "console", lambda m: errors.append(m.text) if m.type == "error" else None
                    )

                code = pyotp.TOTP(demo_secrets(out.getvalue())["konselor"]).now()
                await sign_in(staff, base, "konselor", password.group(1), code)
                await staff.get_by_role("link", name="Antrean").click()
                await staff.get_by_text("Langsung: diperbarui otomatis.").wait_for()

                await family.goto(base + "/chat")
                await family.get_by_role("button", name="Mulai").click()
                await family.locator("li.line.bot").first.wait_for()
                await family.get_by_label("Pesan Anda").fill(WORDS)
                await family.get_by_role("button", name="Kirim").click()
                await family.locator("li.line.you", has_text=WORDS).wait_for()
                await family.locator("li.line.bot", has_text="112").last.wait_for()
                await family.screenshot(path=str(ARTIFACTS / "webchat-urgent.png"), full_page=True)

                row = staff.locator("tr[data-urgency=darurat]")
                await row.wait_for()  # live, without reloading the queue
                code = await row.get_attribute("data-case")
                assert code
                alert = staff.get_by_role("alert")
                await alert.get_by_text(f"KASUS DARURAT BARU: {code}").wait_for()
                await staff.screenshot(path=str(ARTIFACTS / "webchat-queue.png"), full_page=True)
                await staff.get_by_role("button", name="Saya sudah melihat").click()
                await staff.get_by_role("button", name=f"Ambil kasus {code}").click()
                await staff.get_by_role("heading", name=f"Kasus {code}").wait_for()
                await staff.get_by_label("Balasan untuk keluarga").fill(REPLY)
                await staff.get_by_role("button", name="Kirim").click()
                await staff.get_by_text("Balasan dikirim ke keluarga.").wait_for()

                await family.locator("li.line.bot", has_text=REPLY).wait_for()  # live, no reload
                await family.screenshot(path=str(ARTIFACTS / "webchat-reply.png"), full_page=True)
                await family.set_viewport_size({"width": 390, "height": 844})
                await family.screenshot(
                    path=str(ARTIFACTS / "webchat-reply-phone.png"), full_page=True
                )
                await family.reload()  # a reconnect shows the conversation, the reply once
                assert await family.locator("li.line.bot", has_text=REPLY).count() == 1
                assert errors == []
            finally:
                await browser.close()
    finally:
        stop.set()
        assert await demo == 0


async def test_a_long_message_is_counted_down_while_typed_and_sent_whole(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    stop, out = asyncio.Event(), io.StringIO()
    demo = asyncio.create_task(run_demo(config, port=0, stop=stop, out=out))
    while "running" not in out.getvalue():
        assert not demo.done(), "the demo stopped at start"
        await asyncio.sleep(0.02)
    found = re.search(r"(http://127\.0\.0\.1:[0-9]+)/chat", out.getvalue())
    assert found is not None
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                family = await (await browser.new_context()).new_page()
                await family.goto(found.group(1) + "/chat")
                count = family.locator("#count")
                box = family.get_by_label("Pesan Anda")
                await box.fill("halo")
                assert await count.is_hidden()  # nothing to count for a short line
                await box.fill("a" * 1900)
                await family.get_by_text("Sisa 100 karakter").wait_for()
                long = "Cerita kami panjang. " * 150  # 3,150 characters
                await box.fill(long)
                await family.get_by_text("kami membaca 2000 karakter pertama").wait_for()
                await family.get_by_role("button", name="Kirim").click()
                await family.locator("li.line.bot", has_text="2000 karakter pertama").wait_for()
                assert await box.input_value() == ""
                assert await count.is_hidden()
            finally:
                await browser.close()
    finally:
        stop.set()
        assert await demo == 0
