"""The line between talking about danger and being in it.

A story told in the third person about another place or time (the news, a film, a trial,
history) may lower even a weapon held to one gentle question, never to silence; a
request for material is at most one gentle question. A first or second person in danger,
a confession, *now* or *here* always wins over any frame.
"""

from __future__ import annotations

import pytest

from bot.safety import Classifier, Level
from bot.safety.classifier import MODEL_URGENT

URGENT, CHECK, NONE = Level.URGENT, Level.CHECK, Level.NONE


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.bundled()


@pytest.mark.parametrize(
    "text",
    [
        "Berita hari ini: seorang pemuda ditikam dengan pisau di Kecamatan Sirimau kemarin "
        "malam, pelaku sudah ditangkap polisi.",
        "Saya baca di koran, di Tulehu ada orang mabuk bawa parang dan menikam tetangganya. "
        "Pelakunya sudah ditangkap.",
        "di film itu dia bawa parang",
        "tadi nonton film, penjahatnya pegang pistol terus nembak polisi",
        "In the documentary the soldiers were holding machetes, it was hard to watch",
        "Dolo zaman konflik orang-orang bawa parang di jalan, beta masih kacil waktu itu",
    ],
)
def test_a_weapon_in_a_story_elsewhere_or_long_ago_is_at_most_one_question(
    classifier: Classifier, text: str
) -> None:
    """Third person, another place or time, nobody here in danger now: check at most."""
    assert classifier.classify(text).level is not URGENT


def test_a_weapon_held_in_a_film_still_gets_one_question(classifier: Classifier) -> None:
    """The rule for a weapon held is lowered by a story, never silenced by it."""
    verdict = classifier.classify("di film itu dia bawa parang")
    assert verdict.level is CHECK
    assert "violence.weapon_held" in verdict.reasons
    assert "frame.reported" in verdict.reasons


@pytest.mark.parametrize(
    "text",
    [
        "dia bawa parang sekarang di depan rumah",
        "suami saya pegang pisau di dapur, saya takut",
        "Ini bukan soal film ya. Laki aku lagi ngejar aku pakai parang di kebun",
        "tadi baca berita soal penikaman, terus sekarang tetangga bawa parang di depan rumah kami",
        "he is holding a knife outside our door right now",
        "kakak bawa pisau, katanya mau tikam kamu",
    ],
)
def test_a_weapon_here_now_or_at_a_first_or_second_person_stays_urgent(
    classifier: Classifier, text: str
) -> None:
    """Now, here, me or you: no frame lowers it."""
    assert classifier.classify(text).level is URGENT


@pytest.mark.parametrize(
    "text",
    [
        "Selamat siang, saya guru BK. Apakah LK3 punya materi presentasi tentang pencegahan "
        "bunuh diri untuk siswa kelas 9?",
        "I'm a teacher. Do you have suicide prevention material for a class of 15-year-olds?",
        "Beta guru SD, mau minta bahan penyuluhan soal bunuh diri par orang tua murid",
        "Saya imam masjid, kami mau adakan kajian tentang kekerasan terhadap istri dan anak. "
        "Bisa kirim narasumber?",
        "Are there any guidelines on how media should report suicides? Our student newspaper "
        "wants to cover a recent case respectfully.",
    ],
)
def test_a_request_for_material_is_never_urgent(classifier: Classifier, text: str) -> None:
    """A teacher, an imam or a student newspaper asking: none or one gentle question."""
    assert classifier.classify(text).level is not URGENT


@pytest.mark.parametrize(
    "text",
    [
        "Saya guru, mau minta materi pencegahan bunuh diri. Sebenarnya materi itu hanya "
        "alasan. Obat tidur sudah saya kumpulkan dan malam ini saya mau meminum semuanya.",
        "sy mhs lg nyusun skripsi ttg bunuh diri... tp jujur sy sndiri udh tulis surat "
        "terakhir buat ortu",
        "Untuk tugas sekolah saya bikin poster soal menyakiti diri, tapi jujur tadi saya "
        "menyayat tangan saya lagi",
        "Saya baru menonton film balas dendam. Bedanya, saya benar-benar akan melakukannya. "
        "Mertua saya akan saya tikam besok.",
    ],
)
def test_a_request_or_story_that_confesses_the_writers_own_danger_stays_urgent(
    classifier: Classifier, text: str
) -> None:
    """A confession after the frame ("sebenarnya", "jujur", "bedanya") is no story."""
    assert classifier.classify(text).level is URGENT


def test_a_reported_story_caps_the_learned_layer_at_one_question(classifier: Classifier) -> None:
    """A story the ``reported`` frame holds for is never raised to urgent by the model."""
    text = (
        "Kamarin di Waiheru ada orang mabo baku tikam, katanya satu dapa luka di perut. "
        "Polisi su tangkap pelakunya."
    )
    verdict = classifier.classify(text)
    assert verdict.level is not URGENT
    assert MODEL_URGENT not in verdict.reasons
    assert classifier.model_ceiling(text) is CHECK
    assert classifier.model_ceiling("dia bawa parang sekarang di depan rumah") is URGENT
