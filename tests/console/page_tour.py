"""A walk through every console page each role can open, with enough on each page to fill it:
cases waiting and taken, appointments, hours, closures, a roster, a month of figures, a
flow draft with its diff, the confirmation steps, an error page and the sign-in pages.

The phone layout test and the accessibility test walk the same pages (`tour`) and look at
each one with their own `inspect`; a page's name says who saw what
(`counsellor-case`, `admin-flow-diff`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from browser_support import paste, sign_in
from case_support import family_case
from console_support import PASSWORD, ROLE_SETS, T0, add_staff, code_for
from support import Clock
from test_console_bookings import confirmed
from test_console_figures import families

from bot.console.core import Console

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A family's words with an unbroken run: a page must wrap it, not widen.
LONG_WORDS = "tolong " + "https://contoh.example/" + "a" * 120 + " saya takut sekali"
Inspect = Callable[["Page", str], Awaitable[None]]


@dataclass
class Furnished:
    """What `furnish` made: each role's sign-in name and second factor, and the cases."""

    secrets: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # username -> a case code they hold
    waiting: str = ""


def username(role: str) -> str:
    return {"admin+counsellor": "kepala"}.get(role, role)


async def furnish(console: Console, clock: Clock) -> Furnished:
    """Staff for each role set, cases, appointments, hours, a closure, a roster, figures."""
    made = Furnished()
    ids: dict[str, int] = {}
    for role, roles in ROLE_SETS.items():
        ids[role], secret = await add_staff(console, username(role), roles)
        assert secret is not None
        made.secrets[role] = secret
    await add_staff(console, "baru", ("counsellor",), totp=False)  # not enrolled yet
    store = console.store
    await families(store, [("kdrt", "darurat")] * 6 + [("anak", "segera")] * 5, at=T0)
    for n, role in enumerate(r for r in ROLE_SETS if "counsellor" in ROLE_SETS[r]):
        case = await family_case(
            store,
            clock,
            ["halo", LONG_WORDS, "suami saya memukuli saya sekarang"],
            address=f"71{n}",
            crisis="suicide,violence_now",
        )
        await console.desk.handoff.take(ids[role], case.id)
        made.held[role] = case.code
    waiting = await family_case(store, clock, ["anak saya dipukul"], address="7999")
    made.waiting = waiting.code
    clock.advance(23 * 60)  # the emergency has waited a while
    sari = ids["counsellor"]
    for n, hours in enumerate((-3, -1, 20, 44)):
        await confirmed(store, sari, 100 + n, T0 + timedelta(hours=hours))
    for weekday in range(5):
        await store.bookings.add_hours(sari, weekday, 9 * 60, 12 * 60, ("kantor", "telepon"), T0)
        await store.roster.add(sari, weekday, 8 * 60, 16 * 60, T0)
    await store.bookings.add_closure(T0.date() + timedelta(days=4), "Hari Raya Nyepi", T0)
    return made


async def _sign_in(page: Page, base: str, role: str, made: Furnished, clock: Clock) -> None:
    clock.advance(30)  # a fresh code for each sign-in (a code is good once)
    code = code_for(made.secrets[role], clock)
    await sign_in(page, base, username(role), PASSWORD, code)
    await page.locator("main h1").first.wait_for()


async def _go(page: Page, url: str) -> None:
    await page.goto(url)
    await page.locator("main h1, main").first.wait_for()


async def visitor_tour(context: BrowserContext, base: str, inspect: Inspect) -> None:
    """The pages before signing in: the login form, the code form, enrolment."""
    page = await context.new_page()
    await _go(page, base + "/console/login")
    await inspect(page, "visitor-login")
    await page.get_by_label("Nama pengguna").fill("counsellor")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await page.get_by_label("Kode 6 angka").wait_for()
    await inspect(page, "visitor-code")
    await context.clear_cookies()
    await _go(page, base + "/console/login")
    await page.get_by_label("Nama pengguna").fill("baru")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url("**/console/enrol")
    await inspect(page, "visitor-enrol")
    await page.close()
    await context.clear_cookies()


