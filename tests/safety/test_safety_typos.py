"""Unknown words read as known ones: colloquial verb forms and a single typo, nothing more."""

from __future__ import annotations

import pytest

from bot.safety.stemming import is_indonesian
from bot.safety.typos import MIN_TYPED, colloquial_bases
from flows.understanding.typos import TypoIndex, one_edit


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("mukul", "pukul"),
        ("nendang", "tendang"),
        ("nyekik", "cekik"),
        ("nyayat", "sayat"),
        ("ngancem", "ancem"),
        ("ngebacok", "bacok"),
        ("pukulin", "pukul"),
    ],
)
def test_colloquial_verbs_lead_back_to_their_base(typed: str, base: str) -> None:
    assert base in colloquial_bases(typed)


@pytest.mark.parametrize(
    ("typed", "known", "near"),
    [
        ("bunih", "bunuh", True),
        ("gantong", "gantung", True),
        ("pkuul", "pukul", True),
        ("tusu", "tusuk", True),
        ("bunuh", "bunuh", True),
        ("bantai", "rantai", True),
        ("buruh", "bunuh", True),
        ("bnh", "bunuh", False),
        ("tampar", "pukul", False),
    ],
)
def test_one_edit_means_one_letter_added_dropped_changed_or_swapped(
    typed: str, known: str, near: bool
) -> None:
    assert one_edit(typed, known) is near


def test_the_index_finds_only_long_words_one_typo_away() -> None:
    index = TypoIndex(["bunuh", "gantung", "mati", "pukul"], min_typed=MIN_TYPED)
    assert index.near("bunih") == ("bunuh",)
    assert index.near("gantong") == ("gantung",)
    assert index.near("mato") == ()  # words under five letters are never guessed at
    assert index.near("xyz") == ()
    assert index.near("b4nuh") == ()


def test_real_indonesian_words_are_never_taken_for_typos() -> None:
    """``dibantai`` (a sports result) must not be read as ``dirantai`` (chained up)."""
    assert is_indonesian("dibantai") and is_indonesian("makan")
    assert not is_indonesian("bunih") and not is_indonesian("mukul")
