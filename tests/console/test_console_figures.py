"""Figures page (supervisors and admins): the month's counts, small ones shown as "<5",
nothing decrypted and no case named; a month picker that forgives a bad value."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from console_support import T0, add_staff, client, login
from support import Clock

from bot.console.core import Console
from bot.console.pages.figures import shown
from storage.records import CaseOpen, NewInbound, TurnWrite
from storage.store import Store


async def families(store: Store, cases: list[tuple[str, str]], at: datetime = T0) -> None:
    """One new contact per entry, each with a case opened by one processed message."""
    for n, (category, urgency) in enumerate(cases):
        message = NewInbound("test", f"m{n}", "text", "<script>tolong</script>", at)
        contact, inbox_id = await store.turns.receive("test", f"chat-{n}", message)
        assert inbox_id is not None
        write = TurnWrite(
            inbox_id, contact.id, '{"node": "start"}', (), at, cases=(CaseOpen(category, urgency),)
        )
        await store.turns.commit_turn(write)


@pytest.mark.parametrize(("count", "text"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (12, "12")])
def test_counts_under_five_are_hidden(count: int, text: str) -> None:
    assert shown(count) == text


async def test_the_month_shows_counts_by_urgency_and_category_without_stories(
    console: Console, clock: Clock
) -> None:
    await families(
        console.store,
        [("kdrt", "darurat")] * 6 + [("anak", "biasa")] * 2 + [("ekonomi", "segera")] * 5,
    )
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        page = await http.get("/console/figures?month=2026-03")
        assert page.status_code == 200
        text = page.text
        assert 'class="number">13<' in text  # first contacts
        kdrt = "Kekerasan dalam rumah tangga (KDRT)"
        assert f'<th scope="row">{kdrt}</th>\n      <td class="num">6</td>' in text
        assert (
            '<th scope="row">Masalah anak dan pengasuhan</th>\n      <td class="num">&lt;5</td>'
            in text
        )
        assert '<th scope="row">kdrt</th>' not in text, "categories by name, not code"
        assert '<th scope="row">Darurat</th>\n      <td class="num">6</td>' in text
        assert "tolong" not in text and "<script>" not in text
        chart = text[text.index('id="chart-category"') :]
        chart = chart[: chart.index("</svg>")]
        assert chart.count('class="bar"') == 2, "a hidden count draws no bar"
        assert "Masalah anak dan pengasuhan: &lt;5" in chart  # its words for a screen reader
        empty = await http.get("/console/figures?month=2026-04")
        assert 'class="number">0<' in empty.text and "KDRT" not in empty.text
        bad = await http.get("/console/figures?month=<script>")
        assert bad.status_code == 200 and "Bulan tidak dikenal" in bad.text
        assert "<script>" not in bad.text and "2026-03" in bad.text


async def test_cases_count_in_the_office_month_they_were_opened(
    console: Console, clock: Clock
) -> None:
    # 31 March 20:00 UTC is already 1 April in Ambon (UTC+9).
    clock.now = T0.replace(month=3, day=31, hour=20)
    await families(console.store, [("kdrt", "biasa")] * 5, clock.now)
    clock.now = T0 + timedelta(days=40)
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        march = await http.get("/console/figures?month=2026-03")
        april = await http.get("/console/figures?month=2026-04")
    assert "KDRT" not in march.text
    assert (
        '<th scope="row">Kekerasan dalam rumah tangga (KDRT)</th>\n      <td class="num">5</td>'
        in april.text
    )
