"""The choice matcher, as tables: what a typed answer means at a question with choices."""

from __future__ import annotations

import pytest

from flows.model import Choice, Text, Words
from flows.understanding import read_answer, understand
from flows.understanding.numbers import LAST, position
from flows.understanding.reading import lexicon
from flows.understanding.stems import fragments, inner, key
from flows.understanding.text import words
from flows.understanding.typos import AbbreviationIndex, abbreviates, one_edit

WORDS = Words(
    replace=(("beta", "saya"), ("pung", "punya"), ("laki", "suami"), ("mo", "mau"),
             ("bikin", "buat"), ("gk", "tidak"), ("udh", "sudah"), ("crita", "cerita")),
    stop=("saya", "mau", "yang", "punya", "soal", "di", "ke", "tidak", "sudah", "i", "want", "to",
          "ini", "ada"),
)  # fmt: skip


def choice(
    value: str, label_id: str, label_en: str, synonyms: tuple[str, ...] = (), **examples: list[str]
) -> Choice:
    phrases = tuple((lang, tuple(found)) for lang, found in examples.items())
    return Choice(value, Text((("id", label_id), ("en", label_en))), synonyms, None, phrases)


MENU = (
    choice("info", "Informasi layanan", "About our service", ("info",), id=["jam buka kantor"]),
    choice("talk", "Ceritakan masalah Anda", "Talk about a problem", ("curhat",),
           id=["cerita soal suami"], en=["tell you about my husband"]),
    choice("book", "Buat janji konsultasi", "Book a consultation", ("konsultasi",),
           id=["datang ke kantor"], en=["see a counsellor"]),
    choice("urgent", "Bantuan darurat sekarang", "Urgent help now", ("darurat",)),
    choice("privacy", "Data dan privasi saya", "My data and privacy", ("privasi",)),
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        # exactly as before: a number, a label in any language, a synonym, the value
        ("2", "talk"),
        ("no 3", "book"),
        ("Informasi Layanan!!", "info"),
        ("My data and privacy", "privacy"),
        ("curhat", "talk"),
        ("urgent", "urgent"),
        # a position in words
        ("yang kedua", "talk"),
        ("dua", "talk"),
        ("ketiga", "book"),
        ("the first one", "info"),
        ("second", "talk"),
        ("nomor lima", "privacy"),
        ("yg ke-3 aja", "book"),
        ("terakhir", "privacy"),
        # words, after local forms, stretched letters, stems and one typo
        ("beta mo crita soal beta pung laki", "talk"),
        ("saya mau konsultasi", "book"),
        ("mau bikin janji", "book"),
        ("datang ke kantor", "book"),
        ("Informasiiii", "info"),
        ("infromasi layanan", "info"),
        ("I want to see a counsellor", "book"),
        ("privasinya gimana", "privacy"),
        ("DARURAT!!!", "urgent"),
        # vowel-less spellings of a phrase's words and of the table's local forms
        ("dtg ke kntor", "book"),
        ("mo bkin jnji", "book"),
        ("bt mo crt soal bt pung laki", "talk"),
        # words typed together: a preposition stuck on, a compound written as one
        ("dtg dikantor", "book"),
        ("jambuka kantor", "info"),
        # a position among the word table's stop words
        ("yang nomor tiga saya mau", "book"),
    ],
)
def test_a_typed_answer_picks_the_choice_it_means(text: str, meant: str) -> None:
    reading = understand(text, MENU, WORDS)
    assert (reading.kind, reading.choice.value if reading.choice else None) == ("match", meant)
    assert 0.0 < reading.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    ["halo", "makasih kak", "ini robot ya?", "", "??", "7", "keenam",
     "kantornya di mana?", "who can see my data?",  # questions of the family's own
     "konsultasi" * 40],  # no word at all: never stemmed, split or expanded
)  # fmt: skip
def test_an_answer_that_fits_no_choice_is_not_understood(text: str) -> None:
    assert understand(text, MENU, WORDS).kind == "none"


RATING = tuple(
    choice(str(n), label, label)
    for n, label in enumerate(["buruk", "kurang", "cukup", "membantu", "sangat membantu"], 1)
)
SINCE = (choice("days", "Beberapa hari", "A few days"), choice("months", "Bulan", "Months"))


