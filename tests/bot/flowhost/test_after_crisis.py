"""The wait after a crisis, planned as a table: what the family's words lead to, and kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import Config
from bot.core.texts import BotTexts
from bot.flowhost.turn import plan_turn
from bot.safety import Assessment, Level
from flows.exchange import ChannelCaps, Context
from flows.loader import bundled_library_dir, load_library
from flows.state import Frame, SessionState

AT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
LIBRARY = load_library(bundled_library_dir())


def waiting(consent: str) -> SessionState:
    """After the safety answer: the crisis flow alone, at its 'what now' question."""
    crisis = LIBRARY.flow("crisis")
    return SessionState(
        "id", (Frame("crisis", crisis.version, "after_safety", True),), (("consent", consent),)
    )


@pytest.mark.parametrize(
    ("consent", "text", "reply", "forget"),
    [
        ("yes", "dia masih di luar rumah", "Terima kasih, pesan Anda sudah tersimpan", False),
        ("no", "dia masih di luar rumah", "Terima kasih, pesan Anda sudah tersimpan", False),
        ("no", "menu", "Apa yang ingin Anda lakukan?", True),
    ],
    ids=["consented: kept", "declined: kept for the counsellor, as the bot says", "menu: left"],
)
def test_words_written_while_waiting_after_a_crisis_are_kept_for_the_counsellor(
    consent: str, text: str, reply: str, forget: bool
) -> None:
    config = Config()
    values = {**config.context_values("id"), "who_is_told": "Konselor sudah diberi tahu."}
    plan = plan_turn(
        library=LIBRARY,
        state=waiting(consent),
        kind="text",
        text=text,
        assessment=Assessment(Level.NONE, ()),
        ctx=Context(AT, ChannelCaps(), values),
        texts=BotTexts.load(),
        max_chars=2000,
    )
    assert any(r.text.startswith(reply) for r in plan.replies)
    assert plan.forget_text is forget
