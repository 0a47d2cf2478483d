"""Families' satisfaction on the figures page and in its CSV: counts of the feedback flow's 1-5,
under the small-count rule, and the whole path from a counsellor closing a case to the page."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

import pytest
from console_support import T0, csrf_of, make_console, signed_in
from support import Clock, RecordingChannel
from support.stores import with_storage

from bot.app import App
from bot.channels.base import Inbound
from bot.config import load_config
from bot.console.core import Console
from bot.console.office import Office
from bot.console.pages.figures import satisfaction
from bot.core.texts import BotTexts
from storage.flowhost.ratings import NewRating, RatingCounts
from storage.records import NewInbound, TurnWrite
from storage.store import Store

MONTH = "2026-03"


async def ratings(store: Store, values: list[int]) -> None:
    """One family's turn per rating, each counted with its turn, as the pipeline writes it."""
    for n, value in enumerate(values):
        message = NewInbound("test", f"r{n}", "choice", str(value), Clock(T0)())
        contact, inbox_id = await store.turns.receive("test", f"rated-{n}", message)
        assert inbox_id is not None
        write = TurnWrite(
            inbox_id,
            contact.id,
            "{}",
            (),
            Clock(T0)(),
            rating=NewRating(MONTH, value, "kdrt", "darurat"),
        )
        await store.turns.commit_turn(write)


# (ratings given) -> (count shown, hidden?, shown per rating 1..5, mean, share of 4-5)
RULES = [
    ([], "0", False, ("0", "0", "0", "0", "0"), None, None),
    ([5], "<5", True, (), None, None),
    ([5, 4, 1, 5], "<5", True, (), None, None),
    # A mean or share would give the "<5" counts away (5 ratings, mean 4.0: three 5s,
    # a 4 and a 1), so they show only when every rating given was given 5 times.
    ([5, 5, 5, 4, 1], "5", False, ("<5", "0", "0", "<5", "<5"), None, None),
    ([5] * 5 + [4, 1], "7", False, ("<5", "0", "0", "<5", "5"), None, None),
    ([5] * 5 + [4] * 6, "11", False, ("0", "0", "0", "6", "5"), "4.5", "100"),
]


@pytest.mark.parametrize(("given", "count", "hidden", "by_value", "mean", "share"), RULES)
def test_too_few_ratings_show_neither_spread_nor_mean(
    given: list[int],
    count: str,
    hidden: bool,
    by_value: tuple[str, ...],
    mean: str | None,
    share: str | None,
) -> None:
    counts = RatingCounts(tuple((r, given.count(r)) for r in range(1, 6)))
    shown = satisfaction(counts)
    assert (shown.count, shown.hidden, shown.mean, shown.share_helpful) == (
        count,
        hidden,
        mean,
        share,
    )
    assert tuple(n for _, n in shown.by_value) == by_value


async def test_the_page_shows_the_months_satisfaction_with_a_chart(
    console: Console, clock: Clock
) -> None:
    await ratings(console.store, [5] * 6 + [4] * 5 + [2] * 5)
    _, http = await signed_in(console, clock, "susi", ("supervisor",))
    async with aclosing(http):
        page = (await http.get(f"/console/figures?month={MONTH}")).text
        empty = (await http.get("/console/figures?month=2026-04")).text
    assert "Kepuasan keluarga" in page
    assert "Rata-rata 3.8 dari 5" in page and "69% menilai 4 atau 5" in page
    assert '<th scope="row">5 · sangat membantu</th>\n      <td class="num">6</td>' in page
    assert '<th scope="row">1 · tidak membantu</th>\n      <td class="num">0</td>' in page
    chart = page[page.index('id="chart-ratings"') :]
    assert 'class="bar" x="0" y="18" width="0' not in chart  # 1 was given 0 times: no bar
    assert chart.count('width="304.0"') == 1  # the most given rating draws the full bar
    assert "Belum ada penilaian bulan ini." in empty and "Rata-rata" not in empty


async def test_fewer_than_five_ratings_show_only_that_there_were_few(
    console: Console, clock: Clock
) -> None:
    await ratings(console.store, [5, 5, 1])
    _, http = await signed_in(console, clock, "ana", ("admin",))
    async with aclosing(http):
        page = (await http.get(f"/console/figures?month={MONTH}")).text
        download = await http.get(f"/console/figures.csv?month={MONTH}")
    assert "&lt;5 penilaian" in page
    assert "Rata-rata" not in page and "menilai 4 atau 5" not in page
    assert "sangat membantu</th>" not in page, "no spread either"
    table = {(r[1], r[2]): r[3] for r in csv.reader(io.StringIO(download.text))}
    assert table[("ratings", "count")] == "<5"
    assert [table[("ratings_by_value", str(r))] for r in range(1, 6)] == [""] * 5
    assert table[("ratings", "mean")] == "" and table[("ratings", "share_4_5_percent")] == ""


async def test_the_csv_has_the_same_satisfaction_rows(console: Console, clock: Clock) -> None:
    await ratings(console.store, [5] * 5 + [4, 1])  # a mean would give the "<5" away
    _, http = await signed_in(console, clock, "susi", ("supervisor",))
    async with aclosing(http):
        response = await http.get(f"/console/figures.csv?month={MONTH}")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert [r for r in rows if r[1].startswith("ratings")] == [
        [MONTH, "ratings", "count", "7"],
        [MONTH, "ratings_by_value", "1", "<5"],
        [MONTH, "ratings_by_value", "2", "0"],
        [MONTH, "ratings_by_value", "3", "0"],
        [MONTH, "ratings_by_value", "4", "<5"],
        [MONTH, "ratings_by_value", "5", "5"],
        [MONTH, "ratings", "mean", ""],
        [MONTH, "ratings", "share_4_5_percent", ""],
    ]


# --- the whole path ------------------------------------------------------------------


@dataclass
class Office3:
    app: App
    phones: RecordingChannel
    console: Console
    clock: Clock
    counter: int = 0

    async def family_says(self, address: str, text: str, kind: str = "text") -> None:
        self.counter += 1
        await self.app.receive(Inbound("test", f"m{self.counter}", address, kind, text))
        await self.app.wait_idle()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Office3]:
    clock = Clock(T0)
    config = with_storage(
        dataclasses.replace(load_config(None, env={}), data_dir=tmp_path / "data")
    )
    phones = RecordingChannel()
    app = await App.open(config, [phones], env={}, clock=clock)
    await app.start()
    try:
        assert app.handoff is not None and app.flows is not None
        office = Office(config, BotTexts.load(), app.handoff, app.flows)
        yield Office3(app, phones, make_console(app.store, clock, office=office), clock)
    finally:
        await app.stop()


async def test_a_case_closed_in_the_console_and_rated_by_the_family_reaches_the_figures(
    running: Office3,
) -> None:
    app, console, clock = running.app, running.console, running.clock
    assert app.handoff is not None
    sari, counsellor = await signed_in(console, clock, "sari", ("counsellor",))
    given = {"f1": "5", "f2": "5", "f3": "4", "f4": "2", "f5": "sangat membantu"}
    async with aclosing(counsellor):
        for address, rating in given.items():
            await running.family_says(address, "", kind="start")
            await running.family_says(address, "agree", kind="choice")
            await running.family_says(address, "suami saya memukuli saya sekarang")
            contact = await app.store.contacts.find("test", address)
            assert contact is not None
            case = await app.store.handoff.live_for(contact.id)
            assert case is not None
            assert (await app.handoff.take(sari, case.id)).done
            page = f"/console/cases/{case.code}"
            token = csrf_of((await counsellor.get(page)).text)
            # Urgent cases: the counsellor ticks that this family should be asked to rate.
            form = {"outcome": "aman", "ask_rating": "yes", "confirm": "yes", "csrf": token}
            closed = await counsellor.post(page + "/close", data=form)
            assert closed.headers["location"].endswith("?msg=closed")
            await app.wait_idle()
            question = running.phones.sent[-1]
            assert question.address == address and [v for v, _ in question.options][0] == "1"
            kind = "choice" if rating.isdigit() else "text"  # a button, or words
            await running.family_says(address, rating, kind=kind)
            await running.family_says(address, "no", kind="choice")
    _, supervisor = await signed_in(console, clock, "susi", ("supervisor",))
    async with aclosing(supervisor):
        page = (await supervisor.get(f"/console/figures?month={MONTH}")).text
    section = page[page.index('id="ratings"') :]
    assert section.split("</p>")[0].endswith('<p class="number">5')
    assert "Rata-rata" not in page, "five families: a mean would tell each one's rating"
    assert '<th scope="row">5 · sangat membantu</th>\n      <td class="num">&lt;5</td>' in page
