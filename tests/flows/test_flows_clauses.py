"""The answer comes first, the reason after it (issue 17: choices and FAQ topics).

A family often types an answer or a request and then why: "hapus semua data saya,
takut dilihat orang", "english please, bahasa indonesia saya tidak lancar". Read whole,
such a message names two things (two choices, both languages, a choice and an FAQ
topic) and is read as a close call or the wrong one. Read clause by clause:

- a language switch is read from the clause that asks it; the reason either asks the
  same switch or none ("jangan inggris" asks no switch to English); clauses that ask
  different switches ask none;
- at the language question, the switch asked settles a close call between the two
  languages;
- a language switch asked in a clause of its own is answered, though a choice's word
  stands in another clause;
- a question asked in a clause of its own is read there, when the whole message is
  read as none or by a score alone ("lk3 itu apa? saya dapat nomor dari ibu pendeta"
  is no greeting), and so is a greeting or thanks a statement opens with;
- a choice said alone in a clause keeps its choice against an FAQ topic read from
  another clause ("batal saja, suami sudah tahu");
- of two close choices, the one a statement says first, in a clause of its own, is
  the answer; not in a question, nor where the message leaves the answer open
  ("mungkin") or adds another ("tapi juga");
- a position said in a first clause picks by position, when the rest names no other
  choice; an ordinal typed without vowels is still one (`prtama`).

The sentences are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from flows.exchange import Option
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.model import Value
from flows.understanding.evaluation import question_choices
from flows.understanding.layers import read_message
from flows.understanding.numbers import position
from flows.understanding.reading import typed_clauses
from flows.understanding.text import words


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


MODES = (
    Option("kantor", "Datang ke kantor LK3"),
    Option("telepon", "Telepon"),
    Option("kunjungan", "Kunjungan ke rumah"),
)


def modes(source: str, variables: Mapping[str, Value], language: str) -> tuple[Option, ...]:
    """The booking modes, as the bot offers them."""
    return MODES if source == "booking_modes" else ()


def taken(library: FlowLibrary, question: str, text: str) -> str:
    """The choice's value, `faq:TOPIC`, `?` for a close call, or `-` for nothing."""
    choices, yes_no = question_choices(library, question, modes)
    found = read_message(text, choices, library.faq, library.globals.words, yes_no=yes_no)
    if found.faq.topic is not None:
        return "faq:" + found.faq.topic.id
    if found.reading.kind == "close":
        return "?"
    return found.reading.choice.value if found.reading.choice else "-"


def test_a_message_splits_into_the_clauses_as_typed() -> None:
    assert typed_clauses("bisa bahasa indonesia? my english, not good") == (
        "bisa bahasa indonesia?",
        " my english,",
        " not good",
    )
    assert typed_clauses("...ok!") == ("ok!",)


# -- language switches --------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # the request, then a reason that names the other language
        (
            "triage.category",
            "tolong pakai bahasa indonesia, bahasa inggris saya kurang",
            "faq:indonesian",
        ),
        ("info.topics", "english please, bahasa indonesia saya tidak lancar", "faq:english"),
        (
            "triage.category",
            "can you write in english? bahasa indonesia saya kurang bagus",
            "faq:english",
        ),
        # a clause that denies a language asks no switch to it
        ("triage.category", "bahasa inggris saja, jangan bahasa indonesia", "faq:english"),
        # clauses that ask different switches ask none
        ("triage.category", "kok jadi bahasa inggris, ganti ke bahasa indonesia", "-"),
    ],
)
def test_a_language_switch_is_read_from_the_clause_that_asks_it(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bahasa indonesia saja, saya tidak paham bahasa inggris", "id"),
        ("english please, my indonesian is poor", "en"),
        ("bahasa biasa saja, jangan inggris", "id"),
    ],
)
def test_at_the_language_question_the_switch_asked_settles_both_languages_named(
    bundled: FlowLibrary, text: str, expected: str
) -> None:
    assert taken(bundled, "welcome.language", text) == expected


def test_a_switch_asked_in_its_own_clause_is_answered_beside_a_choices_word(
    bundled: FlowLibrary,
) -> None:
    # `suami` is a choice of the question, said in the reason for the switch
    text = "bisa pakai bahasa inggris? suami saya juga mau ikut baca"
    assert taken(bundled, "triage.who", text) == "faq:english"
    # one clause: the language choice of the menu stays that choice
    assert taken(bundled, "welcome.main_menu", "mau ganti bahasa") == "language"


