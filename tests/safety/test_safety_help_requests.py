"""A family asking for ordinary help, in English or Indonesian, is never asked about
self-harm; a crisis said in English is urgent. Read as a specification, through the
bundled classifier (rules and learned layer together)."""

from __future__ import annotations

import pytest

from bot.safety import Assessment, Classifier, Level
from bot.safety.features import Concepts

URGENT = Level.URGENT
NONE = Level.NONE


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.bundled()


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I would like some help for my family",
        "I need help with my family",
        "can someone help me with my children's school problem",
        "Hi, can you help my family please?",
        "hello i need help for my family, we have no money for school",
        "halo kak, I need help for my family",
        "saya butuh bantuan untuk keluarga saya",
        "bisa bantu beta?",
        "tolong bantu urus bantuan sosial",
        "selamat pagi, saya mau minta tolong soal anak saya",
    ],
)
def test_a_family_asking_for_ordinary_help_is_not_asked_about_self_harm(
    classifier: Classifier, text: str
) -> None:
    assert classifier.classify(text) == Assessment(NONE, ())


@pytest.mark.parametrize(
    "text",
    [
        "my husband is beating me right now",
        "I want to end my life",
        "he has a knife",
        "he's got a gun and he is threatening us",
        "she has a knife and says she will kill me",
        "help me he is hitting me",
        "I just took all my pills",
        "the agent took my passport and won't let me leave",
    ],
)
def test_a_crisis_said_in_english_is_urgent(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).level is URGENT


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("he has a knife", "violence.weapon_held"),
        ("hes got a gun", "violence.weapon_held"),
        ("he came at me with a knife", "violence.weapon_held"),
        ("they took my passport", "trafficking"),
    ],
)
def test_a_weapon_in_someones_hands_or_papers_taken_are_urgent_by_rule(
    classifier: Classifier, text: str, reason: str
) -> None:
    assert reason in classifier.classify(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "can somebody call me back",
        "I haven't eaten lunch yet",
        "my kids are sitting at home",
        "he is racing motorbikes with his friends",
        "I snapped at my son today",
    ],
)
def test_everyday_english_words_are_not_read_as_typos_of_crisis_words(
    classifier: Classifier, text: str
) -> None:
    """``back`` is not ``bacok``, ``eaten`` not ``beaten``, ``sitting`` not ``hitting``."""
    assert classifier.rules_level(text) is NONE


def test_words_of_one_meaning_share_a_concept_across_languages(classifier: Classifier) -> None:
    """The learned layer sees ``l:self`` for ``saya``, ``beta`` and ``me`` alike, so what
    the Indonesian corpus teaches carries over to English."""
    concepts = Concepts.from_lists(classifier.lexicon.lists)
    assert {"l:self"} <= set(concepts.of("saya")) & set(concepts.of("beta"))
    assert "l:self" in concepts.of("me")
    assert "l:hit" in concepts.of("beating")
    assert "l:hit" in concepts.of("dipukuli")
    assert concepts.of("sekolah") == ()
