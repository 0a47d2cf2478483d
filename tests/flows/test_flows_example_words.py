"""One word only a choice's example knows is too little to pick it (issue 17).

When every word the question knows points to one choice, the choice is taken though
the message says only part of it ("beta pi kantor sa" at "Datang ke kantor LK3").
That holds for a word of the choice's label or synonyms, or for several words; a
single word that only one of its examples holds ("lewat" of "hubungi lewat hp") is
most often said of something else, and the family is asked again instead.

The sentences are written for these tests, not taken from the dev sets.
"""

from __future__ import annotations

import pytest

from flows.model import Choice, Text, Words
from flows.understanding import understand


def choice(value: str, label: str, synonyms: tuple[str, ...], examples: list[str]) -> Choice:
    return Choice(value, Text((("id", label),)), synonyms, None, (("id", tuple(examples)),))


MODES = (
    choice("kantor", "Datang ke kantor", ("kantor", "office"), ["ketemu langsung di kantor saja"]),
    choice("telepon", "Telepon", ("telepon", "phone"), ["hubungi lewat hp"]),
)


@pytest.fixture(scope="module")
def words() -> Words:
    from flows.loader import bundled_library_dir, load_library

    return load_library(bundled_library_dir()).globals.words


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("di kantor", "kantor"),  # a word of the label
        ("ketemu langsung", "kantor"),  # two words of one example
        ("langsung aja", None),  # one word only an example knows
        ("lewat", None),
    ],
)
def test_one_word_only_an_example_knows_picks_nothing(
    words: Words, text: str, meant: str | None
) -> None:
    reading = understand(text, MODES, words)
    assert (reading.choice.value if reading.kind == "match" and reading.choice else None) == meant
