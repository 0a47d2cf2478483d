"""Remarks that name a choice's word are not answers: a pause and its reason, a lack
said with `tidak ada`, and a root the stemmer would confuse with another."""

from __future__ import annotations

import pytest

from flows.model import Choice, Text, Words
from flows.understanding import understand
from flows.understanding.remarks import Said, pause_words, paused_remark
from flows.understanding.stems import key


def choice(
    value: str, label_id: str, label_en: str, synonyms: tuple[str, ...] = (), **examples: list[str]
) -> Choice:
    phrases = tuple((lang, tuple(found)) for lang, found in examples.items())
    return Choice(value, Text((("id", label_id), ("en", label_en))), synonyms, None, phrases)


@pytest.fixture(scope="module")
def words() -> Words:
    from flows.loader import bundled_library_dir, load_library

    return load_library(bundled_library_dir()).globals.words


MODES = (
    choice("kantor", "Datang ke kantor", "Come to the office", ("kantor",)),
    choice("telepon", "Telepon", "Phone call", ("telepon", "telpon", "phone"),
           id=["ditelepon saja"]),
    choice("chat", "Chat di sini", "Chat here", ("chat",)),
)  # fmt: skip
MENU = (
    choice("talk", "Ceritakan masalah", "Talk about a problem", ("cerita",),
           id=["masalah dengan anak"]),
    choice("info", "Informasi layanan", "About our service", ("info",), id=["info dulu"]),
)  # fmt: skip
CRISIS = (
    choice("wait", "Tunggu konselor di sini", "Wait here for a counsellor",
           ("tunggu", "menunggu", "wait"), id=["saya tunggu"]),
    choice("numbers", "Nomor darurat", "Emergency numbers", ("nomor", "hotline")),
)  # fmt: skip
CONFIRM = (
    choice("yes", "Ya, buat janji", "Yes, book it", ("ya", "yes", "iya")),
    choice("cancel", "Tidak jadi", "Never mind", ("tidak", "batal", "no", "cancel"),
           id=["tidak jadi", "batal saja"]),
)  # fmt: skip
CATEGORY = (
    choice("ekonomi", "Kesulitan ekonomi", "Money troubles", ("uang", "utang"),
           id=["tidak punya uang", "beta seng ada doi"]),
    choice("anak", "Masalah anak", "A child", ("anak",)),
)  # fmt: skip
LIMITED = (
    choice("consent", "Saya setuju sekarang", "I agree now", ("setuju", "agree")),
    choice("info", "Informasi layanan", "About our service", ("info",)),
)  # fmt: skip


def picked(text: str, choices: tuple[Choice, ...], words: Words) -> str | None:
    reading = understand(text, choices, words)
    return reading.choice.value if reading.kind == "match" and reading.choice else None


@pytest.mark.parametrize(
    ("text", "choices", "meant"),
    [
        ("bos gue nelpon, bentar", MODES, None),  # the call is the reason for the pause
        ("bentar ya, anak gue nangis", MENU, None),
        ("tunggu dulu", MENU, None),  # a pause alone: `dulu` belongs to it
        ("hold on, my boss is calling", MODES, None),
        ("bentar, telepon aja", MODES, "telepon"),  # the choice explains the rest whole
        ("tunggu, ditelepon saja", MODES, "telepon"),
        ("saya tunggu", CRISIS, "wait"),  # a choice's own word is no pause
        ("tunggu sebentar ya", CRISIS, "wait"),
        ("sabar ya kak, anak saya lagi nangis", MENU, None),  # `sabar`: bear with me
        ("sabar, telepon saja", MODES, "telepon"),
    ],
)
def test_a_pause_and_a_remark_answer_nothing(
    words: Words, text: str, choices: tuple[Choice, ...], meant: str | None
) -> None:
    assert picked(text, choices, words) == meant


def test_the_words_of_a_pause() -> None:
    negated = Said(("tidak", "sabar", "suami"), frozenset(), frozenset(), False)
    assert pause_words(negated) == ()  # "tidak sabar" is impatience, no pause
    said = Said(("tunggu", "dulu", "anak", "sebentar"), frozenset(), frozenset({"anak"}), False)
    assert pause_words(said) == ("tunggu", "dulu", "sebentar")
    assert paused_remark(said)
    known = Said(("tunggu", "dulu"), frozenset({"tunggu"}), frozenset({"tunggu"}), False)
    assert pause_words(known) == ()  # the question's choices know `tunggu`
    assert not paused_remark(known)


@pytest.mark.parametrize(
    ("text", "choices", "meant"),
    [
        # what is lacking is the topic, not a "no" to the question
        ("beta cuma ibu rumah tangga, seng ada uang par bayar konselor", CONFIRM, None),
        ("tidak ada uang", CONFIRM, None),
        ("gak ada", CONFIRM, "cancel"),  # nothing said lacking: a plain "no"
        ("tidak jadi", CONFIRM, "cancel"),
        ("seng ada doi par bli beras", CATEGORY, "ekonomi"),  # a lack its choice names
        ("kami tidak punya uang untuk makan", CATEGORY, "ekonomi"),
    ],
)
def test_a_negation_before_ada_or_punya_is_a_lack_not_a_no(
    words: Words, text: str, choices: tuple[Choice, ...], meant: str | None
) -> None:
    assert picked(text, choices, words) == meant


@pytest.mark.parametrize("word", ["setuju", "persetujuan", "menyetujui", "disetujui"])
def test_setuju_is_a_root_of_its_own(word: str) -> None:
    assert key(word) == "setuju"
    assert key("menuju") != key(word)


def test_travelling_toward_a_place_is_no_consent(words: Words) -> None:
    assert picked("Saya sedang di kapal menuju Banda.", LIMITED, words) is None
    assert picked("ok saya menyetujui", LIMITED, words) == "consent"
