"""A family that says it is not sure yet has not answered; words that only say how much
name no FAQ topic (issue 17).

"Not sure" negates `sure`, a word of the consent, and read as a negated choice's word
it would record a refusal; "mungkin iya mungkin tidak" names both answers. Someone
unsure is asked again rather than guessed for. What is decided after the doubt is
still the answer, and so is an estimate said before it ("kira-kira tiga minggu"),
but not alternatives set side by side ("ya atau tidak, belum yakin").

The sentences are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

import pytest
from reading_support import taken

from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.understanding.hedges import unsure


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("tidak", "yakin"), True),
        (("i", "am", "tidak", "really", "sure"), True),
        (("mungkin", "iya", "mungkin", "tidak"), True),
        (("masih", "ragu"), True),
        (("sure",), False),
        (("yakin", "setuju"), False),
        (("mungkin", "minggu", "depan"), False),
    ],
)
def test_doubt_is_a_negated_certainty_a_word_of_doubt_or_two_maybes(
    words: tuple[str, ...], expected: bool
) -> None:
    assert unsure(words) is expected


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("welcome.consent_ask", "hmm gak yakin kak", "-"),
        ("welcome.consent_ask", "not sure about this", "-"),
        ("welcome.consent_ask", "mungkin iya, mungkin tidak", "-"),
        ("booking.confirm", "not sure yet", "-"),
        ("booking.confirm", "iya atau tidak ya, masih ragu", "-"),
        # decided after the doubt
        ("welcome.consent_ask", "awalnya ragu, tapi ya sudah saya setuju", "agree"),
        # an estimate, then the doubt
        ("triage.since", "kira-kira dua bulan, tidak yakin", "months"),
        # a question beside the doubt is still read
        ("welcome.consent_ask", "belum yakin, ini bayar tidak?", "faq:cost"),
    ],
)
def test_an_unsure_family_is_asked_again(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- words that only say how much ---------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # a question whose only words of the topic say how much asks nothing of it
        ("booking.confirm", "how many minutes is one session?", "-"),
        ("triage.category", "banyak sekali masalahnya, saya bingung mulai dari mana", "-"),
        # thanks said whole still is thanks
        ("welcome.main_menu", "many thanks", "faq:thanks"),
        ("welcome.main_menu", "terima kasih banyak", "faq:thanks"),
    ],
)
def test_words_that_only_say_how_much_name_no_topic(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # `all` and `this` name nothing: the question is the topic's words
        ("triage.category", "am I telling all this to a machine?", "faq:robot"),
        # light words beside stop words alone ask nothing of a topic
        ("welcome.main_menu", "kalau sudah bikin janji, habis itu gimana?", "-"),
    ],
)
def test_light_words_in_a_question_name_no_topic(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected
