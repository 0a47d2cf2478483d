"""Normalisation undoes the typing tricks people use before any word is looked up."""

from __future__ import annotations

import pytest

from bot.safety.normalise import Piece, pieces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saya MAU", ["saya", "mau"]),
        ("Ｍａｔｉ", ["mati"]),
        ("ma\u200bti", ["mati"]),
        ("bvnuh d1ri", ["bvnuh", "diri"]),
        ("m4t1", ["mati"]),
        ("s@ya", ["saya"]),
        ("b u n u h d i r i", ["bunuhdiri"]),
        ("m 4 t i", ["mati"]),
        ("aku g d rumah", ["aku", "g", "d", "rumah"]),
        ("pukul 10.30", ["pukul", "#big", "#big"]),
        ("pukul 08.00", ["pukul", "#num", "#num"]),
        ("minum 20 butir", ["minum", "#big", "butir"]),
        ("minum 20an pil", ["minum", "#big", "pil"]),
        ("diminum 3x sehari", ["diminum", "#num", "sehari"]),
        ("I'm done", ["im", "done"]),
        ("café", ["cafe"]),
        ("dipukul-pukul", ["dipukul"]),
        ("anak2", ["anak"]),
        ("covid-19", ["covid", "#big"]),
        ("", []),
        ("!!! ... ???", []),
    ],
)
def test_pieces_undo_typing_tricks(text: str, expected: list[str]) -> None:
    assert [piece.text for piece in pieces(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bunuh-bunuhan", Piece("bunuh-bunuhan", opaque=True)),
        ("mati-matian", Piece("mati-matian", opaque=True)),
        ("pegang-pegang", Piece("pegang", repeated=True)),
        ("pegang2", Piece("pegang", repeated=True)),
        ("diapa2in", Piece("diapain", repeated=True)),
        ("pukul2an", Piece("pukul-pukulan", opaque=True)),
        ("b u n u h", Piece("bunuh", joined=True)),
    ],
)
def test_reduplication_and_spacing_are_marked(text: str, expected: Piece) -> None:
    assert pieces(text) == [expected]


def test_a_huge_number_is_just_a_big_number() -> None:
    assert [piece.text for piece in pieces("9" * 5000)] == ["#big"]
