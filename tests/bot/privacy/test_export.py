"""What "my data" looks like, and what a withdrawn contact's message leads to: pure tables."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config
from bot.core.texts import BotTexts
from bot.flowhost.turn import plan_turn
from bot.privacy.export import render_export, split_messages
from bot.safety import Assessment, Level
from flows.exchange import ChannelCaps, Context
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState
from storage.privacy.repo import SubjectCase, SubjectConsent, SubjectData, SubjectMessage

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


def test_the_export_reads_as_plain_sentences_in_the_office_time() -> None:
    config = Config()
    text = "\n".join(
        render_export(
            subject(),
            (("consent", "yes"), ("start_param", ""), ("topic", "kdrt")),
            texts=BotTexts.load(),
            language="en",
            tz=ZoneInfo("Asia/Jayapura"),
            now=AT,
            values=config.context_values("en"),
        )
    )
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
        "• K7F3Q2: kdrt, urgency darurat, status open, opened 01-12-2026 10.30\n"
        "\n"
        "Your answers and choices in the chat:\n"
        "• consent: yes\n"
        "• topic: kdrt\n"
        "\n"
        "Your messages (5):\n"
        "• 01-12-2026 10.30: (started the chat)\n"
        "• 01-12-2026 10.30: my husband shouts\n"
        "• 01-12-2026 10.30: (chose: agree)\n"
        "• 01-12-2026 10.30: (a photo, whose content we do not keep)\n"
        "• 01-12-2026 10.30: (the words were not kept)\n"
        "\n"
        "That is all the data we keep about you. Type *delete* if you want it deleted,"
        " or *menu* to go back to the menu."
    )


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
