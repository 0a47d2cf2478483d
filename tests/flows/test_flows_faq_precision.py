"""When a typed message is a question of the family's own, and when it is not (issue 17).

Three rules, each with what it must leave alone:

- A statement that implies a question ("saya tidak punya uang untuk bayar konseling")
  is read as the FAQ topic only when the topic scores high and explains at least half
  of its meaningful words; a remark with one word read by typo tolerance stays a remark.
- A topic outweighs the choices whose words are incidental to the message: it explains
  at least half of the message's meaningful words and twice as many as they do. An
  answer that also asks something ("datang ke kantor aja, jam berapa buka?") and a close
  call between two choices (their words counted together) stay answers.
- A whole FAQ example outweighs a choice none of whose phrases was said whole.

The sentences here are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

import pytest

from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.understanding.evaluation import question_choices
from flows.understanding.faq import read_faq
from flows.understanding.layers import read_message


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def topic(library: FlowLibrary, text: str) -> str:
    found = read_faq(text, library.faq, library.globals.words).topic
    return found.id if found is not None else "-"


def taken(library: FlowLibrary, question: str, text: str) -> str:
    """`faq:TOPIC`, the choice's value, `?` for a close call, or `-`."""
    choices, yes_no = question_choices(library, question)
    found = read_message(text, choices, library.faq, library.globals.words, yes_no=yes_no)
    if found.faq.topic is not None:
        return "faq:" + found.faq.topic.id
    if found.reading.kind == "close":
        return "?"
    return found.reading.choice.value if found.reading.choice else "-"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("saya tidak punya uang untuk bayar konseling", "cost"),
        ("trmksh bnyk kak", "thanks"),
        ("hello kak, good evening", "greeting"),
        ("konselornya cwe ato cwo", "counsellors"),
        ("yg bls ini org bnrn ato bot", "robot"),
        ("datanya aman gak?", "confidential"),  # the same word, asked
    ],
)
def test_a_statement_the_topic_explains_is_read_as_its_question(
    bundled: FlowLibrary, text: str, expected: str
) -> None:
    assert topic(bundled, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "tadi hujan deras di halong",  # one word near a topic's word by a typo
        "I already paid the rent last month",  # one word of the topic among many
        "ok",
        "okeee",
        # one word the topic knows, said as a statement: a remark, not a question
        "semua sudah aman kak",
        "udah aman kok",
        "nanti sy bayar sendiri",
    ],
)
def test_a_remark_that_shares_a_word_with_a_topic_is_no_question(
    bundled: FlowLibrary, text: str
) -> None:
    assert topic(bundled, text) == "-"


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # The choice's word names who or where; the message asks about the service.
        ("triage.who", "oma seng punya doi, musti bayar konsultasi ka?", "faq:cost"),
        (
            "booking.ask_mode",
            "saya cuma bisa datang jam makan siang, kantor tutup jam istirahat tidak?",
            "faq:hours",
        ),
        ("welcome.help", "saya mau tahu latar belakang pendidikan konselornya", "faq:counsellors"),
        # An answer that also asks something stays the answer.
        ("welcome.main_menu", "mau bikin janji, kantor buka jam berapa?", "book"),
    ],
)
def test_a_topic_outweighs_choices_whose_words_are_incidental(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


def test_a_whole_example_outweighs_a_choice_said_only_in_part(bundled: FlowLibrary) -> None:
    # `mendengarkan` is a word of the parenting choice, but the message is thanks.
    assert taken(bundled, "triage.category", "terima kasih sudah mau mendengarkan") == (
        "faq:thanks"
    )


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("welcome.help", "Tolong hubungkan saya dengan petugas.", "person"),
        ("welcome.stuck", "beta mau bicara deng orang langsung", "person"),
        ("welcome.main_menu", "what?", "?"),  # no topic is a bare question word
    ],
)
def test_a_choice_the_question_offers_is_not_taken_for_a_topic(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


@pytest.mark.parametrize(
    "text",
    ["sy mau tahu layanan apa aja buat keluarga", "kami ingin tahu layanan untuk keluarga kami"],
)
def test_a_topic_read_by_words_that_name_nothing_does_not_outweigh_a_choice(
    bundled: FlowLibrary, text: str
) -> None:
    # `tahu` and `keluarga` name no topic: the message asks about the services the
    # choice offers, not whether the family will know
    assert taken(bundled, "info.topics", text) == "services"
