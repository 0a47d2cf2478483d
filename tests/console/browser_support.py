"""What every browser test needs: Debian's Chromium, its safe flags, and a served console."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.console.app import mount_console
from bot.console.core import Console
from bot.web import WebServer

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).with_name("artifacts")
# No sandbox as root; no background traffic, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


async def launch(pw: Playwright) -> Browser:
    """Headless Debian Chromium (never a downloaded browser); screenshots go to ARTIFACTS."""
    ARTIFACTS.mkdir(exist_ok=True)
    return await pw.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


@asynccontextmanager
async def serving(console: Console) -> AsyncIterator[str]:
    """The console on a free local port; yields its base address."""
    web = WebServer("127.0.0.1", 0)
    mount_console(web, console)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        await web.stop()


# What pasting over the whole text gives the page: one `input` event (all the console's
# editor scripts listen to).
PASTE = """(el, text) => {
  el.focus();
  el.select();
  el.value = text;
  el.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertFromPaste"}));
}"""


async def paste(editor: Locator, text: str) -> None:
    """Replaces a textarea's text with `text`, as pasting it over all of it does.

    Playwright's `fill` does the same for the page (one `input` event), but Chromium takes
    seconds for a flow's several hundred lines (about 3 s for triage.toml, each time:
    microsoft/playwright#33761); here it is immediate. The editor must be there and
    editable, as `fill` requires."""
    assert await editor.is_editable(), "the editor is not editable"
    await editor.evaluate(PASTE, text)


def demo_secrets(printed: str) -> dict[str, str]:
    """Each demo login's second-factor secret, from what `lk3 demo` printed."""
    found = re.findall(
        r"^  (\w+) +password \S+.*\n +second factor: \S*?secret=([A-Z2-7]+)", printed, flags=re.M
    )
    return dict(found)


async def sign_in(page: Page, base: str, username: str, password: str, code: str) -> None:
    """The login form, then the code form: every role has a second factor."""
    await page.goto(base + "/console/login")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk").click()
    await page.get_by_label("Kode 6 angka").fill(code)
    await page.get_by_role("button", name="Periksa").click()
