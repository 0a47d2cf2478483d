"""From a message to analysed tokens: spelling variants, slang, stems and neutralised words.

Every token carries several readings at once (what was typed, with elongations collapsed,
slang replaced, and the stems of all of these), because people's spelling is too varied
to pick one; a rule matches if any reading fits. Stems lose context (``pukul 10``), so the
lexicon's neutralisers then blank the words that sit in a harmless context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.safety.lexicon import Lexicon
from bot.safety.normalise import BIG_NUMBER, NUMBER, Piece, pieces
from bot.safety.stemming import is_indonesian, stem
from bot.safety.typos import MIN_TYPED, colloquial_bases
from bot.safety.words import BLANK, Token, forms_of
from flows.understanding.typos import TypoIndex

_RUN_OF_TWO_OR_MORE = re.compile(r"(.)\1+")
_RUN_OF_THREE_OR_MORE = re.compile(r"(.)\1{2,}")
_CACHE_SIZE = 32768
_CACHED_WORD_CHARS = 64
_MIN_SPLIT = 6
_SLANG_SUFFIX = "in"
# Only the words of these lists are guessed at through a typo: the ones a missed crisis
# hides behind. Everyday words (``think``, ``son``) are not, so "thank" stays "thank".
TYPO_LISTS = (
    "suicide", "die", "method", "jump", "self_harm", "self_cut", "hit", "kill", "threat",
    "weapon", "brandish", "sexual", "force", "grope", "trafficking", "sold", "confine",
    "abduct", "poison", "neglect", "farewell", "hopeless", "vanish",
)


def spelling_variants(text: str) -> tuple[str, ...]:
    """Readings of one typed word: as typed, elongations collapsed, common SMS spellings."""
    out = [text, _RUN_OF_TWO_OR_MORE.sub(r"\1", text), _RUN_OF_THREE_OR_MORE.sub(r"\1\1", text)]
    if "v" in text:
        out.append(text.replace("v", "u"))
    if len(text) > 3 and text.endswith("x"):
        out.append(text[:-1] + "nya")
    if len(text) > 2 and text.endswith("q"):
        out.append(text[:-1] + "ku")
    return tuple(dict.fromkeys(out))


def _stems(words: Iterable[str]) -> frozenset[str]:
    """Stems of every reading, also without the Jakarta ``-in`` suffix (``dipukulin``)."""
    out: set[str] = set()
    for word in words:
        out.add(stem(word))
        if len(word) > _MIN_SPLIT and word.endswith(_SLANG_SUFFIX):
            base = word[: -len(_SLANG_SUFFIX)]
            out.update((base, stem(base)))
    return frozenset(out)


class Analyser:
    """Turns messages into tokens for one lexicon; caches per word, so it is fast on reuse."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._longest = lexicon.longest_word
        self._cached = lru_cache(maxsize=_CACHE_SIZE)(self._analyse_word)
        self._typos = TypoIndex(lexicon.words_of(TYPO_LISTS), min_typed=MIN_TYPED)

    def _word(self, piece: Piece) -> tuple[Token, ...]:
        # Real words are short; a very long "word" is noise or an attack, and caching
        # it would only let one sender fill memory.
        if len(piece.text) > _CACHED_WORD_CHARS:
            return self._analyse_word(piece)
        return self._cached(piece)

    def tokens(self, text: str) -> list[Token]:
        """Analyses a message and blanks the words its neutralisers switch off."""
        found = pieces(text)
        tokens: list[Token] = []
        markers = self._lexicon.passive_markers
        index = 0
        while index < len(found):
            piece = found[index]
            following = found[index + 1] if index + 1 < len(found) else None
            if (
                piece.text in markers
                and following is not None
                and not following.opaque
                and following.text not in (NUMBER, BIG_NUMBER)
                and following.text not in markers
            ):
                tokens.extend(self._passive(following))
                index += 2
                continue
            tokens.extend(self._word(piece))
            index += 1
        return self._neutralise(tokens)

    def _passive(self, piece: Piece) -> tuple[Token, ...]:
        """Reads ``dapa pukul`` as ``dipukul``: the passive spelling replaces the bare one."""
        plain = self._word(piece)
        if len(plain) != 1:
            return plain
        bare = spelling_variants(piece.text)
        variants = [f"di{word}" for word in bare]
        spellings = (plain[0].spellings - frozenset(bare)) | frozenset(variants)
        return (Token(spellings, _stems(variants) | plain[0].stems),)

    def _analyse_word(self, piece: Piece) -> tuple[Token, ...]:
        if piece.text == BIG_NUMBER:
            return (Token(frozenset((NUMBER, BIG_NUMBER)), frozenset()),)
        if piece.opaque or piece.text == NUMBER:
            return (Token(frozenset((piece.text,)), frozenset()),)
        if piece.repeated:
            first, *rest = self._word(Piece(piece.text, piece.joined))
            doubled = {form * 2 for form in first.stems | first.spellings}
            return (Token(first.spellings | frozenset(doubled), first.stems), *rest)
        variants = spelling_variants(piece.text)
        replace = self._lexicon.replace
        for variant in variants:
            if variant in replace:
                return self._replaced(replace[variant], variants)
        if self._known(variants):
            return (Token(frozenset(variants), _stems(variants)),)
        if piece.joined or len(piece.text) >= _MIN_SPLIT:
            for variant in variants:
                parts = self._split(variant, piece.joined)
                if parts is not None:
                    return tuple(token for part in parts for token in self._word(Piece(part)))
        readings = self._readings(variants)
        if readings:
            every = variants + readings
            return (Token(frozenset(every), _stems(every)),)
        return (Token(frozenset(variants), _stems(variants)),)

    def _readings(self, variants: tuple[str, ...]) -> tuple[str, ...]:
        """Known words an unknown word may stand for: a colloquial verb form or one typo.

        Jakarta and Ambonese verbs drop or change the standard prefix (``mukul``,
        ``nendang``, ``nyekik``, ``ngancem``, ``ngebacok``); Ambonese spelling and quick
        typing change one letter (``gantong``, ``tusu``, ``bunih``). Only readings that
        are words of the lexicon are kept, so an ordinary unknown word stays itself.
        """
        vocabulary = self._lexicon.vocabulary
        found: list[str] = []
        if any(is_indonesian(variant) for variant in variants):
            return ()
        for variant in variants:
            for candidate in colloquial_bases(variant):
                if candidate in vocabulary or stem(candidate) in vocabulary:
                    found.append(candidate)
        if not found:
            # One typo away from a crisis word, as typed; never a typo on top of a changed
            # prefix, which would turn "meeting" into "beating".
            for variant in variants:
                found.extend(self._typos.near(variant))
        return tuple(dict.fromkeys(word for word in found if word not in variants))

    def _replaced(self, words: tuple[str, ...], typed: tuple[str, ...]) -> tuple[Token, ...]:
        tokens = [Token(frozenset((word,)), _stems((word,))) for word in words]
        first = tokens[0]
        tokens[0] = Token(first.spellings | frozenset(typed), first.stems)
        return tuple(tokens)

    def _known(self, variants: tuple[str, ...]) -> bool:
        vocabulary = self._lexicon.vocabulary
        return any(v in vocabulary or stem(v) in vocabulary for v in variants)

    def _split(self, text: str, joined: bool) -> list[str] | None:
        """Splits a run-together word into the fewest known words (``pgnmati``)."""
        shortest = 2 if joined else 3
        most = 6 if joined else 2
        vocabulary = self._lexicon.vocabulary
        longest = self._longest
        best: list[list[str] | None] = [None] * (len(text) + 1)
        best[0] = []
        for end in range(shortest, len(text) + 1):
            # Only pieces as long as some known word can be known words: linear, not quadratic.
            for begin in range(max(0, end - longest), end - shortest + 1):
                head = best[begin]
                if head is None or len(head) >= most:
                    continue
                part = text[begin:end]
                if part in vocabulary and (
                    best[end] is None or len(head) + 1 < len(best[end] or [])
                ):
                    best[end] = [*head, part]
        result = best[len(text)]
        return result if result is not None and len(result) > 1 else None

    def _neutralise(self, tokens: list[Token]) -> list[Token]:
        forms = forms_of(tokens)
        active = [n for n in self._lexicon.neutralisers if n.words.possible(forms)]
        blanked: set[int] = set()
        for start in range(len(tokens)):
            for neutraliser in active:
                end = neutraliser.span(tokens, start)
                if end is not None:
                    blanked.update(range(start, end))
        if not blanked:
            return tokens
        return [BLANK if index in blanked else token for index, token in enumerate(tokens)]
