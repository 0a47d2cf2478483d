"""What a remark is, as opposed to an answer (issue 17: wrong picks).

A typed message answers a question when it is about one of the choices: the words that
carry the choice are what the message is about, not an aside to something else. The
model (flows/understanding/aboutness.py) gives each meaningful word a role for the
picked choice and weighs what nothing of the question explains by where it stands:

- a remark that names a thing the question is not about, before the choice's word, is
  left alone ("password email saya ganti kemarin" is no change of appointment);
- a real answer in a long sentence is still taken: words that qualify the choice's
  word, a reason in another clause, family members, ages and fillers do not count
  against it;
- a choice's words said in a supposition ("kalau petugas datang ke rumah, ...") pick
  nothing ("kalau bisa telepon saja" is a polite request, and picks);
- a question of the family's own is about what it names beside the choice's words;
- which choice leads is decided by the word scores; aboutness decides only whether the
  leader answers at all.

The sentences are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from flows.exchange import Option
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.model import Value
from flows.understanding.aboutness import FULL, Role, Word, aboutness, factor
from flows.understanding.evaluation import question_choices
from flows.understanding.layers import read_message
from flows.understanding.matcher import TAKE

MODES = (
    Option("kantor", "Datang ke kantor LK3"),
    Option("telepon", "Telepon"),
    Option("kunjungan", "Kunjungan ke rumah"),
)


def modes(source: str, variables: Mapping[str, Value], language: str) -> tuple[Option, ...]:
    return MODES if source == "booking_modes" else ()


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def taken(library: FlowLibrary, question: str, text: str) -> str:
    """The choice's value, `faq:TOPIC`, `?` for a close call, or `-` for nothing."""
    choices, yes_no = question_choices(library, question, modes)
    found = read_message(text, choices, library.faq, library.globals.words, yes_no=yes_no)
    if found.faq.topic is not None:
        return "faq:" + found.faq.topic.id
    if found.reading.kind == "close":
        return "?"
    return found.reading.choice.value if found.reading.choice else "-"


def said(*clauses: str) -> list[list[Word]]:
    """Clauses of `word:role` (c chosen, s supposed, q question, l light, f foreign)."""
    roles: dict[str, Role] = {
        "c": "chosen",
        "s": "supposed",
        "q": "question",
        "l": "light",
        "f": "foreign",
    }
    return [
        [Word(w.split(":")[0], roles[w.split(":")[1]]) for w in clause.split()]
        for clause in clauses
    ]


# -- the model ------------------------------------------------------------------------


def test_a_message_of_the_choices_words_only_is_wholly_about_it() -> None:
    assert aboutness(said("ganti:c jadwal:c")) == 1.0
    assert aboutness(said("anak:c kecil:l")) == 1.0


def test_a_topic_of_its_own_before_the_choices_word_makes_a_remark() -> None:
    remark = aboutness(said("nomor:f rekening:f berubah:c"))
    assert remark < FULL
    assert factor(remark) < TAKE  # a whole-phrase score of 1 falls below the take


def test_words_after_the_choices_word_qualify_it_and_weigh_less() -> None:
    before = aboutness(said("sebelah:f rumah:f tetangga:c"))
    after = aboutness(said("tetangga:c sebelah:f rumah:f"))
    assert after > before
    assert factor(after) == 1.0


def test_one_word_before_the_choices_word_most_often_governs_it() -> None:
    # "mau tukar waktu": the verb, not a topic of its own
    assert factor(aboutness(said("tukar:f waktu:c"))) == 1.0


def test_a_question_is_about_what_it_names_beside_the_choice() -> None:
    statement = aboutness(said("rumah:c bayar:f"))
    question = aboutness(said("rumah:c bayar:f"), asks=True)
    assert question < statement


def test_a_choice_only_supposed_is_not_chosen() -> None:
    assert aboutness(said("konselor:s rumah:s", "bayar:f")) == 0.0


def test_a_clause_that_answers_on_its_own_makes_the_message_an_answer() -> None:
    assert aboutness(said("janji:c", "kantor:c buka:f jam:f"), asks=True) == 1.0


# -- the bundled library --------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("booking.show", "password email saya ganti kemarin"),
        ("triage.since", "uang sekolah anak harus dibayar minggu depan"),
        ("triage.since", "listrik di kampung mati sejak kemarin"),
    ],
)
def test_a_remark_naming_a_thing_the_question_is_not_about_is_left_alone(
    bundled: FlowLibrary, question: str, text: str
) -> None:
    assert taken(bundled, question, text) == "-"


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (
            "booking.show",
            "saya mau ganti jadwalnya ke hari lain karena ada acara keluarga",
            "change",
        ),
        ("triage.who", "anak saya yang paling kecil, umurnya baru lima tahun", "child"),
        ("triage.since", "sudah hampir tiga bulan, sejak dia kehilangan pekerjaan", "months"),
        ("booking.ask_mode", "telepon saja, saya tidak bisa keluar rumah", "telepon"),
    ],
)
def test_a_real_answer_in_a_long_sentence_is_still_taken(
    bundled: FlowLibrary, question: str, text: str, expected: str
) -> None:
    assert taken(bundled, question, text) == expected


def test_a_choice_said_in_a_supposition_is_not_picked(bundled: FlowLibrary) -> None:
    text = "kalau petugas datang ke rumah, tetangga bisa tahu tidak?"
    assert taken(bundled, "booking.ask_mode", text) != "kunjungan"


def test_a_polite_if_still_picks(bundled: FlowLibrary) -> None:
    assert taken(bundled, "booking.ask_mode", "kalau bisa telepon saja") == "telepon"


def test_a_question_a_choice_offers_is_that_choice(bundled: FlowLibrary) -> None:
    # "Alamat & jam layanan" asks about the hours itself: the family gets that page
    assert taken(bundled, "info.topics", "kantor buka hari sabtu tidak?") == "place"
    # a language switch a choice's phrase reads as is that choice
    assert taken(bundled, "welcome.language", "pakai bahasa inggris saja ya") == "en"
