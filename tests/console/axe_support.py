"""axe-core in the browser tests: the copy the PyPI package `axe-playwright-python` ships
(a dev dependency), injected into the page, so nothing is fetched while tests run.

Only serious and critical violations count: each is named with its rule, its help text
and where on the page it is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Page

_SPEC = importlib.util.find_spec("axe_playwright_python")
AXE_JS = (
    Path(_SPEC.origin).with_name("axe.min.js")
    if _SPEC is not None and _SPEC.origin is not None
    else None
)
needs_axe = pytest.mark.skipif(
    AXE_JS is None or not AXE_JS.exists(),
    reason="needs axe-core from the dev dependency axe-playwright-python",
)
COUNTED = ("serious", "critical")


async def axe_violations(page: Page) -> list[str]:
    """The page's serious and critical axe-core violations, one line each.

    The page's own CSP forbids a script from elsewhere: the context that opened it
    must have `bypass_csp=True` (only the accessibility tests do)."""
    assert AXE_JS is not None
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for rule in result["violations"]:
        if rule["impact"] in COUNTED:
            where = [" ".join(map(str, node["target"])) for node in rule["nodes"]][:4]
            found.append(f"{rule['id']} ({rule['impact']}): {rule['help']} at {where}")
    return found
