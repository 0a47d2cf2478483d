"""A family's voice note and photo on the case page in a real browser: the voice note
plays (Chromium reads its duration), the photo is drawn, and the strict CSP holds.

Debian's Chromium, headless, through Playwright; screenshots in tests/console/artifacts/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving, sign_in
from case_support import family_case
from console_support import FAST, PASSWORD, add_staff, code_for
from media_support import family_media
from support import Clock
from support.media import ogg_opus, png

from bot.console.app import build_console
from bot.console.office import Office
from storage.store import Store

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
async def served(store: Store, office: Office, clock: Clock) -> AsyncIterator[tuple[str, int, str]]:
    console = build_console(store, clock=clock, settings=FAST, office=office)
    sari, secret = await add_staff(console, "sari", ("counsellor",))
    assert secret is not None
    async with serving(console) as address:
        yield address, sari, secret


async def test_the_voice_note_plays_and_the_photo_is_drawn_on_the_case_page(
    served: tuple[str, int, str], store: Store, office: Office, clock: Clock
) -> None:
    from playwright.async_api import async_playwright

    address, sari, secret = served
    case = await family_case(store, clock)
    assert (await office.handoff.take(sari, case.id)).done
    await family_media(store, clock, case, "voice", "audio/ogg", ogg_opus(2.0))
    await family_media(store, clock, case, "photo", "image/png", png(40, 30))
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await sign_in(page, address, "sari", PASSWORD, code_for(secret, clock))
            await page.goto(f"{address}/console/cases/{case.code}")
            voice = page.get_by_label("Pesan suara dari keluarga")
            await voice.wait_for()
            await page.wait_for_function(
                "() => { const a = document.querySelector('audio.media');"
                " return a && a.readyState >= 1 && isFinite(a.duration) && a.duration > 1.5; }"
            )
            duration = await voice.evaluate("a => a.duration")
            assert 1.9 <= duration <= 2.1, duration
            photo = page.get_by_role("img", name="Foto dari keluarga")
            await page.wait_for_function(
                "() => { const i = document.querySelector('img.media');"
                " return i && i.complete && i.naturalWidth === 40; }"
            )
            assert await photo.is_visible()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the media fit the phone's width"
            await page.screenshot(path=str(ARTIFACTS / "case-media-phone.png"), full_page=True)
            assert errors == [], errors
        finally:
            await browser.close()
