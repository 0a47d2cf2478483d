"""Accessibility of every console page, for each role, on a desktop and on a phone: axe-core
finds no serious or critical violation (labels, contrast, landmarks, names, language).

Debian's Chromium through Playwright; the pages are those of `page_tour`. Only these
tests open pages with `bypass_csp=True`, so that axe-core can be injected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from axe_support import AXE_JS, axe_violations, needs_axe
from browser_support import launch, needs_chromium, serving
from page_tour import DESKTOP, PHONE, furnish, roles, tour, visitor_tour
from support import Clock

from bot.console.core import Console

pytestmark = [pytest.mark.browser, needs_chromium, needs_axe]


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


@pytest.mark.parametrize("role", ["visitor", *roles()])
async def test_axe_finds_nothing_serious_on_any_console_page(
    console: Console, clock: Clock, served: str, role: str
) -> None:
    from playwright.async_api import Page, async_playwright

    made = await furnish(console, clock)
    found: dict[str, list[str]] = {}
    seen: list[str] = []

    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):

                async def inspect(page: Page, name: str, size: str = size) -> None:
                    seen.append(f"{size}:{name}")
                    problems = await axe_violations(page)
                    if problems:
                        found[f"{size}:{name}"] = problems

                context = await browser.new_context(viewport=viewport, bypass_csp=True)
                # axe-core in every page the context opens, as it loads (no <script> added to
                # the page checked): `axe_violations` injecting it into each page instead
                # waited ~0.2-0.5 s a page for the same script.
                await context.add_init_script(path=str(AXE_JS))
                if role == "visitor":
                    await visitor_tour(context, served, inspect)
                else:
                    await tour(context, served, role, made, clock, inspect)
                await context.close()
        finally:
            await browser.close()
    assert len(seen) >= 6
    assert found == {}, "\n".join(f"{page}: {p}" for page, ps in found.items() for p in ps)
