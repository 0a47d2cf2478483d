"""Satisfaction: the feedback flow's rating counts once per closed case, with codes only."""

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
from bot.core.texts import BotTexts
from bot.core.turns import Rated
from bot.flowhost.ratings import TICKET_VAR, rating_write, take_rating, with_ticket
from bot.flowhost.turn import plan_turn
from bot.safety import Assessment, Level
from flows.engine import step
from flows.exchange import ChannelCaps, Context, Input
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState

WIT = ZoneInfo("Asia/Jayapura")
T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
FAMILY = "chat-7"
COMMENT = "Jadwalnya terlalu lama, RAHASIA-8812"


def state(*variables: tuple[str, str | int | bool]) -> SessionState:
    return SessionState("id", (), tuple(sorted(variables)))


TICKETED = state(("consent", "yes"), (TICKET_VAR, "kdrt/darurat"))

# (state, the effect's parameter) -> (rating counted, ticket still there, error code)
TAKES = [
    (TICKETED, "4", Rated(4, "kdrt", "darurat"), False, None),
    (TICKETED, "1", Rated(1, "kdrt", "darurat"), False, None),
    (state(("consent", "yes")), "5", None, False, None),  # no closed case to rate
    (TICKETED, "7", None, True, "bad_rating"),
    (TICKETED, "", None, True, "bad_rating"),
    (TICKETED, COMMENT, None, True, "bad_rating"),  # a free answer never reaches the counts
    (TICKETED, "٣", None, True, "bad_rating"),  # a digit, but not one of 1-5
    (state((TICKET_VAR, "Bukan Kode/gawat")), "3", Rated(3), False, None),
]


@pytest.mark.parametrize(("before", "value", "rated", "kept", "error"), TAKES)
def test_a_rating_uses_up_the_closed_cases_ticket(
    before: SessionState, value: str, rated: Rated | None, kept: bool, error: str | None
) -> None:
    after, got, problem = take_rating(before, value)
    assert got == rated
    assert (after.var(TICKET_VAR) is not None) == kept
    assert (None if problem is None else problem.code) == error
    assert after.var("consent") == before.var("consent")


def test_a_second_rating_of_the_same_case_is_not_counted() -> None:
    after, first, _ = take_rating(TICKETED, "5")
    again, second, error = take_rating(after, "2")
    assert first == Rated(5, "kdrt", "darurat") and second is None and error is None
    assert again == after


def test_a_new_close_replaces_an_unused_ticket() -> None:
    ticketed = with_ticket(with_ticket(state(), "kdrt", "darurat"), "anak", "biasa")
    assert ticketed.var(TICKET_VAR) == "anak/biasa"
    assert [k for k, _ in ticketed.vars] == [TICKET_VAR]


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 3, 31, 14, 59, tzinfo=UTC), "2026-03"),
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), "2026-04"),  # midnight in Ambon (UTC+9)
        (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "2027-01"),
    ],
)
def test_a_rating_counts_in_the_offices_month(now: datetime, month: str) -> None:
    written = rating_write(Rated(5, "kdrt", "segera"), now, WIT)
    assert written is not None and (written.month, written.rating) == (month, 5)
    assert rating_write(None, now, WIT) is None


def test_the_feedback_flow_hands_the_chosen_rating_to_the_host_and_never_the_comment() -> None:
    library = load_library(bundled_library_dir())
    ctx = Context(
        now=T0,
        channel=ChannelCaps(buttons=True, max_choices=10),
        values={"office_name": "LK3 Kota Ambon", "hotlines": "112"},
        default_language="id",
    )
    started = step(library, TICKETED, Input(kind="interrupt", flow="feedback"), ctx).state
    texts = BotTexts.bundled()
    none = Assessment(Level.NONE, ())

    def answer(current: SessionState, kind: str, text: str):  # type: ignore[no-untyped-def]
        return plan_turn(
            library=library,
            state=current,
            kind=kind,
            text=text,
            assessment=none,
            ctx=ctx,
            texts=texts,
            max_chars=4000,
        )

    rated = answer(started, "choice", "4")
    assert rated.rating == Rated(4, "kdrt", "darurat")
    assert rated.state.var(TICKET_VAR) is None and rated.state.var("rating") == "4"
    wants = answer(rated.state, "choice", "yes")
    commented = answer(wants.state, "text", COMMENT)
    assert (wants.rating, commented.rating) == (None, None)
    assert commented.state.var("comment") == COMMENT  # only in the sealed session


# --- through the running bot ---------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def ticking_bot(tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    channel = RecordingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={}, clock=clock)
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def closed_case(bot: Bot, address: str) -> None:
    """A family with an urgent case, taken and closed by a counsellor in the console."""
    app = bot.app
    assert app.handoff is not None
    await bot.start(address)
    await bot.send(address, "agree", kind="choice")
    await bot.send(address, "suami saya memukuli saya sekarang")
    contact = await app.store.contacts.find("test", address)
    assert contact is not None
    case = await app.store.handoff.live_for(contact.id)
    assert case is not None
    member = await app.store.staff.by_username("rina")
    if member is None:
        member = await app.store.staff.add("rina", "Rina", ["counsellor"], app.handoff.now())
    assert (await app.handoff.take(member.id, case.id)).outcome == "done"
    # An urgent case: the family is asked to rate only because the counsellor chose so.
    closed = await app.handoff.close(member.id, case.id, "aman", ask_rating=True)
    assert closed.outcome == "done"
    await app.wait_idle()


async def test_a_family_rating_a_closed_case_is_counted_once_for_the_figures(
    ticking_bot: Bot,
) -> None:
    bot = ticking_bot
    await closed_case(bot, FAMILY)
    assert bot.channel.sent[-1].options[0][0] == "1", "the feedback question follows the close"
    await bot.send(FAMILY, "5", kind="choice")
    await bot.send(FAMILY, "yes", kind="choice")
    await bot.send(FAMILY, COMMENT)
    counts = await bot.app.store.ratings.month("2026-11")
    assert counts.by_rating == ((1, 0), (2, 0), (3, 0), (4, 0), (5, 1))
    await bot.send(FAMILY, "5")  # the flow is over: a "5" now is not a second rating
    assert (await bot.app.store.ratings.month("2026-11")).total == 1
    raw = database_bytes(bot.app.config.database_path)
    assert b"RAHASIA-8812" not in raw


async def test_each_closed_case_is_rated_on_its_own(ticking_bot: Bot) -> None:
    bot = ticking_bot
    await closed_case(bot, FAMILY)
    await bot.send(FAMILY, "2", kind="choice")
    await bot.send(FAMILY, "no", kind="choice")
    await closed_case(bot, "chat-8")
    await bot.send("chat-8", "sangat membantu")
    counts = await bot.app.store.ratings.month("2026-11")
    assert counts.by_rating == ((1, 0), (2, 1), (3, 0), (4, 0), (5, 1))
    assert counts.total == 2


async def test_a_rating_counts_in_the_month_it_was_given(ticking_bot: Bot, clock: Clock) -> None:
    bot = ticking_bot
    await closed_case(bot, FAMILY)
    clock.now = T0 + timedelta(days=4)  # December in Ambon
    await bot.send(FAMILY, "4", kind="choice")
    assert (await bot.app.store.ratings.month("2026-11")).total == 0
    assert (await bot.app.store.ratings.month("2026-12")).total == 1
