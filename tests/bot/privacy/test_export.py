"""What "my data" looks like (in words, nothing internal), and what a withdrawn contact's
message leads to: pure tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.core.texts import BotTexts
from bot.flowhost.turn import plan_turn
from bot.privacy.export import render_export, split_messages
from bot.privacy.words import Words
from bot.safety import Assessment, Level
from flows.exchange import ChannelCaps, Context
from flows.loader import bundled_library_dir, load_library
from flows.model import Value
from flows.state import SessionState
from storage.booking.records import MODES
from storage.privacy.repo import (
    SubjectBooking,
    SubjectCase,
    SubjectConsent,
    SubjectData,
    SubjectMessage,
)
from storage.records import URGENCIES

AT = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 10.30 WIT


@pytest.mark.parametrize(
    ("lines", "limit", "expected"),
    [
        (["a", "b", "c"], 10, ["a\nb\nc"]),
        (["aaaa", "bbbb", "cccc"], 9, ["aaaa\nbbbb", "cccc"]),
        (["x" * 12], 5, ["xxxxx", "xxxxx", "xx"]),
        (["", "a", "", "", "b"], 3, ["a", "b"]),
        ([], 10, []),
    ],
    ids=["fits", "breaks between lines", "cuts a long line", "no blank edges", "nothing"],
)
def test_messages_are_packed_by_lines_within_the_limit(
    lines: list[str], limit: int, expected: list[str]
) -> None:
    assert split_messages(lines, limit) == expected


def subject(**changes: object) -> SubjectData:
    data = SubjectData(
        contact_id=7,
        channel="telegram",
        created_at=AT,
        language="en",
        messages=(
            SubjectMessage(AT, "start", ""),
            SubjectMessage(AT, "text", "my husband shouts"),
            SubjectMessage(AT, "choice", "agree"),
            SubjectMessage(AT, "photo", ""),
            SubjectMessage(AT, "text", ""),
        ),
        consents=(
            SubjectConsent(AT, True, "2026-12", False),
            SubjectConsent(AT, False, "2026-12", True),
        ),
        cases=(SubjectCase("K7F3Q2", "kdrt", "darurat", "open", AT, False),),
        session_state=None,
    )
    for key, value in changes.items():
        object.__setattr__(data, key, value)
    return data


LIBRARY = load_library(bundled_library_dir())
WIT = ZoneInfo("Asia/Jayapura")


def words(language: str) -> Words:
    return Words(BotTexts.load(), LIBRARY, language, Config().context_values(language), WIT)


# A session as the flows leave it: answers, a score, and the bot's own bookkeeping.
VARS: tuple[tuple[str, Value], ...] = (
    ("booking_slot", "2026-12-07T01:00Z"),
    ("booking_slot:label", "Monday 7 December, 10:00 WIT"),
    ("case_category", "kdrt"),
    ("category", "kdrt"),
    ("consent", "no"),
    ("consent_answer", "decline"),
    ("language:chosen", "en"),
    ("limited_choice", "info"),
    ("menu_choice:shown", "[]"),
    ("since", "months"),
    ("srq", 7),
    ("srq_1", "yes"),
    ("srq_2", "no"),
    ("start_param", "lang-en"),
    ("stuck_choice", "person"),
    ("violence", 0),
    ("wants_person", "yes"),
    ("withdrawn", "no"),
)


def test_the_export_reads_as_plain_sentences_in_the_office_time() -> None:
    booked = SubjectBooking(
        "B4K9TT", "telepon", AT, AT + timedelta(hours=1), "confirmed", "+62 812 0000 1111"
    )
    text = "\n".join(render_export(subject(bookings=(booked,)), VARS, words=words("en"), now=AT))
    assert text == (
        "Here is the data LK3 Kota Ambon keeps about you, as of 01-12-2026 10.30."
        " It is for you alone.\n"
        "\n"
        "Account: this chat, which first contacted us on 01-12-2026 10.30."
        " Your phone number or chat account is stored encrypted.\n"
        "\n"
        "Your consent:\n"
        "• 01-12-2026 10.30: agreed (consent text version 2026-12)\n"
        "• 01-12-2026 10.30: consent withdrawn\n"
        "\n"
        "Your cases:\n"
        "• Case K7F3Q2: violence at home; very urgent; waiting for a counsellor;"
        " opened 01-12-2026 10.30\n"
        "\n"
        "Your appointments:\n"
        "• B4K9TT: Tuesday 1 December, 10:30 WIT; By phone; booked"
        " (what you gave us for it: +62 812 0000 1111)\n"
        "\n"
        "Your answers and choices in the chat:\n"
        "• What you chose in the menu: *About our service*\n"
        "• What you chose when the bot did not understand: *Talk to a person*\n"
        "• What would you most like to talk about? Choose the closest one."
        " *Domestic violence*\n"
        "• Since when has this been happening? *A few months*\n"
        "• 1/20. Do you often have headaches? *Yes*\n"
        "• 2/20. Is your appetite poor? *No*\n"
        '• Mental health questionnaire (SRQ-20) result: *7* "yes" answers out of 20\n'
        "• Signs of violence in your answers: *0*\n"
        "\n"
        "Your messages (5):\n"
        "• 01-12-2026 10.30: (started the chat)\n"
        "• 01-12-2026 10.30: my husband shouts\n"
        "• 01-12-2026 10.30: (chose: I agree)\n"
        "• 01-12-2026 10.30: (a photo, whose content we do not keep)\n"
        "• 01-12-2026 10.30: (the words were not kept)\n"
        "\n"
        "That is all the data we keep about you. Type *delete* if you want it deleted,"
        " or *menu* to go back to the menu."
    )


def test_a_questionnaire_never_answered_is_no_score_and_bookkeeping_is_never_shown() -> None:
    untouched = (("srq", 0), ("violence", 0), ("withdrawn", "yes"), ("start_param", ""))
    assert words("id").answers(untouched) == []


INTERNAL = re.compile(r"\b[a-z]+_[a-z_0-9]+\b|:(label|shown|maybe)\b")


@pytest.mark.parametrize("language", ["id", "en"])
def test_nothing_internal_is_shown_for_any_answer_the_flows_can_hold(language: str) -> None:
    """Every question of the bundled flows, answered with each of its choices, and every
    case category, urgency and status a flow can open: all said in words (the codes are
    Indonesian: in English a word may be spelt like one, "cancelled")."""
    said: list[str] = []
    for flow_id in LIBRARY.flow_ids:
        for node in LIBRARY.flow(flow_id).nodes:
            ask = node.ask
            if ask is None:
                continue
            values = [c.value for c in ask.choices] or (
                ["yes", "no"] if ask.type == "yesno" else []
            )
            for value in values:
                said += words(language).answers(((ask.var, value),))
    categories = (
        "perkawinan",
        "kdrt",
        "anak",
        "kekerasan_seksual",
        "ekonomi",
        "kesehatan_jiwa",
        "napza",
        "lansia",
        "disabilitas",
        "bansos",
        "lainnya",
        "krisis",
    )
    for category in categories:
        for urgency in URGENCIES:
            for status in ("open", "taken", "closed"):
                case = SubjectCase("K7F3Q2", category, urgency, status, AT, False)
                told = words(language).case(case)
                assert language == "en" or not {category, urgency, status} & set(told)
                said.append(" ".join(told))
    for mode in MODES:
        for state in ("held", "confirmed", "cancelled", "attended", "no_show"):
            b = SubjectBooking("B4K9TT", mode, AT, AT + timedelta(hours=1), state)
            told = words(language).booking(b)
            assert language == "en" or not {mode, state} & set(told)
            said.append(" ".join(told))
    assert said
    leaks = sorted({m.group(0) for text in said for m in INTERNAL.finditer(text)})
    assert leaks == []


def test_a_flagged_case_marks_the_data_as_withheld() -> None:
    flagged = (SubjectCase("K7F3Q2", "kdrt", "darurat", "open", AT, True),)
    assert subject(cases=flagged).withheld and not subject().withheld


WITHDRAWN = SessionState("id", (), (("consent", "no"), ("withdrawn", "yes")))
RUNNING = SessionState("id", (), (("consent", "yes"),))


@pytest.mark.parametrize(
    ("state", "kind", "text", "level", "first_reply"),
    [
        (WITHDRAWN, "text", "halo", Level.NONE, "Anda sudah menghentikan layanan ini"),
        (WITHDRAWN, "choice", "info", Level.NONE, "Anda sudah menghentikan layanan ini"),
        (WITHDRAWN, "text", "mulai", Level.NONE, "Baik, mari kita mulai lagi."),
        (WITHDRAWN, "text", "dataku", Level.NONE, None),
        (WITHDRAWN, "text", "tolong suami mau bunuh saya", Level.URGENT, "Terima kasih sudah"),
        (WITHDRAWN, "start", "", Level.NONE, "Halo, selamat datang di layanan chat"),
        (RUNNING, "text", "halo", Level.NONE, "Halo, selamat datang kembali"),
    ],
    ids=[
        "a message",
        "an old button",
        "mulai",
        "dataku",
        "a crisis",
        "a start",
        "not withdrawn",
    ],
)
def test_a_withdrawn_contact_gets_only_the_note_unless_a_command_or_a_crisis(
    state: SessionState, kind: str, text: str, level: Level, first_reply: str | None
) -> None:
    config = Config()
    plan = plan_turn(
        library=load_library(bundled_library_dir()),
        state=state,
        kind=kind,
        text=text,
        assessment=Assessment(level, ("test",) if level is not Level.NONE else ()),
        ctx=Context(AT, ChannelCaps(), config.context_values("id")),
        texts=BotTexts.load(),
        max_chars=2000,
    )
    if first_reply is None:
        assert plan.export and not plan.replies
    else:
        assert plan.replies[0].text.startswith(first_reply)
    # Without consent, words are not kept, unless they tell of a danger.
    assert plan.forget_text is (state.var("consent") == "no" and level is Level.NONE)