async def tour(
    context: BrowserContext, base: str, role: str, made: Furnished, clock: Clock, inspect: Inspect
) -> None:
    """Signs `role` in and shows `inspect` every page that role can open."""
    roles = ROLE_SETS[role]
    cases = "counsellor" in roles or "supervisor" in roles
    office = "supervisor" in roles or "admin" in roles
    page = await context.new_page()
    console = base + "/console"
    await _sign_in(page, base, role, made, clock)
    await inspect(page, f"{role}-home")
    if cases:
        await _go(page, console + "/queue")
        await page.locator("#waiting-title").wait_for()
        await inspect(page, f"{role}-queue")
        held = made.held.get(role) or made.held["counsellor"]
        await _go(page, f"{console}/cases/{held}")
        await inspect(page, f"{role}-case")
        if role in made.held:
            await page.get_by_role("button", name="Kembalikan ke antrean").click()
            await page.locator(".confirm").wait_for()
            await inspect(page, f"{role}-confirm-release")
    await _go(page, console + "/bookings")
    await inspect(page, f"{role}-bookings")
    await _go(page, console + "/bookings?view=week")
    await inspect(page, f"{role}-bookings-week")
    if role == "counsellor":
        await _go(page, console + "/bookings")
        await page.get_by_role("button", name="Tidak hadir").first.click()
        await page.locator(".confirm").wait_for()
        await inspect(page, "counsellor-confirm-no-show")
        await _go(page, console + "/users")
        await inspect(page, "counsellor-forbidden")
    if office:
        for name in ("availability", "figures", "audit"):
            await _go(page, f"{console}/{name}")
            await inspect(page, f"{role}-{name}")
    if "admin" in roles:
        await _admin_pages(page, console, role, inspect)
    await _go(page, console + "/cases/TIDAKADA")
    await inspect(page, f"{role}-not-found")
    await page.close()
    await context.clear_cookies()


async def _admin_pages(page: Page, console: str, role: str, inspect: Inspect) -> None:
    await _go(page, console + "/users")
    await inspect(page, f"{role}-users")
    await page.get_by_role("button", name="Nonaktifkan").first.click()
    await page.locator(".confirm").wait_for()
    await inspect(page, f"{role}-confirm-deactivate")
    await _go(page, console + "/referrals")
    await inspect(page, f"{role}-referrals")
    await _go(page, console + "/flows")
    await inspect(page, f"{role}-flows")
    await _go(page, console + "/flows/triage")
    await inspect(page, f"{role}-flow")
    editor = page.get_by_label("Isi berkas TOML")
    source = await editor.input_value()
    broken = source.replace('next = "', 'next = "nowhere_', 1)
    await paste(editor, broken)
    await page.get_by_role("button", name="Periksa", exact=True).click()
    await page.locator(".error ul.problems").wait_for()
    await inspect(page, f"{role}-flow-problems")
    edited = source.replace("\n", "\n# " + "panjang " * 30 + "\n", 1)
    await paste(page.get_by_label("Isi berkas TOML"), edited)
    await page.get_by_role("button", name="Periksa", exact=True).click()
    await page.locator(".diff").wait_for()
    await inspect(page, f"{role}-flow-diff")
    # The office's own faq.toml: checked, then offered for publishing with its diff.
    await _go(page, console + "/library/faq")
    await inspect(page, f"{role}-library-faq")
    faq = page.get_by_label("Isi berkas TOML")
    await paste(faq, (await faq.input_value()).replace("Kantor kami buka", "Kantor LK3 buka", 1))
    await page.get_by_role("button", name="Periksa", exact=True).click()
    await page.locator(".diff").wait_for()
    await inspect(page, f"{role}-library-faq-checked")


def roles() -> list[str]:
    return list(ROLE_SETS)
