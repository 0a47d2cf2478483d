"""Which reading a question takes: the choice a message answers, or the FAQ topic it asks.

The choice matcher reads first. An FAQ topic that explains the message strongly is
taken over a choice that took only words the topic explains too, when the topic
explains more besides: words the choice does not know ("bayar tidak?" is about the
cost, not a refusal), or the rest of a whole example where the choice's phrase was
said only in part ("makasih" is thanks, not "terima kasih, sudah"). A choice named
exactly, a choice with a word of its own, and a question the choices offer
themselves (the info menu's "Alamat & jam layanan") stay choices.
"""

from __future__ import annotations

import pytest

from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.model import Choice
from flows.understanding.evaluation import question_choices
from flows.understanding.layers import offered_topics, read_message


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def taken(library: FlowLibrary, question: str, text: str) -> str:
    """`faq:TOPIC`, the choice's value, `?` for a close call, or `-`."""
    choices, yes_no = question_choices(library, question)
    found = read_message(text, choices, library.faq, library.globals.words, yes_no=yes_no)
    if found.faq.topic is not None:
        assert found.reading.kind == "none"  # never both
        return "faq:" + found.faq.topic.id
    if found.reading.kind == "close":
        return "?"
    return found.reading.choice.value if found.reading.choice else "-"


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # A question to the service is answered; it never records a refusal...
        ("welcome.consent_ask", "bayar tidak?", "faq:cost"),
        ("welcome.consent_ask", "polisi bisa baca chat ini gak?", "faq:confidential"),
        ("welcome.consent_ask", "polisi bisa baca chat ini gak? I'm scared", "faq:confidential"),
        # ...never ends the chat...
        ("welcome.limited_menu", "makasih kak", "faq:thanks"),
        ("welcome.limited_menu", "makasih", "faq:thanks"),
        # ...never opens the language question instead of switching...
        ("welcome.main_menu", "bahasa indonesia", "faq:indonesian"),
        ("welcome.limited_menu", "bahasa indonesia", "faq:indonesian"),
        ("welcome.main_menu", "mau ganti bahasa ke inggris", "faq:english"),
        # ...and is answered at the main menu rather than opening the info menu.
        ("welcome.main_menu", "jam buka kantor", "faq:hours"),
        ("welcome.main_menu", "berapa biayanya", "faq:cost"),
        ("welcome.main_menu", "alamat kantor di mana?", "faq:address"),
        ("welcome.main_menu", "polisi bisa baca chat ini gak?", "faq:confidential"),
        ("privacy.menu", "what's the office phone number?", "faq:person_now"),
        # A choice that shares one word ("lk3") with a long question the topic explains.
        (
            "info.topics",
            "sy ni guru SD, kalo mo kirim murid pung keluarga ka LK3 bagaimana?",
            "faq:refer",
        ),
    ],
)
def test_a_question_the_faq_explains_better_than_a_choice_is_answered(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # Named exactly: a label, a synonym, a number.
        ("welcome.consent_ask", "tidak", "decline"),
        ("welcome.consent_ask", "tidak setuju", "decline"),
        ("welcome.limited_menu", "selesai", "done"),
        ("welcome.language", "bahasa indonesia", "id"),
        ("welcome.language", "english please", "en"),
        # A word of the choice's own beside the question: the answer is clear.
        ("welcome.consent_ask", "iya setuju, tapi ini bayar gak?", "agree"),
        ("welcome.limited_menu", "Sudah cukup, terima kasih", "done"),
        ("booking.show", "ttp aj mksh", "keep"),
        # The choice's own phrase said whole, as much as the topic's.
        ("welcome.stuck", "can I talk to a human", "person"),
        # The question offers what is asked: the info menu's own choices.
        ("info.topics", "jam buka kantor?", "place"),
        ("info.topics", "alamat kantor LK3 di mana e?", "place"),
        ("info.topics", "when are you open on saturdays?", "place"),
        ("info.topics", "LK3 tu apa?", "about"),
    ],
)
def test_a_real_answer_stays_a_choice(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


def test_a_message_no_choice_takes_is_read_as_a_question_as_before(bundled: FlowLibrary) -> None:
    assert taken(bundled, "triage.category", "ini robot ya?") == "faq:robot"
    assert taken(bundled, "triage.category", "asdfgh") == "-"


def test_no_choice_of_the_menus_is_itself_a_question_the_faq_answers(
    bundled: FlowLibrary,
) -> None:
    """The menus' examples hold no FAQ question (those are answered where they are
    asked); only the info menu offers the topics it is about."""

    def offered(question: str) -> dict[str, frozenset[str]]:
        choices: tuple[Choice, ...] = question_choices(bundled, question)[0]
        found = offered_topics(choices, bundled.faq, bundled.globals.words)
        return {c.value: o for c, o in zip(choices, found, strict=True) if o}

    for menu in ("welcome.main_menu", "welcome.limited_menu", "welcome.consent_ask"):
        assert offered(menu) == {}
    assert offered("info.topics")["place"] == {"address", "hours"}