@pytest.mark.parametrize(
    ("text", "choices", "meant"),
    [
        ("5, really helpful", RATING, "5"),
        ("cukup membantu, empat deh", RATING, "4"),
        ("dua saja", RATING, "2"),
        ("3 bulan", SINCE, "months"),  # no choice is worth three: read by its words
    ],
)
def test_a_number_named_among_words_is_the_rating(
    text: str, choices: tuple[Choice, ...], meant: str
) -> None:
    reading = understand(text, choices, WORDS)
    assert reading.choice is not None and reading.choice.value == meant


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("mau konsultasi soal privasi", {"book", "privacy"}),
        ("darurat, mau curhat", {"urgent", "talk"}),
    ],
)
def test_two_choices_equally_meant_are_a_close_call(text: str, pair: set[str]) -> None:
    reading = understand(text, MENU, WORDS)
    assert reading.kind == "close"
    assert reading.choice is not None and reading.other is not None
    assert {reading.choice.value, reading.other.value} == pair


@pytest.mark.parametrize(
    ("text", "meant"),
    [("ya", "yes"), ("iyo", "yes"), ("gk", "no"), ("tidak mau", "no"), ("2", "no"), ("hmm", None)],
)
def test_yes_no_questions_are_read_by_their_words_only(text: str, meant: str | None) -> None:
    yes_no = (choice("yes", "Ya", "Yes"), choice("no", "Tidak", "No"))
    reading = read_answer(text, yes_no, WORDS, yes_no=True)
    assert (reading.choice.value if reading.choice else None) == meant


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("TOLONGGGG!!", ["tolong"]),
        ("anak2 saya", ["anak", "saya"]),
        ("anak-anak", ["anak"]),
        ("Alamat-nya?", ["alamat", "nya"]),
        ("Café ‘Oma’", ["cafe", "oma"]),
        ("maaf", ["maaf"]),
    ],
)
def test_text_is_read_as_plain_words(text: str, plain: list[str]) -> None:
    assert words(text) == plain


@pytest.mark.parametrize(
    ("said", "place"),
    [
        ("yang kedua", 2),
        ("dua", 2),
        ("no2", 2),
        ("ke 4", 4),
        ("2nd", 2),
        ("the first one", 1),
        ("pilihan terakhir", LAST),
        ("anak saya yang kedua", None),
        ("dua minggu", None),
        ("satu dua", None),
    ],
)
def test_positions_in_words(said: str, place: int | None) -> None:
    assert position(words(said)) == place


@pytest.mark.parametrize(
    ("typed", "known", "near"),
    [("infromasi", "informasi", True), ("konsultsi", "konsultasi", True),
     ("privasi", "privasi", True), ("janji", "jnaji", True), ("kantor", "kontrak", False)],
)  # fmt: skip
def test_one_typo_is_forgiven(typed: str, known: str, near: bool) -> None:
    assert one_edit(typed, known) is near


@pytest.mark.parametrize(
    ("typed", "known", "meant"),
    [("kntor", "kantor", True), ("jnji", "janji", True), ("mggu", "minggu", True),
     ("skrg", "sekarang", True), ("prstjuan", "persetujuan", True),
     ("stju", "setuju", True),
     ("bisa", "biasa", False),  # two vowels kept and one dropped: a word of its own
     ("kantor", "kantor", False), ("ktnor", "kantor", False), ("jnji", "jinak", False)],
)  # fmt: skip
def test_a_vowel_less_spelling_abbreviates_its_word(typed: str, known: str, meant: bool) -> None:
    assert abbreviates(typed, known) is meant


@pytest.mark.parametrize(
    ("typed", "found"),
    [("ditlpn", ("telepon",)), ("btlkn", ("batal",)), ("ptgs", ("petugas",)),
     ("bln", ("balon", "bulan")),  # the matcher takes neither
     ("ptgss", ("petugas",)),  # a doubled last letter
     ("telepon", ())],
)  # fmt: skip
def test_abbreviations_are_expanded_without_di_or_a_suffix(
    typed: str, found: tuple[str, ...]
) -> None:
    index = AbbreviationIndex(["telepon", "batal", "petugas", "bulan", "balon"])
    assert index.expand(typed) == found


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("dipukul", "pukul"),
        ("dilecehin", "pelecehan"),  # Jakarta -in
        ("pukulin", "pukul"),
        ("services", "service"),
        ("talking", "talk"),
        ("harassed", "harass"),
        ("alamatnya", "alamat"),
        ("chatting", "chat"),  # a letter doubled only to spell -ing
        ("calling", "call"),
    ],
)
def test_words_are_compared_by_their_stems(typed: str, known: str) -> None:
    assert key(typed) == key(known)


