"""The figures page draws a bar chart beside each table (inline SVG: no script, no inline
style, described in words), names categories instead of their codes, and its CSV keeps
every count under 5 hidden exactly as the page does."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterator
from typing import Any

from case_support import family_case
from console_support import add_staff, client, login
from support import Clock
from test_console_figures import families

from bot.console.charts import Bar, bar_chart
from bot.console.core import Console
from bot.console.i18n import ConsoleTexts
from flows.loader import bundled_library_dir
from storage.console.office import BOOKING_OUTCOMES

COUNT_SECTIONS = (
    "contacts",
    "cases_by_urgency",
    "cases_by_category",
    "handoff_opened",
    "handoff_answered",
    "bookings",
    "ratings_by_value",
)


def test_a_chart_is_an_svg_image_with_its_figures_in_words() -> None:
    svg = str(
        bar_chart(
            "c1",
            "Kasus <menurut> kategori",
            [Bar("KDRT", "12", 12), Bar("Anak & pengasuhan", "<5", 0), Bar("Lainnya", "6", 6)],
        )
    )
    assert svg.startswith('<svg class="bar-chart" id="c1"') and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Kasus &lt;menurut&gt; kategori</title>' in svg
    assert '<desc id="c1-desc">KDRT: 12; Anak &amp; pengasuhan: &lt;5; Lainnya: 6</desc>' in svg
    assert svg.count('class="bar"') == 2, "a hidden count draws no bar"
    widths = re.findall(r'class="bar" x="0" y="\d+" width="([\d.]+)"', svg)
    assert [float(w) for w in widths] == [304.0, 152.0]  # the largest is the longest
    assert "style=" not in svg and "<script" not in svg and "on" + "load" not in svg


def _category_codes(value: Any) -> Iterator[str]:
    """Every category a bundled flow can open a case with: `open_case` literals and the
    values a flow sets `case_category` to."""
    if isinstance(value, dict):
        category = value.get("category")
        if value.get("name") == "open_case" and isinstance(category, str):
            if not category.startswith("{"):
                yield category
        if value.get("set") == "case_category" and isinstance(value.get("value"), str):
            yield value["value"]
        for item in value.values():
            yield from _category_codes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _category_codes(item)


def test_every_category_a_flow_can_open_has_a_name_in_both_languages() -> None:
    texts = ConsoleTexts.load()
    codes: set[str] = set()
    for path in bundled_library_dir().glob("*.toml"):
        codes.update(_category_codes(tomllib.loads(path.read_text(encoding="utf-8"))))
    assert {"anak", "krisis", "kdrt", "lainnya"} <= codes
    assert sorted(c for c in codes if f"case_category_{c}" not in texts.table) == []
    assert texts.get("case_category_anak", "id") == "Masalah anak dan pengasuhan"
    assert texts.get("case_category_krisis", "id") == "Krisis"
    assert texts.get("case_category_anak", "en") == "Children and parenting"


async def test_the_queue_and_the_case_page_name_the_category(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "susi", ("supervisor",))
    case = await family_case(console.store, clock, ["anak saya"], category="anak", crisis="")
    async with client(console) as http:
        await login(http, "susi", None, clock)
        queue = (await http.get("/console/queue")).text
        page = (await http.get(f"/console/cases/{case.code}")).text
    for html in (queue, page):
        assert "Masalah anak dan pengasuhan" in html
        assert ">anak<" not in html


async def test_the_page_has_a_chart_beside_each_table_with_names_not_codes(
    console: Console, clock: Clock
) -> None:
    await families(console.store, [("kdrt", "darurat")] * 6 + [("krisis", "darurat")] * 2)
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        page = (await http.get("/console/figures?month=2026-03")).text
    for chart_id in ("chart-urgency", "chart-category", "chart-bookings"):
        assert f'<svg class="bar-chart" id="{chart_id}"' in page
    category = page[page.index('id="chart-category-h"') : page.index('id="chart-bookings-h"')]
    assert category.index("<table>") < category.index('<svg class="bar-chart"')
    assert '<th scope="row">Krisis</th>\n      <td class="num">&lt;5</td>' in category
    assert "Kekerasan dalam rumah tangga (KDRT): 6; Krisis: &lt;5" in category
    assert ">kdrt<" not in page and ">krisis<" not in page
    assert 'id="chart-replies"' not in page, "no median to draw while no case was answered"
    assert "style=" not in page


async def test_no_count_under_five_reaches_the_csv_and_every_count_matches_the_page(
    console: Console, clock: Clock
) -> None:
    # Each section has a count of 1 to 4 somewhere: categories, urgencies, hand-offs.
    await families(
        console.store,
        [("kdrt", "darurat")] * 3 + [("anak", "segera")] * 2 + [("ekonomi", "biasa")] * 6,
    )
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        page = (await http.get("/console/figures?month=2026-03")).text
        download = (await http.get("/console/figures.csv?month=2026-03")).text
    rows = list(csv.reader(io.StringIO(download)))[1:]
    counts = [(r[1], r[2], r[3]) for r in rows if r[1] in COUNT_SECTIONS or r[1].startswith("wait")]
    assert len(counts) >= 10
    leaked = [row for row in counts if row[2] in ("1", "2", "3", "4")]
    assert leaked == []
    table = {(section, item): value for section, item, value in counts}
    assert table[("cases_by_category", "kdrt")] == "<5"
    assert table[("cases_by_category", "ekonomi")] == "6"
    assert table[("cases_by_urgency", "segera")] == "<5"
    assert table[("handoff_opened", "darurat")] == "<5"
    texts = ConsoleTexts.load()
    # The page shows the same figure for every count the CSV has.
    for code in ("kdrt", "anak", "ekonomi"):
        name = texts.get(f"case_category_{code}", "id")
        shown = table[("cases_by_category", code)].replace("<", "&lt;")
        assert f'<th scope="row">{name}</th>\n      <td class="num">{shown}</td>' in page
    for urgency in ("darurat", "segera", "biasa"):
        name = texts.get(f"urgency_{urgency}", "id")
        shown = table[("cases_by_urgency", urgency)].replace("<", "&lt;")
        assert f'<th scope="row">{name}</th>\n      <td class="num">{shown}</td>' in page
    assert {item for section, item, _ in counts if section == "bookings"} == set(BOOKING_OUTCOMES)
