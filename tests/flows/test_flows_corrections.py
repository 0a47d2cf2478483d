"""A typed answer that corrects itself means what follows the correction; a word the
choice knows too is no evidence for an FAQ topic in a statement (issue 17).

"3 minggu, eh salah, maksud saya 3 bulan" names two choices; read whole, the one said
first would be recorded though the family took it back. What follows the correction
is the answer, when the words before it and the words after it each read as a choice
of their own. Anything else ("maksudnya apa?", "eh kak, saya mau cerita") is read
whole as before.

The sentences are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

import pytest
from reading_support import taken

from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.understanding.corrections import corrected


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("triage.since", "3 minggu, eh salah, maksud saya 3 bulan", "months"),
        ("triage.since", "beberapa hari.. ralat, beberapa minggu", "weeks"),
        ("feedback.rating", "2, ehh maksudnya 3", "3"),
        ("feedback.rating", "five, sorry I mean four", "4"),
        ("triage.lansia_or_disabilitas", "yang kedua, eh yang pertama", "lansia"),
    ],
)
def test_what_follows_a_correction_is_the_answer(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


@pytest.mark.parametrize(
    "text",
    ["maksudnya apa?", "eh kak, saya mau cerita", "salah kirim kak", "eh, 3"],
)
def test_a_correction_needs_words_on_both_sides(text: str) -> None:
    assert corrected(text) is None


def test_a_correction_that_names_no_second_choice_reads_the_whole_message(
    bundled: FlowLibrary,
) -> None:
    # the words after "maksudnya" name no choice: the message is read whole
    assert taken(bundled, "triage.since", "sudah 2 tahun, maksudnya sejak anak lahir") == "years"


# -- a word the choice knows too ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a statement: `keep` is the choice's word, though the topic knows it too
        ("keep ya, sudah aman kok", "keep"),
        ("keep, aman", "keep"),
        # a question about the data is still the topic's
        ("data saya aman gak?", "faq:confidential"),
        ("kalian keep data saya dengan aman?", "faq:confidential"),
    ],
)
def test_a_word_the_choice_knows_too_is_no_evidence_for_a_topic_in_a_statement(
    bundled: FlowLibrary, text: str, expected: str
) -> None:
    assert taken(bundled, "booking.show", text) == expected
