"""The flow page's answers not understood: counts per question for the last 30 days, and the
consenting families' scrubbed words, newest first, to admins only; showing them is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from console_support import T0, add_staff, client, login
from support import Clock

from bot.console.core import Console
from bot.console.pages.missed import WINDOW_DAYS, WORDS_SHOWN
from storage.flowhost.missed import NewMiss
from storage.records import NewInbound, NewOutbound, TurnWrite

DAY = T0.date().isoformat()  # 2026-03-02, 17.00 in Ambon
OLD_DAY = (T0 - timedelta(days=WINDOW_DAYS + 1)).date().isoformat()
SECRET = "RAHASIA-7731"


async def family_typed(console: Console, address: str, *misses: NewMiss, days_ago: int = 0) -> int:
    """A family's message whose committed turn carries `misses`; its contact id."""
    store = console.store
    when = T0 - timedelta(days=days_ago)
    item = NewInbound("telegram", f"{address}-{len(misses)}-{days_ago}", "text", "x", when)
    contact, inbox_id = await store.turns.receive("telegram", address, item)
    assert inbox_id is not None
    reply = NewOutbound(contact.id, "telegram", "Maaf, saya belum mengerti.", (), 5, when)
    await store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, '{"n": 1}', (reply,), when, missed=misses)
    )
    return contact.id


def menu(words: str | None = None, *, close: bool = False, day: str = DAY) -> NewMiss:
    return NewMiss(day, "welcome", "main_menu", close, words)


async def admin_page(console: Console, clock: Clock, http: httpx.AsyncClient) -> str:
    _, secret = await add_staff(console, "ana", ("admin",))
    await login(http, "ana", secret, clock)
    response = await http.get("/console/flows/welcome")
    assert response.status_code == 200
    return response.text


def row_of(html: str, node: str) -> str:
    found = re.search(rf'<tr data-node="{node}">(.*?)</tr>', html, flags=re.S)
    assert found is not None, f"no row for {node}"
    return found.group(1)


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]


async def test_an_admin_sees_counts_per_question_and_the_latest_words_first(
    console: Console, clock: Clock
) -> None:
    await family_typed(console, "101", menu("mau konsultasi"), days_ago=3)
    await family_typed(console, "102", menu("Mau  KONSULTASI"), days_ago=2)
    await family_typed(console, "103", menu("info darurat", close=True), days_ago=1)
    await family_typed(console, "104", menu())  # no consent: counted, no words
    await family_typed(console, "105", NewMiss(DAY, "welcome", "consent_ask", False, "mungkin"))
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    assert "Jawaban yang belum dimengerti" in html
    row = row_of(html, "main_menu")
    assert "Apa yang bisa kami bantu?" in row  # the question, in the admin's language
    assert cells(row)[:2] == ["3", "1"]  # not understood, close calls
    words = re.findall(r"<li><q>(.*?)</q>(.*?)</li>", row)
    assert words == [("info darurat", " (hampir dimengerti)"), ("Mau  KONSULTASI", " · 2 kali")]
    consent = row_of(html, "consent_ask")
    assert cells(consent)[:2] == ["1", "0"] and "<q>mungkin</q>" in consent


async def test_only_the_last_30_days_count_and_older_words_are_not_shown(
    console: Console, clock: Clock
) -> None:
    await family_typed(console, "101", menu("lama sekali", day=OLD_DAY), days_ago=WINDOW_DAYS + 1)
    await family_typed(console, "102", menu("baru"))
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    row = row_of(html, "main_menu")
    assert cells(row)[0] == "1"
    assert "baru" in row and "lama sekali" not in html


async def test_the_words_shown_are_capped_per_question(console: Console, clock: Clock) -> None:
    for n in range(WORDS_SHOWN + 5):
        await family_typed(console, f"2{n:02d}", menu(f"kata ke{'x' * n}"))
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    assert cells(row_of(html, "main_menu"))[0] == str(WORDS_SHOWN + 5)
    assert row_of(html, "main_menu").count("<li>") == WORDS_SHOWN


async def test_a_flow_without_misses_says_so(console: Console, clock: Clock) -> None:
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    assert "Tidak ada jawaban yang belum dimengerti dalam 30 hari terakhir." in html
    assert 'data-node="' not in html


async def test_what_a_family_typed_is_shown_as_text_never_as_html(
    console: Console, clock: Clock
) -> None:
    await family_typed(console, "101", menu('<script>alert("x")</script>'))
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


async def test_showing_the_words_is_audited_with_the_flow_and_never_the_words(
    console: Console, clock: Clock
) -> None:
    await family_typed(console, "101", menu(f"mau {SECRET}"))
    async with client(console) as http:
        await admin_page(console, clock, http)
    rows = [r for r in await console.store.audit.rows() if r.action == "missed_words_read"]
    assert [(r.actor.startswith("staff:"), r.subject) for r in rows] == [(True, "flow:welcome")]
    assert all(SECRET not in r.reason for r in rows)


async def test_counts_alone_are_not_audited(console: Console, clock: Clock) -> None:
    await family_typed(console, "101", menu())
    async with client(console) as http:
        await admin_page(console, clock, http)
    assert not [r for r in await console.store.audit.rows() if r.action == "missed_words_read"]


async def test_a_counsellor_cannot_open_the_flow_page_nor_see_the_words_anywhere(
    console: Console, clock: Clock
) -> None:
    await family_typed(console, "101", menu(f"mau {SECRET}"))
    await add_staff(console, "rina", ("counsellor",))
    async with client(console) as http:
        await login(http, "rina", None, clock)
        home = await http.get("/console/")
        assert home.status_code == 200 and SECRET not in home.text
        assert "/console/flows" not in home.text
        page = await http.get("/console/flows/welcome")
        assert page.status_code == 403 and SECRET not in page.text


async def test_a_family_erased_since_leaves_no_words_on_the_page(
    console: Console, clock: Clock
) -> None:
    anna = await family_typed(console, "101", menu(f"mau {SECRET}"))
    await family_typed(console, "102", menu("budi punya"))
    assert await console.store.erasure.erase(anna, reason="request", actor="cli", why="asked")
    async with client(console) as http:
        html = await admin_page(console, clock, http)
    row = row_of(html, "main_menu")
    assert SECRET not in html and "budi punya" in row
    assert cells(row)[0] == "2", "the counts hold no one and stay"
