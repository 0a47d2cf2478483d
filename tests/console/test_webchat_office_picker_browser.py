"""The web chat's first question when the deployment serves several offices, in a real
browser on a phone's width: "which regency or city?", one button per office, readable
(axe-core finds nothing serious, on a phone and a desktop), nothing wider than the
screen; a press puts the family with that office and its own greeting follows.

`lk3 demo` in-process with three offices named in the configuration, Debian's
Chromium through Playwright; screenshots in tests/console/artifacts/.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from axe_support import axe_violations, needs_axe
from browser_support import ARTIFACTS, launch, needs_chromium
from page_tour import DESKTOP, PHONE
from test_console_webchat_history_browser import demo

from bot.config import load_config

pytestmark = [pytest.mark.browser, needs_chromium, needs_axe]

PROVINCE = """
[office]
name = "LK3 Kota Ambon"

[offices.tual]
name = "LK3 Kota Tual"

[offices.malteng]
name = "LK3 Maluku Tengah"
"""
QUESTION = "Anda tinggal di kabupaten atau kota mana?"


async def test_a_family_on_a_phone_picks_their_office_first(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    path = tmp_path / "lk3.toml"
    path.write_text(PROVINCE, encoding="utf-8")
    config = dataclasses.replace(load_config(path, env={}), data_dir=tmp_path / "data")
    found: dict[str, list[str]] = {}
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(bypass_csp=True, viewport=PHONE)
            family = await context.new_page()
            async with demo(config) as base:
                await family.goto(base + "/chat")
                await family.get_by_role("button", name="Mulai").click()
                await expect(family.locator("li.line.bot").last).to_contain_text(QUESTION)
                for name in ("LK3 Kota Ambon", "LK3 Kota Tual", "LK3 Maluku Tengah"):
                    await expect(family.get_by_role("button", name=name)).to_be_visible()
                await family.screenshot(path=str(ARTIFACTS / "phone-webchat-office-picker.png"))
                wide = await family.evaluate("document.documentElement.scrollWidth")
                assert wide <= PHONE["width"], "nothing wider than a phone's screen"
                for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                    await family.set_viewport_size(viewport)
                    problems = await axe_violations(family)
                    if problems:
                        found[size] = problems
                await family.set_viewport_size(PHONE)
                await family.get_by_role("button", name="LK3 Kota Tual").click()
                greeting = family.locator("li.line.bot", has_text="selamat datang di layanan")
                await expect(greeting).to_contain_text("LK3 Kota Tual")
                await family.screenshot(path=str(ARTIFACTS / "phone-webchat-office-chosen.png"))
        finally:
            await browser.close()
    assert found == {}, "\n".join(f"{size}: {p}" for size, ps in found.items() for p in ps)
