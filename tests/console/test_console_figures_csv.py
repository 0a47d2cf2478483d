"""The month's figures as CSV (supervisors and admins): counts only, "<5" applied, and the
90th percentile of time to first human reply beside the median."""

from __future__ import annotations

import csv
import io

from console_support import add_staff, client, login
from support import Clock
from test_console_figures import families

from bot.console.core import Console


async def test_the_csv_has_the_months_counts_with_small_ones_hidden(
    console: Console, clock: Clock
) -> None:
    await families(console.store, [("kdrt", "darurat")] * 6 + [("anak", "biasa")] * 2)
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        response = await http.get("/console/figures.csv?month=2026-03")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="lk3-figures-2026-03.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["month", "section", "item", "value"]
    table = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert all(r[0] == "2026-03" for r in rows[1:])
    assert table[("contacts", "first_contacts")] == "8"
    assert table[("cases_by_category", "kdrt")] == "6"
    assert table[("cases_by_category", "anak")] == "<5"
    assert table[("handoff_opened", "darurat")] == "6"
    assert table[("first_reply_p90_minutes", "darurat")] == ""  # none answered yet
    assert "tolong" not in response.text


async def test_a_bad_month_gets_a_kind_page_not_a_file(console: Console, clock: Clock) -> None:
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        response = await http.get("/console/figures.csv?month=13-2026")
    assert response.status_code == 400
    assert "Bulan tidak dikenal" in response.text


async def test_the_figures_page_shows_the_90th_percentile_column_and_the_download(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "adi", ("admin",))
    async with client(console) as http:
        await login(http, "adi", secret, clock)
        page = await http.get("/console/figures?month=2026-03")
    assert "Persentil ke-90" in page.text
    assert 'href="/console/figures.csv?month=2026-03"' in page.text
