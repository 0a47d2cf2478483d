"""Typed answers the flows did not understand: counted with the turn, words kept only with
consent, scrubbed of names and numbers, never from a crisis, gone when the family goes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bot_support import Bot, make_config
from support import Clock, RecordingChannel
from support.rawdb import database_bytes

from bot.app import App
from bot.channels.base import Inbound
from bot.core.texts import BotTexts
from bot.core.turns import TurnPlan, Unclear
from bot.flowhost.missed import KEEP_MAX_CHARS, missed_writes, scrub, unclear
from bot.flowhost.turn import plan_turn
from bot.safety import Assessment, Level
from flows.engine import step
from flows.exchange import ChannelCaps, Context, Input, Missed
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState
from flows.transcripts import DEFAULT_CONTEXT
from storage.flowhost.missed import MissedCount, NewMiss

WIT = ZoneInfo("Asia/Jayapura")
T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 10.00 in Ambon
FAMILY = "chat-7"
NOT_UNDERSTOOD = "zzkq plomb"
NONE = Assessment(Level.NONE, ())

# --- scrubbing: what could name or reach someone never reaches the flow page ----------

SCRUBBED = [
    ("mau konsultasi", "mau konsultasi"),
    ("Mau Konsultasi", "Mau Konsultasi"),  # every word capitalised: nothing stands out
    ("telpon sa di 0812-3456-7890 ya", "telpon sa di <nomor> ya"),
    ("wa +62 812 3456 7890", "wa <nomor>"),
    ("jam 11 bisa", "jam <angka> bisa"),
    ("tanggal 25 desember", "tanggal <angka> desember"),
    ("kode kasus K7F3Q2", "kode kasus <angka>"),
    ("email budi.s@contoh.id", "email <email>"),
    ("ig: budi_ambon", "<akun>"),
    ("nama saya Budi Santoso", "nama saya <nama>"),
    ("nama saya budi", "nama saya <nama>"),
    ("beta pung nama yance", "beta pung nama <nama>"),
    ("my name is john", "my name is <nama>"),
    ("mau ketemu pak budi", "mau ketemu pak <nama>"),
    ("om yance pukul", "om <nama> pukul"),
    ("bu saya mau tanya", "bu saya mau tanya"),  # a pronoun after a title is no name
    ("beta pung laki Yance pukul beta", "beta pung laki <nama> pukul beta"),
    ("bisa hari Rabu?", "bisa hari Rabu?"),  # a day is no name
    ("rumah di jalan sultan hairun no 5", "rumah di <alamat>"),
]


@pytest.mark.parametrize(("typed", "kept"), SCRUBBED)
def test_scrubbing_masks_names_numbers_and_ways_to_reach_someone(typed: str, kept: str) -> None:
    assert scrub(typed) == kept


def test_scrubbed_words_hold_no_digit() -> None:
    for typed, _ in SCRUBBED:
        assert not any(ch.isdigit() for ch in scrub(typed).replace("<", "").replace(">", ""))


# --- the plan: which misses a turn keeps, with which words ------------------------------


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    return load_library(bundled_library_dir(), languages=("id", "en"))


@pytest.fixture(scope="module")
def texts() -> BotTexts:
    return BotTexts.load(languages=("id", "en"))


def ctx() -> Context:
    return Context(T0, ChannelCaps(buttons=True), dict(DEFAULT_CONTEXT))


def at_menu(library: FlowLibrary, answer: str = "agree") -> SessionState:
    """A family who answered the consent question (`agree` or `decline`)."""
    first = step(library, SessionState.fresh("id"), Input("start"), ctx())
    return step(library, first.state, Input("choice", choice=answer), ctx()).state


def plan(
    library: FlowLibrary,
    texts: BotTexts,
    state: SessionState | None,
    text: str,
    *,
    kind: str = "text",
    assessment: Assessment = NONE,
) -> TurnPlan:
    return plan_turn(
        library=library,
        state=state,
        kind=kind,
        text=text,
        assessment=assessment,
        ctx=ctx(),
        texts=texts,
        max_chars=2000,
    )


def test_a_consenting_familys_miss_keeps_the_scrubbed_words(
    library: FlowLibrary, texts: BotTexts
) -> None:
    got = plan(library, texts, at_menu(library), "zzkq dgn pak Budi 0812345678")
    assert got.unclear == (Unclear("welcome", "main_menu", False, "zzkq dgn pak <nama> <nomor>"),)
    assert "Budi" not in repr(got.unclear)


def test_a_close_call_is_kept_as_one(library: FlowLibrary, texts: BotTexts) -> None:
    got = plan(library, texts, at_menu(library), "info darurat")
    assert got.unclear == (Unclear("welcome", "main_menu", True, "info darurat"),)


def test_without_consent_a_miss_is_only_counted(library: FlowLibrary, texts: BotTexts) -> None:
    asked = step(library, SessionState.fresh("id"), Input("start"), ctx()).state
    assert plan(library, texts, asked, NOT_UNDERSTOOD).unclear == (
        Unclear("welcome", "consent_ask", False, None),
    )
    declined = at_menu(library, "decline")
    assert declined.stack, "a family who declined still has a question to answer"
    got = plan(library, texts, declined, NOT_UNDERSTOOD)
    assert got.unclear and all(u.words is None for u in got.unclear)


def test_a_long_answer_is_a_story_and_only_counted(library: FlowLibrary, texts: BotTexts) -> None:
    story = "zzkq plomb " * 9
    assert len(story) > KEEP_MAX_CHARS
    assert plan(library, texts, at_menu(library), story).unclear[0].words is None


@pytest.mark.parametrize(
    ("kind", "text"), [("text", "1"), ("text", "informasi"), ("choice", "info")]
)
def test_an_understood_answer_keeps_nothing(
    library: FlowLibrary, texts: BotTexts, kind: str, text: str
) -> None:
    assert plan(library, texts, at_menu(library), text, kind=kind).unclear == ()


def test_a_button_from_an_old_message_is_no_typed_answer(
    library: FlowLibrary, texts: BotTexts
) -> None:
    assert plan(library, texts, at_menu(library), "gone", kind="choice").unclear == ()


def test_words_in_a_crisis_are_never_kept_for_the_flow_page(
    library: FlowLibrary, texts: BotTexts
) -> None:
    urgent = Assessment(Level.URGENT, ("test",))
    crisis = plan(library, texts, at_menu(library), "laki pukul beta", assessment=urgent)
    assert crisis.state.current_flow == "crisis"
    assert crisis.unclear == ()  # the crisis flow took over: no question missed
    # An answer a crisis flow's question does not take: counted, its words not kept.
    found = unclear(
        (Missed("crisis", "safe_place"), Missed("welcome", "main_menu")),
        typed=True,
        text=NOT_UNDERSTOOD,
        state=at_menu(library),
        keep=True,
        consent_version=DEFAULT_CONTEXT["consent_version"],
        quiet_flows=("crisis", "safety_check"),
    )
    assert [u.words for u in found] == [None, NOT_UNDERSTOOD]
    worried = plan(
        library, texts, at_menu(library), NOT_UNDERSTOOD, assessment=Assessment(Level.CHECK, ())
    )
    assert all(u.words is None for u in worried.unclear)


def test_a_family_who_agreed_to_an_older_consent_text_is_counted_not_kept(
    library: FlowLibrary, texts: BotTexts
) -> None:
    """The sentence that answers may be read masked came with a newer text: someone who
    agreed before never saw it, so their words are not kept."""
    state = at_menu(library)
    assert state.var("consent_version") == DEFAULT_CONTEXT["consent_version"]
    current = unclear(
        (Missed("welcome", "main_menu"),),
        typed=True,
        text=NOT_UNDERSTOOD,
        state=state,
        keep=True,
        consent_version=DEFAULT_CONTEXT["consent_version"],
    )
    newer = unclear(
        (Missed("welcome", "main_menu"),),
        typed=True,
        text=NOT_UNDERSTOOD,
        state=state,
        keep=True,
        consent_version="2099-01",
    )
    assert [u.words for u in current] == [NOT_UNDERSTOOD]
    assert [u.words for u in newer] == [None]


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (datetime(2026, 3, 2, 14, 59, tzinfo=UTC), "2026-03-02"),
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "2026-03-03"),  # midnight in Ambon
    ],
)
def test_a_miss_counts_on_the_offices_day(now: datetime, day: str) -> None:
    (write,) = missed_writes((Unclear("welcome", "main_menu", True, "x"),), now, WIT)
    assert write == NewMiss(day, "welcome", "main_menu", True, "x")


# --- through the running bot ---------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def bot(tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    channel = RecordingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={}, clock=clock)
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def consented(bot: Bot, who: str = FAMILY) -> None:
    await bot.start(who)
    await bot.send(who, "agree", kind="choice")


async def words_at_menu(bot: Bot) -> list[str]:
    found = await bot.app.store.missed.words("welcome", T0 - timedelta(days=1), 20)
    return [w.text for w in found.get("main_menu", ())]


async def test_a_miss_is_counted_for_the_day_and_the_words_kept_scrubbed(bot: Bot) -> None:
    await consented(bot)
    await bot.send(FAMILY, "zzkq pak Yance plomb")
    await bot.send(FAMILY, NOT_UNDERSTOOD)
    counts = await bot.app.store.missed.counts("welcome", "2026-11-27")
    assert counts["main_menu"].misses == 2
    assert await words_at_menu(bot) == [NOT_UNDERSTOOD, "zzkq pak <nama> plomb"]
    assert b"Yance" not in database_bytes(bot.app.config.database_path)


async def test_the_same_message_delivered_twice_counts_once(bot: Bot) -> None:
    await consented(bot)
    again = Inbound("test", "same-id", FAMILY, "text", NOT_UNDERSTOOD)
    assert await bot.app.receive(again)
    await bot.app.wait_idle()
    assert not await bot.app.receive(again)  # a transport's retry of the same message
    await bot.app.wait_idle()
    counts = await bot.app.store.missed.counts("welcome", "2026-11-27")
    assert counts == {"main_menu": MissedCount(1, 0)}
    assert await words_at_menu(bot) == [NOT_UNDERSTOOD]


async def test_a_family_who_declined_is_counted_with_no_words(bot: Bot) -> None:
    await bot.start(FAMILY)
    await bot.send(FAMILY, "decline", kind="choice")
    await bot.send(FAMILY, NOT_UNDERSTOOD)
    counts = await bot.app.store.missed.counts("welcome", "2026-11-01")
    assert sum(c.total for c in counts.values()) >= 1
    found = await bot.app.store.missed.words("welcome", T0 - timedelta(days=1), 20)
    assert found == {}


async def test_withdrawing_consent_deletes_the_words_at_once(bot: Bot) -> None:
    await consented(bot)
    await consented(bot, "chat-8")
    await bot.send(FAMILY, NOT_UNDERSTOOD)
    await bot.send("chat-8", "qwpx vvb")
    assert await words_at_menu(bot) == ["qwpx vvb", NOT_UNDERSTOOD]
    await bot.send(FAMILY, "berhenti")
    assert await words_at_menu(bot) == ["qwpx vvb"]  # only the other family's
    assert (await bot.app.store.missed.counts("welcome", "2026-11-27"))["main_menu"].total >= 1


async def test_deleting_my_data_deletes_the_words(bot: Bot) -> None:
    await consented(bot)
    await bot.send(FAMILY, NOT_UNDERSTOOD)
    await bot.send(FAMILY, "hapus")
    await bot.send(FAMILY, "yes", kind="choice")
    assert await words_at_menu(bot) == []


async def test_my_data_shows_the_kept_words(bot: Bot) -> None:
    await consented(bot)
    await bot.send(FAMILY, "zzkq pak Yance plomb")
    before = len(bot.channel.sent)
    await bot.send(FAMILY, "dataku")
    export = "\n".join(m.text for m in bot.channel.sent[before:])
    assert "Jawaban singkat yang belum dimengerti bot" in export
    assert "zzkq pak <nama> plomb" in export
    assert "selama 30 hari" in export


async def test_retention_drops_the_words_after_the_first_contact_period(
    bot: Bot, clock: Clock
) -> None:
    await consented(bot)
    await bot.send(FAMILY, NOT_UNDERSTOOD)
    clock.advance(days=bot.app.config.retention.first_contact_days - 1)
    assert (await bot.app.retention.run_once()).missed_words == 0
    assert await words_at_menu(bot) == [NOT_UNDERSTOOD]
    clock.advance(days=2)
    report = await bot.app.retention.run_once()
    assert report.missed_words == 1 or report.erased == 1  # the family itself may be due too
    assert await words_at_menu(bot) == []
