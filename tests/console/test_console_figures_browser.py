"""The figures page in Debian's Chromium at a desktop and a phone size: each table has its bar
chart beside it (below it on a phone), inside the screen, with no script and no CSP
complaint, and axe-core finds no serious problem in the charts. Screenshots land in
tests/console/artifacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from browser_support import ARTIFACTS, launch, needs_chromium, serving, sign_in
from console_support import PASSWORD, add_staff, code_for
from support import Clock
from test_console_figures import families

from bot.console.core import Console

pytestmark = [pytest.mark.browser, needs_chromium]

SIZES = [("desktop", 1200, 900), ("phone", 390, 844)]


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    async with serving(console) as address:
        yield address


async def _axe_violations(page: object) -> list[str]:
    """Serious or critical axe-core findings inside the page's main part, when axe is here."""
    try:
        from axe_playwright_python.async_playwright import Axe
    except ImportError:  # pragma: no cover - the package is in the dev dependencies
        return []
    results = await Axe().run(page, context={"include": [["main"]]})
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize(("name", "width", "height"), SIZES, ids=[s[0] for s in SIZES])
async def test_the_figures_page_draws_its_charts_beside_the_tables(
    console: Console, clock: Clock, served: str, name: str, width: int, height: int
) -> None:
    from playwright.async_api import async_playwright

    await families(
        console.store,
        [("kdrt", "darurat")] * 7 + [("anak", "segera")] * 3 + [("ekonomi", "biasa")] * 5,
    )
    _, secret = await add_staff(console, "susi", ("supervisor",))
    assert secret is not None and PASSWORD
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await sign_in(page, served, "susi", PASSWORD, code_for(secret, clock))
            await page.goto(served + "/console/figures?month=2026-03")
            chart = page.get_by_role("img", name="Kasus menurut kategori")
            await chart.wait_for()
            assert await page.locator("svg.bar-chart").count() == 3
            box = await chart.bounding_box()
            table = await page.locator("#chart-category-h + .chart-pair table").bounding_box()
            assert box is not None and table is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, "inside the screen"
            if name == "desktop":  # beside the table
                assert box["x"] >= table["x"] + table["width"] - 1
                assert abs(box["y"] - table["y"]) < table["height"]
            else:  # under it, the whole width
                assert box["y"] >= table["y"] + table["height"] - 1
                assert box["width"] > width * 0.6
            label = page.locator("#chart-category text.label").first
            label_box = await label.bounding_box()
            assert label_box is not None and label_box["height"] >= 10, "readable on a phone"
            # "<5" is written, and draws no bar: three categories, two bars.
            assert await page.locator("#chart-category rect.bar").count() == 2
            assert await page.locator("#chart-category text.suppressed").text_content() == "<5"
            await page.locator("#chart-category-h").scroll_into_view_if_needed()
            await page.screenshot(path=str(ARTIFACTS / f"figures-chart-{name}.png"), full_page=True)
            assert await _axe_violations(page) == []
            assert errors == []
        finally:
            await browser.close()