@pytest.mark.parametrize(
    ("text", "meant"),
    [("my father is an alcoholic", "drink"), ("he drinks", "drink"), ("hello there", None)],
)
def test_a_longer_word_reads_as_the_known_word_it_begins_with(text: str, meant: str | None) -> None:
    choices = (
        choice("drink", "Miras", "Alcohol", ("alcohol", "drinks")),
        choice("where", "Alamat", "Where we are", ("where",)),
    )
    reading = understand(text, choices, Words(stop=("my", "is", "an", "he", "hello", "there")))
    assert (reading.choice.value if reading.choice else None) == meant


CONSENT = (
    choice("agree", "Setuju", "I agree", ("ya", "ok"), id=["iya saya setuju"], en=["yes i agree"]),
    choice("decline", "Tidak setuju", "I do not agree", ("tidak",), en=["i do not agree"]),
)
NEGATING = Words(
    replace=(("gak", "tidak"), ("seng", "tidak"), ("dont", "tidak"), ("not", "tidak")),
    stop=("saya", "i", "do", "kak", "mau", "yang"),
)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("saya setuju kak", "agree"),
        ("saya gak setuju", "decline"),
        ("beta seng setuju", "decline"),
        ("i don't agree", "decline"),
        ("i do not agree at all", "decline"),
        ("kurang setuju", None),  # never "agree"
        ("belum setuju", None),
    ],
)
def test_a_negation_is_never_read_as_its_opposite(text: str, meant: str | None) -> None:
    reading = understand(text, CONSENT, NEGATING)
    assert (reading.choice.value if reading.choice else None) == meant


WHO = (
    choice("family", "Keluarga", "Family"),
    choice("other", "Orang lain", "Someone else", ("teman",)),
)
LANGUAGE = (
    choice("id", "Bahasa Indonesia", "Indonesian"),
    choice("en", "English", "English", ("inggris",)),
)
MONEY = (choice("money", "Ekonomi", "Money", ("uang",)), choice("other", "Lainnya", "Other"))


@pytest.mark.parametrize(
    ("text", "choices", "meant"),
    [
        ("teman saya, bukan keluarga", WHO, "other"),
        ("i dont read indonesian well", LANGUAGE, None),  # never "Indonesian"
        ("saya seng bisa inggris", LANGUAGE, None),
        ("seng ada uang", MONEY, "money"),  # what is lacking is the topic
    ],
)
def test_a_negation_denies_the_words_after_it(
    text: str, choices: tuple[Choice, ...], meant: str | None
) -> None:
    reading = understand(text, choices, NEGATING)
    assert (reading.choice.value if reading.choice else None) == meant


CLAUSES = Words(
    replace=(("ga", "tidak"), ("seng", "tidak"), ("tp", "tapi")),
    stop=("saya", "mau", "yang", "ya", "ini", "kak"),
)


@pytest.mark.parametrize(
    ("text", "choices", "meant"),
    [
        # A negation ends with its clause: a comma, `tapi`, `apakah`.
        ("iya setuju, asal ga disebar ya", CONSENT, "agree"),
        ("setuju tp jangan disebar", CONSENT, "agree"),
        ("setuju kak. apakah tidak disebar", CONSENT, "agree"),
        ("teman, bukan keluarga", WHO, "other"),
        # Within its clause it still turns the words after it around.
        ("saya seng setuju", CONSENT, "decline"),
        ("tidak, saya tidak setuju", CONSENT, "decline"),
        # A negation opening its clause, or alone, is a "no" of its own.
        ("tidak", CONSENT, "decline"),
        ("ga mau", CONSENT, "decline"),
    ],
)
def test_a_negation_stops_at_the_end_of_its_clause(
    text: str, choices: tuple[Choice, ...], meant: str | None
) -> None:
    reading = understand(text, choices, CLAUSES)
    assert (reading.choice.value if reading.choice else None) == meant


