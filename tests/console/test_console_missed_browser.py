"""In a real browser, through `lk3 demo`: a family's typed answer the bot does not understand
shows, numbered buttons and all, in the web chat; typing a button's number picks it; and the
admin sees the answer, scrubbed, on the flow's page, which a counsellor cannot open.

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
TYPED = "zzkq plomb sama pak Yance"  # nothing like a choice, with a name in it
KEPT = "zzkq plomb sama pak <nama>"


async def test_a_typed_answer_not_understood_reaches_the_admins_flow_page_scrubbed(
    tmp_path: Path,
) -> None:
    from playwright.async_api import async_playwright, expect

    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    stop, out = asyncio.Event(), io.StringIO()
    fast = Hasher(memory_kib=8, time_cost=1)
    demo = asyncio.create_task(run_demo(config, port=0, stop=stop, out=out, hasher=fast))
    while "running" not in out.getvalue():
        assert not demo.done(), "the demo stopped at start"
        await asyncio.sleep(0.02)
    text = out.getvalue()
    found = re.search(r"(http://127\.0\.0\.1:[0-9]+)/chat", text)
    passwords = dict(re.findall(r"^  (\w+) +password (\S+)", text, flags=re.M))
    secrets = demo_secrets(text)
    assert found is not None and set(secrets) == {"admin", "konselor"}
    base = found.group(1)
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                errors: list[str] = []
                family = await (await browser.new_context()).new_page()
                family.on("pageerror", lambda e: errors.append(str(e)))

                # The family: every button shows its number, and the number picks it.
                await family.goto(base + "/chat")
                await family.get_by_role("button", name="Mulai").click()
                choices = family.get_by_role("form", name=re.compile("Pilihan jawaban"))
                await choices.get_by_role("button", name="1. Setuju", exact=True).wait_for()
                await choices.get_by_role("button", name="2. Tidak setuju", exact=True).wait_for()
                await choices.get_by_role("button", name="1. Setuju", exact=True).click()
                info = choices.get_by_role("button", name="1. Informasi layanan", exact=True)
                await info.wait_for()
                await family.get_by_label("Pesan Anda").fill(TYPED)
                await family.get_by_role("button", name="Kirim").click()
                await family.locator("li.line.bot", has_text="ketik nomornya").wait_for()
                await expect(info).to_be_visible()  # the re-ask shows the numbered buttons
                await choices.scroll_into_view_if_needed()
                await family.screenshot(path=str(ARTIFACTS / "webchat-numbered-buttons.png"))
                await family.get_by_label("Pesan Anda").fill("1")
                await family.get_by_role("button", name="Kirim").click()
                asked = family.locator("li.line.bot", has_text="Apa yang ingin Anda ketahui?")
                await asked.wait_for()  # what pressing "1. Informasi layanan" leads to
                await choices.get_by_role("button", name="1. Apa itu LK3?", exact=True).wait_for()

                # The admin: the answer, scrubbed, under the question it missed.
                admin = await (await browser.new_context()).new_page()
                admin.on("pageerror", lambda e: errors.append(str(e)))
                await admin.goto(base + "/console/login")
                await admin.get_by_label("Nama pengguna").fill("admin")
                await admin.get_by_label("Kata sandi").fill(passwords["admin"])
                await admin.get_by_role("button", name="Masuk").click()
                await admin.get_by_label("Kode 6 angka").fill(pyotp.TOTP(secrets["admin"]).now())
                await admin.get_by_role("button", name="Periksa").click()
                await admin.get_by_role("heading", name=re.compile("Selamat datang")).wait_for()
                await admin.goto(base + "/console/flows/welcome")
                section = admin.get_by_role("region", name="Jawaban yang belum dimengerti")
                await section.scroll_into_view_if_needed()
                table = section.get_by_role("table", name="Jawaban yang belum dimengerti")
                row = table.get_by_role("row").filter(has_text="main_menu")
                await expect(row.get_by_role("cell").nth(0)).to_have_text("1")
                await expect(row.get_by_role("listitem")).to_have_text([KEPT])
                assert "Yance" not in await admin.content()
                await section.screenshot(path=str(ARTIFACTS / "flow-missed-answers.png"))

                # A counsellor: no flows in the menu, and the page is not theirs.
                counsellor = await (await browser.new_context()).new_page()
                code = pyotp.TOTP(secrets["konselor"]).now()
                await sign_in(counsellor, base, "konselor", passwords["konselor"], code)
                await counsellor.get_by_role("link", name="Antrean").wait_for()
                assert await counsellor.get_by_role("link", name="Alur percakapan").count() == 0
                await counsellor.goto(base + "/console/flows/welcome")
                refused = counsellor.get_by_text("Halaman ini tidak termasuk tugas peran Anda.")
                await refused.wait_for()
                assert KEPT not in await counsellor.content()
                assert errors == []
            finally:
                await browser.close()
    finally:
        stop.set()
        assert await demo == 0
