"""The crisis check, read as a specification: what must be urgent, what asks, what is calm."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety import Assessment, Classifier, Level

URGENT = Level.URGENT
CHECK = Level.CHECK
NONE = Level.NONE


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.bundled()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # suicide intent, in standard Indonesian, slang, Ambonese Malay and English
        ("saya ingin mengakhiri hidup saya", "suicide.intent"),
        ("gw mau bundir", "suicide.intent"),
        ("pgn mati", "suicide.intent"),
        ("mo mati aja", "suicide.intent"),
        ("beta mau mati saja", "suicide.intent"),
        ("beta su seng kuat lai, beta mau minum racun", "suicide.intent"),
        ("I want to kill myself", "suicide.intent"),
        ("kms", "suicide.intent"),
        ("udah kusiapin tali buat malam ini", "suicide.intent"),
        ("aku mau loncat dari jembatan", "suicide.intent"),
        ("sudah minum 30 butir obat", "suicide.intent"),
        ("aku udah gak mau hidup lagi", "suicide.intent"),
        # third person reports
        ("teman saya mau bunuh diri", "suicide.intent"),
        ("anak saya mengancam gantung diri", "suicide.intent"),
        # typing tricks
        ("matiiii ajaaa", "suicide.intent"),
        ("b u n u h d i r i", "suicide.intent"),
        ("bvnuh d1ri", "suicide.intent"),
        ("pengen m4ti", "suicide.intent"),
        ("PENGEN MATIII", "suicide.intent"),
        ("pgnmati", "suicide.intent"),
        # self-harm now
        ("aku lagi nyayat tangan", "self_harm.now"),
        ("i cut myself again tonight", "self_harm.now"),
        # violence now or threatened
        ("suami saya memukul saya tiap malam", "violence.ongoing"),
        ("beta dapa pukul dari beta pung laki", "violence.ongoing"),
        ("kena pukul 3 kali sama bapak", "violence.against_me"),
        ("papa tampeleng mama", "violence.ongoing"),
        ("adek gw digebukin bokap", "violence.ongoing"),
        ("my husband hits me", "violence.ongoing"),
        ("dia ancam bunuh saya", "violence.threat"),
        ("papa mabuk bawa parang", "violence.threat"),
        # children
        ("tetangga saya anaknya dipukuli tiap hari", "child.abuse"),
        ("anak kecil itu ditelantarkan orang tuanya", "child.neglect"),
        ("anak saya diculik", "child.danger"),
        ("ada anak dikunci di gudang", "confinement"),
        # sexual violence and trafficking
        ("aku diperkosa", "sexual.violence"),
        ("om suka pegang-pegang saya", "sexual.violence"),
        ("ade perempuan dapa pegang-pegang deng om", "sexual.violence"),
        ("saya dipaksa berhubungan badan", "sexual.violence"),
        ("adik saya dijual ke om om", "trafficking"),
        ("paspor saya ditahan majikan", "trafficking"),
        # farewells and preparations without the word suicide
        ("pesan terakhir sudah kutulis untuk suamiku", "suicide.farewell"),
        ("maafin aku ma, aku pergi duluan ya", "suicide.farewell"),
        ("goodbye everyone, thanks for everything", "suicide.farewell"),
        ("obat tidur sudah saya kumpulkan di laci", "suicide.preparation"),
        ("sy udh mnm obt 1 botol", "suicide.preparation"),
        ("sudah di atap gedung, sebentar lagi lompat", "suicide.lethal_place"),
        ("saya sekarang berdiri di jembatan, maaf semuanya", "suicide.lethal_place"),
        ("lenganku sudah kusayat, darahnya banyak", "self_harm.injury"),
        ("tadi aku gores tangan pake silet", "self_harm.injury"),
        ("pisaunya masih di tangan dia", "violence.weapon_held"),
        ("dia lagi asah parang sambil marah-marah", "violence.weapon_held"),
        # Jakarta and Ambonese verb forms, typos and look-alike letters
        ("dia mukul aku terus", "violence.ongoing"),
        ("bapa nendang mama", "violence.ongoing"),
        ("om gue lagi nyekek ponakan gue", "child.abuse"),
        ("beta mo gantong diri", "suicide.intent"),
        ("mau bunih diri", "suicide.intent"),
        ("pgn mti aj", "suicide.intent"),
        ("\u0455\u0430\u0443\u0430 m\u0430u bunuh d\u0456r\u0456", "suicide.intent"),
        ("papa bilang dia mo potong ade pung kaki", "violence.threat"),
        # a past marker never calms a present emergency
        ("dulu pernah, sekarang dia pukul saya lagi", "violence.against_me"),
        ("suami saya memukul saya tiap malam", "violence.against_me"),
        ("beta dapa pukul dari beta pung laki", "violence.against_me"),
    ],
)
def test_crisis_messages_are_urgent_with_their_reason(
    classifier: Classifier, text: str, reason: str
) -> None:
    result = classifier.classify(text)
    assert result.level is URGENT
    assert reason in result.reasons


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("capek hidup", "hopeless"),
        ("cape idup gini terus", "hopeless"),
        ("beta su seng kuat lai", "hopeless"),
        ("buat apa aku hidup", "hopeless"),
        ("kadang aku pengen tidur dan gak bangun lagi", "passive_death_wish"),
        ("mending aku ga ada", "passive_death_wish"),
        ("I wish I was dead", "passive_death_wish"),
        ("saya takut sama suami saya", "fear_at_home"),
        ("beta takut beta pung laki pulang", "fear_at_home"),
        ("suami suka maki-maki saya", "verbal_abuse"),
        ("dulu saya pernah mencoba bunuh diri", "self_harm.past"),
        ("waktu SMA aku pernah nyayat tangan", "self_harm.past"),
        ("saya tidak mau bunuh diri, cuma capek", "suicide.mention"),
        ("aku gak pengen mati kok", "suicide.mention"),
        ("waktu kecil saya sering dipukul", "violence.past"),
    ],
)
def test_worrying_messages_ask_a_gentle_question(
    classifier: Classifier, text: str, reason: str
) -> None:
    """At least a question; the learned layer may judge some of them urgent (never none)."""
    result = classifier.classify(text)
    assert result.level is not NONE
    assert reason in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "pukul berapa kantor buka?",
        "bisa datang pukul 10?",
        "pukul tiga sore saya bisa",
        "mati lampu dari tadi",
        "hp saya mati",
        "motor mati di jalan",
        "bunuh nyamuk pakai apa ya",
        "main hp buat bunuh waktu",
        "kangen setengah mati",
        "lagi mati gaya",
        "anak saya main game bunuh-bunuhan",
        "berjuang mati-matian buat anak",
        "capek banget kerja hari ini",
        "anak saya sakit panas",
        "cara daftar bansos",
        "berapa biaya konsultasi?",
        "saya mau cerai",
        "lucu banget sampai mau mati ketawa",
        "tendang bola di lapangan",
        "dia kerja keras banting tulang",
        "rumah kami mau dijual",
        "tanaman saya mati semua",
        "I'm dead tired",
        "my phone died",
        # information, training, news and stories about violence
        "selebaran tentang kekerasan dalam rumah tangga untuk posyandu",
        "lowongan relawan pendamping korban",
        "tadi nonton berita ada ibu dibunuh suaminya",
        "persib dibantai 3-0",
        "bos gue bakal bunuh gue kalo telat lagi",
        "my wife will kill me if I forget our anniversary again lol",
        "bapak bawa parang ke kebun",
        "tangan saya teriris pisau waktu masak",
        "harga cabai sekarang mencekik leher",
        "",
        "   ",
    ],
)
def test_ordinary_words_that_look_alarming_stay_calm(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text) == Assessment(NONE, ())


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("dulu pernah mau bunuh diri", CHECK),
        ("dulu pernah mau bunuh diri, sekarang pengen lagi", URGENT),
        ("saya tidak mau bunuh diri", CHECK),
        ("gak kuat, mau bunuh diri", URGENT),
        ("mati lampu, aku pengen mati", URGENT),
        ("pukul 10 malam dia pukul saya", URGENT),
        ("suami tidak pernah pukul saya", CHECK),
        ("dia belum pernah memukul saya", CHECK),
        ("ana2 baku pukul rebut remot tv", CHECK),
        # framing never hides a first-person crisis
        ("aku baca berita, suami pukul saya", URGENT),
        ("tolong, materi itu bikin aku ingin mati sekarang", URGENT),
        ("film apa saja, aku mau bunuh diri", URGENT),
    ],
)
def test_past_and_negation_lower_to_check_but_never_to_none(
    classifier: Classifier, text: str, level: Level
) -> None:
    assert classifier.classify(text).level is level


@pytest.mark.parametrize(
    "text",
    [
        "bahan penyuluhan soal bunuh diri untuk guru",
        "mau gantung diri kaya di lagu",
        "film yang kami tonton tentang ibu yang bunuh diri",
        "saya mau buat pengaduan, suami perkosa anak saya",
        "anak saya dijual ke mucikari, lapor ke siapa",
        "guru les bilang mau bunuh aku kalau aku cerita",
        "sa rindu mama, sa mau mati",
        "bosan hidup, mending mati",
        "saya lapar, anak2 lapar, lebih baik kami mati saja",
        "aku gak kuat lagi, pengen pergi selamanya wkwk",
        "papa pukul mama pake kayu sampe pingsan di dapur",
    ],
)
def test_framing_and_idioms_never_hide_suicide_or_abuse_below_check(
    classifier: Classifier, text: str
) -> None:
    """A topic frame may lower a crisis word to one gentle question, never to silence."""
    assert classifier.classify(text).level is not NONE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # a farewell, a last message or thanks for having been there, without a crisis word
        ("Ini pesan terakhir saya. Titip anak-anak ya, maaf untuk semuanya.", "suicide.farewell"),
        ("gue pamit ya. makasih udah pernah baik sama gue", "suicide.farewell"),
        (
            "I gave my guitar away. Thank you for everything, this is my last message.",
            "suicide.farewell",
        ),
        # a lethal place with a sign of intent, named as Ambon names it or typed in haste
        ("beta su di ujung tebing. maaf e mama", "suicide.lethal_place"),
        ("otw jmp. terakhir kali liat lampu kota", "suicide.lethal_place"),
        ("sy d rel kereta, tunggu kereta lewat", "suicide.lethal_place"),
        # a first-person crisis wins over a request for material
        (
            "saya minta materi bunuh diri untuk sekolah, tapi sebenarnya saya sendiri sudah "
            "siapkan obat",
            "suicide.intent",
        ),
        ("how many paracetamol does it take. i have two strips here", "suicide.intent"),
        # sexual violence told without its words
        ("saya diapa-apakan oleh om saya waktu rumah sepi", "sexual.veiled"),
        ("bangun tidur sudah tanpa celana, saya tidak ingat apa-apa", "sexual.veiled"),
        (
            "dia bilang foto saya yang gituan mau disebar kalau saya tidak mau tidur dengan dia",
            "sexual.veiled",
        ),
        # forced work, someone else hurt now
        ("mandor ambil beta pung paspor, beta seng boleh pulang", "trafficking"),
        ("my uncle stabbed my dad, they are still fighting", "violence.at_home"),
    ],
)
def test_crises_told_indirectly_are_urgent(classifier: Classifier, text: str, reason: str) -> None:
    result = classifier.classify(text)
    assert result.level is URGENT
    assert reason in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Saya guru BK, mohon materi tentang pencegahan bunuh diri untuk penyuluhan di sekolah",
        "For a school talk next week, do you have material on suicide prevention for teenagers?",
        "kalo ada teman yang bilang mau bunuh diri, katong musti bikin apa?",
        "gue lagi bikin tugas sosiologi soal bunuh diri di kalangan remaja, ada referensi?",
        "Apa saja tanda-tanda perdagangan orang yang perlu diwaspadai calon pekerja migran?",
        "tadi nonton film, ada adegan orang lompat dari jembatan",
        "Berapa nomor pengaduan kekerasan terhadap perempuan dan anak di Ambon?",
    ],
)
def test_talk_about_a_crisis_gets_at_most_one_gentle_question(
    classifier: Classifier, text: str
) -> None:
    """A request for work or study, a story, a what-if: a question, never an alarm."""
    assert classifier.classify(text).level is CHECK


@pytest.mark.parametrize(
    "text",
    [
        "panas skali hari ni, beta rasa mau mati tagal panas",
        "beta mo mati tatawa lia ana-ana menari",
        "sumpah mati gue udah bayar arisan kemarin",
        "My husband spent all day cutting firewood with the machete",
    ],
)
def test_places_and_idioms_of_everyday_life_stay_calm(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).level is NONE


def test_a_fisherman_at_the_pier_is_no_alarm(classifier: Classifier) -> None:
    """A lethal place with an everyday reason to be there and no sign of intent."""
    text = "suami saya pergi memancing di ujung dermaga sejak subuh"
    assert classifier.classify(text).level is not URGENT


def test_reasons_are_rule_ids_most_serious_first(classifier: Classifier) -> None:
    result = classifier.classify("suami pukul saya, saya takut sama suami")
    assert result.level is URGENT
    assert result.reasons[0] == "violence.against_me"
    assert "fear_at_home" in result.reasons
    assert set(result.reasons) <= set(classifier.rule_ids)


def _obfuscations(word: str) -> list[str]:
    """How people disguise or stretch a word: elongation, spacing, case, invisible chars."""
    return [word + word[-1] * 4, " ".join(word), word.upper(), "\u200b".join(word)]


@pytest.mark.parametrize("variant", _obfuscations("mati"))
def test_typing_tricks_do_not_hide_a_death_wish(classifier: Classifier, variant: str) -> None:
    assert classifier.classify(f"aku pengen {variant}").level is URGENT


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_yields_a_level_and_only_rule_ids(text: str) -> None:
    classifier = Classifier.bundled()
    result = classifier.classify(text)
    assert result.level in Level
    assert set(result.reasons) <= set(classifier.rule_ids)
    assert (result.level is NONE) == (result.reasons == ())


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["saya mau bunuh diri", "suami pukul saya", "aku diperkosa"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=60),
)
def test_surrounding_chatter_never_lowers_a_crisis_below_check(crisis: str, chatter: str) -> None:
    result = Classifier.bundled().classify(f"{chatter} {crisis}")
    assert result.level is not NONE


@pytest.mark.parametrize(
    "text",
    [
        # A word that makes "bunuh" harmless ("bunuh waktu", "kill time") only does so right
        # after it: through "diri" it once switched off a cry for help (found by the
        # pipeline's fuzz test: "aku mau bunuh diri" then a line "T1ME0UT").
        "aku mau bunuh diri\nT1ME0UT",
        "aku mau bunuh diri waktu itu juga",
        "pengen bunuh diri, sepi sekali",
        "i will kill myself, time is up",
        "saya mau bunuh dia waktu dia tidur",
    ],
)
def test_a_harmless_word_after_a_crisis_phrase_never_switches_it_off(
    classifier: Classifier, text: str
) -> None:
    assert classifier.classify(text).level is URGENT


@pytest.mark.parametrize(
    "text",
    ["aku mau bunuh waktu main game", "bunuh kebosanan dengan nonton", "just killing some time"],
)
def test_killing_time_stays_calm(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).level is NONE


@pytest.mark.parametrize(
    "text",
    [
        "saya di malteng",
        "aku di malteng",
        "kami tinggal di Kota Tual",
        "beta di Dobo",
        "I live in Ambon",
    ],
)
def test_where_a_family_lives_is_no_crisis(classifier: Classifier, text: str) -> None:
    # The answer to the web chat's "which regency or city?" (issue 22's offices): the
    # learned layer once raised "saya di malteng" to urgent on its letters alone.
    assert classifier.classify(text).level is NONE