@pytest.mark.parametrize(
    ("text", "denied", "bare"),
    [
        ("bukan keluarga", {"keluarga"}, {"bukan"}),  # it opens its clause
        ("iya setuju, asal tidak disebar", {"disebar"}, set()),
        ("tidak, saya mau cerita", set(), {"tidak"}),  # the comma ends it
        ("setuju tapi tidak sekarang", {"sekarang"}, {"tidak"}),
        ("anak saya tidak mau sekolah", {"sekolah"}, set()),
        ("tidak ada uang", set(), set()),  # what is lacking is the topic, not a "no"
        ("tidak ada", set(), {"tidak"}),  # nothing said lacking: a plain "no"
        ("tidak ada, terima kasih", set(), {"tidak"}),
    ],
)
def test_what_a_negation_turns_around_is_read_clause_by_clause(
    text: str, denied: set[str], bare: set[str]
) -> None:
    found = lexicon(CLAUSES).negations(text)
    assert found.denied == denied
    assert found.bare == bare


@pytest.mark.parametrize(
    ("text", "lacked"),
    [
        ("tidak ada uang", {"uang"}),
        ("saya tidak punya uang untuk bayar", {"uang"}),
        ("tidak ada", set()),
        ("tidak setuju", set()),
    ],
)
def test_a_negation_before_ada_or_punya_says_what_is_lacking(text: str, lacked: set[str]) -> None:
    assert lexicon(CLAUSES).negations(text).lacked == lacked


MODES = (
    choice("kantor", "Datang ke kantor LK3", "At the LK3 office"),
    choice("telepon", "Lewat telepon", "By phone"),
    choice("chat", "Lewat chat di sini", "By chat, here"),
)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("kantor", "kantor"),  # all the words it knows are one choice's
        ("telepon kantor", None),  # two choices' words
        ("kantor pergi", None),  # as many words it does not know as it knows
    ],
)
def test_a_choice_that_alone_knows_the_words_is_taken(text: str, meant: str | None) -> None:
    reading = understand(text, MODES, NEGATING)
    assert (reading.choice.value if reading.choice else None) == meant


def test_a_last_ga_is_a_question_tag_not_a_negation() -> None:
    menu = (choice("book", "Buat janji", "Book", ("booking",)), choice("info", "Info", "Info"))
    reading = understand("bisa booking jadwal ga kak", menu, NEGATING)
    assert reading.choice is not None and reading.choice.value == "book"


def test_a_question_tag_never_picks_the_choice_that_says_no() -> None:
    menu = (choice("see", "Lihat data", "See my data"), choice("back", "Kembali", "Back", ("gak",)))
    assert understand("data saya aman gak kak", menu, NEGATING).choice != menu[1]


def test_a_negation_before_a_question_mark_is_a_tag() -> None:
    times = (
        choice("keep", "Tetap", "Keep", ("tidak usah diganti",)),
        choice("change", "Ganti", "Change"),
    )
    assert understand("bisa ganti jam gak? ada urusan", times, NEGATING).choice == times[1]
    assert understand("gak?", times, NEGATING).choice != times[1]


def test_a_short_word_with_a_doubled_letter_is_not_squeezed_into_another() -> None:
    table = Words(replace=(("tp", "tapi"), ("bgt", "sekali")))
    keep = (choice("keep", "Tetap", "Keep it"), choice("change", "Ganti jam", "Change"))
    assert understand("ttp", keep, table).choice == keep[0]  # tetap, not tapi
    assert understand("ganti bgtt", keep, table).choice == keep[1]


FAMILY = (
    choice("marriage", "Perkawinan", "Marriage", ("suami",)),
    choice("violence", "Kekerasan", "Violence", ("suami memukul",)),
    choice("drink", "Miras", "Drinking", ("suami mabuk",)),
    choice("money", "Ekonomi", "Money", ("uang",)),
)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("suami saya", "marriage"),
        ("suami mabuk terus", "drink"),
        # "suami" is in most choices; the word that matters may be the unknown one
        ("suami saya nyabu", None),
        ("uang saya nyabu", "money"),
    ],
)
def test_a_word_most_choices_share_is_weak_beside_an_unknown_word(
    text: str, meant: str | None
) -> None:
    reading = understand(text, FAMILY, Words(stop=("saya", "terus")))
    assert (reading.choice.value if reading.choice else None) == meant