# -- a question asked in a clause of its own ------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("welcome.help", "lk3 itu apa? saya dapat nomor dari ibu pendeta", "faq:about"),
        ("triage.since", "kantornya di mana? saya baru pindah dari Tual", "faq:address"),
        # the same topic read whole keeps the whole message's words against the choice
        (
            "welcome.main_menu",
            "kalau mau cerita di sini harus bayar? saya tidak punya uang",
            "faq:cost",
        ),
        # a statement that opens with a greeting it says whole is greeted
        ("welcome.main_menu", "selamat sore kak, saya Mama Ina dari Passo", "faq:greeting"),
        # ... and the answer after it is still the answer
        ("triage.who", "pagi kak, saya sendiri", "self"),
        ("triage.category", "halo kak, suami saya mabuk terus", "napza"),
        # a language named in an opening clause is no switch of its own
        ("triage.category", "kok jadi inggris, balik ke indo", "-"),
    ],
)
def test_a_question_asked_in_a_clause_of_its_own_is_read_there(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- a choice said alone in a clause --------------------------------------------------


def test_a_choice_said_alone_keeps_its_choice_against_a_topic_in_another_clause(
    bundled: FlowLibrary,
) -> None:
    assert taken(bundled, "booking.show", "batal saja, suami sudah tahu") == "cancel"
    # said alone, the worry is the question it is
    assert taken(bundled, "booking.show", "suami sudah tahu") == "faq:confidential"


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("privacy.menu", "hapus semua data saya, takut dilihat orang", "delete"),
        ("welcome.main_menu", "tolong saya sekarang, suami mabuk pukul pintu", "urgent"),
        # a question is not settled so
        ("welcome.main_menu", "tolong saya sekarang, suami mabuk pukul pintu?", "?"),
        # an answer left open, or another added, is no answer and its reason
        ("triage.since", "beberapa minggu, mungkin berbulan-bulan", "?"),
        ("privacy.menu", "hapus semua data saya tapi juga mau lihat dulu, takut", "?"),
    ],
)
def test_of_two_close_choices_the_one_said_first_in_a_clause_of_its_own_is_the_answer(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- positions ------------------------------------------------------------------------


def test_an_ordinal_typed_without_vowels_is_a_position() -> None:
    assert position(["yg", "prtama"]) == 1
    assert position(["ktiga"]) == 3
    assert position(["kaleng"]) is None  # a word with the consonants of none


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("welcome.language", "yg prtama", "id"),
        ("triage.lansia_or_disabilitas", "yang kedua, untuk adik saya", "disabilitas"),
        # another position later, or another choice named, and it is no pick by position
        ("triage.lansia_or_disabilitas", "yang kedua, atau yang pertama", "-"),
        (
            "triage.lansia_or_disabilitas",
            "yang pertama, tapi dia juga tidak bisa jalan",
            "disabilitas",
        ),
    ],
)
def test_a_position_said_in_a_first_clause_picks_by_position(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- the word table -------------------------------------------------------------------


def test_chat_forms_of_the_word_table(bundled: FlowLibrary) -> None:
    assert taken(bundled, "triage.who", "adek gue") == "family"
    assert taken(bundled, "booking.confirm", "gas") == "yes"
    assert taken(bundled, "welcome.stuck", "tolong lakas") == "urgent"


# -- a negation after the one it is about -----------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # "saya tidak tahu ...": what someone does not do, no "no" to pick "Kembali"
        ("privacy.menu", "anak saya yang isi tadi, saya tidak tahu dia tulis apa", "-"),
        ("privacy.menu", "tidak jadi", "back"),
        ("welcome.consent_ask", "saya tidak setuju", "decline"),
        ("welcome.consent_ask", "saya tidak", "decline"),
        ("booking.confirm", "tidak jadi dulu", "cancel"),
        # a negation that turns a word around is no choice's "tidak" of its own
        ("booking.ask_mode", "kalau lewat telepon, suami saya tidak tahu kan?", "faq:confidential"),
        ("booking.ask_mode", "telepon saja, jangan kunjungan", "telepon"),
    ],
)
def test_a_negation_after_who_it_is_about_says_what_they_do_not_do(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- the longer phrase said whole ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Not helpful" (1) and "Not very helpful" (2) are both said whole: the longer
        ("not very helpful, sorry", "2"),
        ("not helpful", "1"),
        # a rating said beside thanks is the rating ("much" names nothing)
        ("very helpful, thanks so much", "5"),
    ],
)
def test_of_two_phrases_said_whole_the_one_that_holds_the_other_is_meant(
    bundled: FlowLibrary, text: str, expected: str
) -> None:
    assert taken(bundled, "feedback.rating", text) == expected


# -- a doubled word of its own ----------------------------------------------------------


def test_laki_laki_is_male_never_a_husband(bundled: FlowLibrary) -> None:
    assert words("anak2, laki-laki, laki2, laki") == ["anak", "lakilaki", "lakilaki", "laki"]
    assert taken(bundled, "triage.who", "adik saya yang laki-laki") == "family"
    assert taken(bundled, "triage.who", "beta pung laki") == "partner"


# -- thanks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # "makasih kak" and "makasih banyak" said at once: the thanks explains `banyak`
        ("triage.category", "makasih banyak kak", "faq:thanks"),
        ("feedback.rating", "makasih banyak atas bantuannya, kak", "faq:thanks"),
        # a rating said with thanks is the rating
        ("feedback.rating", "sangat membantu, makasih banyak", "5"),
        # `banyak` and `kak` are no thanks of their own
        ("triage.category", "banyak masalah kak, saya bingung", "-"),
        ("triage.category", "makase kak", "faq:thanks"),
    ],
)
def test_thanks_is_read_by_its_own_words(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


# -- putting off -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        # "nanti": what the message speaks of is put off, nothing is answered yet
        ("welcome.consent_ask", "saya masih di pasar, nanti saja bacanya", "-"),
        ("triage.category", "saya masih kerja, nanti saya lanjut cerita", "-"),
        # unless a negation says what will not happen later
        ("welcome.consent_ask", "iya setuju, tapi nanti jangan disebar", "agree"),
        # or a choice knows the word, or explains all the rest
        ("booking.ask_mode", "nanti saja", "later"),
        ("welcome.main_menu", "nanti mau bikin janji", "book"),
    ],
)
def test_a_message_that_puts_things_off_answers_nothing_yet(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected
