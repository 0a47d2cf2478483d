"""Cutting replies to a transport's size and turning `*emphasis*` into bold spans."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.textparts import bold_spans, emphasis_parts, split_text, utf16_len


@pytest.mark.parametrize(
    ("text", "limit", "parts"),
    [
        ("pendek", 10, ["pendek"]),
        ("", 10, []),
        ("satu\n\ndua\n\ntiga", 9, ["satu\n\ndua", "tiga"]),
        ("satu dua\ntiga empat", 10, ["satu dua", "tiga empat"]),
        ("satu dua tiga empat", 9, ["satu dua", "tiga", "empat"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("aa\n\nbbbbbbbbbb\n\ncc", 6, ["aa", "bbbbbb", "bbbb", "cc"]),
        ("a\n\n\n\nb", 3, ["a", "b"]),
    ],
)
def test_texts_are_split_at_paragraphs_then_lines_then_words(
    text: str, limit: int, parts: list[str]
) -> None:
    assert split_text(text, limit) == parts


def test_split_counts_utf16_units_when_asked() -> None:
    assert split_text("🙏🙏🙏", 4, utf16_len) == ["🙏🙏", "🙏"]


@given(st.text(alphabet=st.sampled_from("ab 🙏\n"), max_size=200), st.integers(2, 30))
def test_no_part_is_over_the_limit_and_no_word_is_lost(text: str, limit: int) -> None:
    parts = split_text(text, limit, utf16_len)
    assert all(utf16_len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split()), "only whitespace at cuts goes"


@pytest.mark.parametrize(
    ("text", "plain", "bold"),
    [
        ("Ketik *menu* untuk pilihan.", "Ketik menu untuk pilihan.", ["menu"]),
        (
            "Pilih *Setuju* atau *Tidak setuju*.",
            "Pilih Setuju atau Tidak setuju.",
            ["Setuju", "Tidak setuju"],
        ),
        ("2 * 3 * 4", "2 * 3 * 4", []),
        ("a*b*c", "a*b*c", []),
        ("**", "**", []),
        ("🙏 *tolong*", "🙏 tolong", ["tolong"]),
        ("*dua\nbaris*", "*dua\nbaris*", []),
    ],
)
def test_emphasis_becomes_bold_spans_in_utf16_offsets(
    text: str, plain: str, bold: list[str]
) -> None:
    shown, spans = bold_spans(text)
    assert shown == plain
    encoded = shown.encode("utf-16-le")
    assert [encoded[2 * o : 2 * (o + n)].decode("utf-16-le") for o, n in spans] == bold


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("biasa saja", (("biasa saja", False),)),
        ("", (("", False),)),
        ("ketik *menu* sekarang", (("ketik ", False), ("menu", True), (" sekarang", False))),
        ("*dataku* dan *hapus*", (("dataku", True), (" dan ", False), ("hapus", True))),
        ("2 * 3 * 4", (("2 * 3 * 4", False),)),
        ("*<b>*", (("<b>", True),)),
    ],
)
def test_emphasis_is_cut_into_bold_runs_for_pages(
    text: str, parts: tuple[tuple[str, bool], ...]
) -> None:
    assert emphasis_parts(text) == parts


@given(st.text(max_size=200))
def test_emphasis_runs_keep_every_character_but_the_marks(text: str) -> None:
    runs = emphasis_parts(text)
    assert "".join(piece for piece, _ in runs) == bold_spans(text)[0]