@pytest.mark.parametrize(
    ("word", "inside"),
    [("memukul", "ukul"), ("dipukuli", "pukul"), ("kesejahteraan", "sejahtera")],
)
def test_a_word_is_stemmed_only_when_it_may_hold_a_known_stem(word: str, inside: str) -> None:
    assert not set(fragments(key(word))).isdisjoint(inner(word))
    assert inside in inner(word)


ASKED = (
    choice("info", "Informasi layanan", "About our service", id=["bayar atau gratis", "jam buka?"]),
    choice("person", "Bicara dengan petugas", "Talk to a person", ("konselor", "petugas")),
    choice("day", "Hari lain", "Another day", ("lain",), id=["hari lain"]),
)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("ini bayar gak?", None),  # a question mark without a request asks
        ("jam buka?", "info"),  # the choice's own question
        ("bisa ketemu petugas?", "person"),  # a request, though it ends in "?"
        ("can I talk to a person?", "person"),
        # a question that only mentions a choice's word is not about the choice
        ("apakah konselornya sudah terlatih?", None),
        ("konselor dong tu pintar ka? su sekolah ka?", None),
        # one that says a whole phrase of the choice is
        ("minggu ini penuh, ada hari lain?", "day"),
    ],
)
def test_a_question_of_the_familys_own_picks_only_a_choice_it_is_about(
    text: str, meant: str | None
) -> None:
    reading = understand(text, ASKED, WORDS)
    assert (reading.choice.value if reading.kind == "match" and reading.choice else None) == meant


@pytest.mark.parametrize(
    "text",
    [
        "konsultasi atau curhat, terserah",
        "privasi or darurat",
        "curhat sama konsultasi sama aja",
        "konsultasi deng curhat dua-dua",
    ],
)
def test_an_answer_naming_two_choices_and_picking_neither_is_a_close_call(text: str) -> None:
    reading = understand(text, MENU, WORDS)
    assert reading.kind == "close"
    named = {"book" if "konsultasi" in text else "privacy"}
    named.add("talk" if "curhat" in text else "urgent")
    assert reading.choice is not None and reading.other is not None
    assert {reading.choice.value, reading.other.value} == named


@pytest.mark.parametrize("text", ["beta deng beta pung laki dua-dua", "dua2nya", "terserah"])
def test_both_or_either_alone_picks_nothing(text: str) -> None:
    assert understand(text, MENU, WORDS).kind == "none"


@pytest.mark.parametrize(
    ("text", "plain", "rated"),
    [("dua-dua", ["keduanya"], None), ("dua2", ["keduanya"], None),
     ("dua-duanya", ["keduanya"], None), ("dua2nya", ["keduanya"], None),
     ("dua", ["dua"], "2"), ("kedua", ["kedua"], "2")],
)  # fmt: skip
def test_a_doubled_two_means_both(text: str, plain: list[str], rated: str | None) -> None:
    assert words(text) == plain
    reading = understand(text, RATING, WORDS)
    assert (reading.choice.value if reading.kind == "match" and reading.choice else None) == rated


@pytest.fixture(scope="module")
def bundled_words() -> Words:
    from flows.loader import bundled_library_dir, load_library

    return load_library(bundled_library_dir()).globals.words


@pytest.mark.parametrize(
    "text",
    [
        "hari ini panas banget ya",  # an intensifier is no evidence (`mendesak sekali`)
        "makasih banget kak",
        "hmmmm",  # an interjection, never a vowel-less `home`
        "hmm",
    ],
)
def test_ordinary_words_of_the_word_table_pick_nothing(bundled_words: Words, text: str) -> None:
    menu = MENU + (
        choice("urgent2", "Mendesak", "Pressing", id=["mendesak sekali"], en=["problem at home"]),
    )
    assert understand(text, menu, bundled_words).kind == "none"
