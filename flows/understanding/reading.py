"""Reading a text into standard words and match keys, with the admins' word table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from flows.model import Words
from flows.understanding.stems import fragments, inner, key, plain_key
from flows.understanding.text import words
from flows.understanding.typos import AbbreviationIndex

_DOUBLED = re.compile(r"([a-z])\1")

NEGATORS = frozenset({"tidak", "bukan", "jangan", "belum", "kurang"})
"""Words that turn a phrase around, after the word table (where `seng`, `gak`, `not`
and `dont` become `tidak`): "tidak setuju" must never read as "setuju"."""


QUESTION_WORDS = frozenset(
    "siapa mana dimana berapa kapan kenapa mengapa bagaimana gimana "
    "who where when why how what which".split()
)
"""Words that ask for something (after the word table: `sapa`, `brp`, `gmn`), so an
answer holding one is a question of the family's own, not a pick."""


REQUEST_WORDS = frozenset("bisa boleh minta mau ingin can could may want please".split())
"""Words that make a question a request ("bisa reschedule gak?", "can I talk to a
person?"): a request picks a choice as readily as a plain answer does."""


def asks(standard: tuple[str, ...], text: str = "") -> bool:
    """True when the words ask a question of their own: a question word (``datanya
    disimpan di mana``), or a question mark without a request (``ini bayar gak?``)."""
    if not QUESTION_WORDS.isdisjoint(standard):
        return True
    return "?" in text and REQUEST_WORDS.isdisjoint(standard)


def untagged(standard: tuple[str, ...], stop: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The words without a last `ga` after two words or more (stop words after it aside):
    a question tag ("bisa ketemu konselor ga kak?", "data saya aman gak sih?")."""
    end = len(standard)
    while end > 0 and standard[end - 1] in stop:
        end -= 1
    if end > 2 and standard[end - 1] in NEGATORS:
        return standard[: end - 1] + standard[end:]
    return standard


def negated(standard: tuple[str, ...], stop: frozenset[str] = frozenset()) -> bool:
    """True when the words hold a negation (a question tag is not one)."""
    return not NEGATORS.isdisjoint(untagged(standard, stop))


SCOPE = 2
"""How many content words after a negation it turns around."""
_LACKING = frozenset({"ada", "punya", "dapat", "have", "has", "had", "get", "got"})


CONDITIONALS = frozenset(
    "kalau jika jikalau apabila bila seandainya andaikan misalkan misalnya tergantung "
    "if unless depends depending".split()
)
"""Words that make the rest of their clause a supposition, not a statement (after the
word table, where `kalo` is `kalau`): "kalau konselor ke rumah, bayar gak?" supposes
a home visit and asks about the cost; it does not choose the visit."""

CONNECTIVES = frozenset({"tapi", "tetapi", "namun", "but"})
CLAUSE_WORDS = CONNECTIVES | {"apakah"}
"""Words that begin a new clause (after the word table, where `tp` is `tapi`); a
negation after `apakah` is inside a question, never a "no" of its own."""
_CLAUSE_MARKS = re.compile(r"[,;.!?:\n]+")
_TYPED_CLAUSE = re.compile(r"[^,;.!?:\n]+[,;.!?:\n]*")


def typed_clauses(text: str) -> tuple[str, ...]:
    """The text's clauses as typed, each with the punctuation that ends it ("bisa
    bahasa indonesia?", " my english not good"), so each can be read on its own."""
    return tuple(p for p in _TYPED_CLAUSE.findall(text) if any(c.isalnum() for c in p))


@dataclass(frozen=True, slots=True)
class Negations:
    """What the negations of an answer do: the content words they turn around, the
    negators that turn one around, and those said with nothing after them in their
    clause (a bare ``tidak`` answers "no"; the ``tidak`` of ``asal tidak disebar``
    only denies `disebar`)."""

    denied: frozenset[str] = frozenset()
    governing: frozenset[str] = frozenset()
    bare: frozenset[str] = frozenset()
    lacked: frozenset[str] = frozenset()  # what is said to be lacking ("tidak ada uang")

    def __or__(self, other: Negations) -> Negations:
        return Negations(
            self.denied | other.denied,
            self.governing | other.governing,
            self.bare | other.bare,
            self.lacked | other.lacked,
        )

    @property
    def only_governing(self) -> frozenset[str]:
        """The negators that only ever turn a word around, never said alone."""
        return self.governing - self.bare


SUBJECTS = frozenset("saya aku kami kita dia beliau mereka i we he she they".split())
"""Who a statement is about: a negation after one ("beta seng tau dia tulis apa") says
what they do not do, never a bare "no"."""


def negations(standard: tuple[str, ...], stop: frozenset[str] = frozenset()) -> Negations:
    """The content words a negation turns around, up to `SCOPE` after each one and never
    past the end of its clause (`standard` is one clause, or a whole answer read without
    its punctuation): ``bukan keluarga`` denies `keluarga`; ``tidak ada uang`` denies
    nothing; in ``iya setuju, asal tidak disebar`` only `disebar` is denied. A negator
    that opens its clause ("tidak jadi dulu") or ends it is a "no" of its own (`bare`).
    A negator before `ada`/`punya` with a word after them says what is lacking
    (`lacked`: "seng ada uang par bayar" lacks `uang`), not "no": it governs that word
    as it would a denied one; said with nothing after ("gak ada") it is a "no"."""
    found: set[str] = set()
    governing: set[str] = set()
    bare: set[str] = set()
    lacked: set[str] = set()
    left = 0
    negator = ""
    lacking = ""  # the negator of a "tidak ada" waiting for what is lacking
    opened = False  # a content word came before, in this clause
    for word in (*standard, ""):
        if left == SCOPE and negator and (word in CLAUSE_WORDS or word in NEGATORS or not word):
            bare.add(negator)  # nothing after it in its clause
        if lacking and (word in CLAUSE_WORDS or word in NEGATORS or not word):
            bare.add(lacking)  # "gak ada": nothing said lacking, a plain "no"
            lacking = ""
        if word in CLAUSE_WORDS or not word:
            left, opened = 0, False
        if word in NEGATORS:
            left, negator = SCOPE, word
            if not opened:
                bare.add(word)
        elif left == SCOPE and word in _LACKING:
            left = 0  # "tidak dapat bansos", "seng ada doi": what is lacking is the topic
            lacking = negator
        elif lacking and word not in stop:
            governing.add(lacking)
            bare.discard(lacking)  # "tidak ada uang" opening its clause is no "no" either
            lacked.add(word)
            lacking = ""
        elif left and word not in stop:
            found.add(word)
            if left == SCOPE:
                governing.add(negator)
            left -= 1
        opened = (
            opened
            or word in SUBJECTS
            or (bool(word) and word not in stop and word not in CONNECTIVES)
        )
    return Negations(frozenset(found), frozenset(governing), frozenset(bare), frozenset(lacked))


def in_scope(standard: tuple[str, ...], stop: frozenset[str] = frozenset()) -> frozenset[str]:
    """The content words a negation turns around (`negations`)."""
    return negations(standard, stop).denied


BOTH = frozenset("keduanya both either whichever terserah campur mixed".split())
"""Words that leave the choice to the bot or say it is all of them (after the word
table and `text.words`, where `dua-dua` and `dua2nya` become `keduanya`)."""
UNSURE = (
    frozenset("mungkin maybe probably perhaps bingung confused entah yakin sure juga also".split())
    | CONNECTIVES
)
"""Words that leave an answer open, add another to it or set one against another ("a
few weeks, maybe months", "mau konsultasi, tapi mau cerita dulu"): a message holding
one names its choices as alternatives, never an answer and its reason."""
EITHER = frozenset({"atau", "or"})


def both(standard: tuple[str, ...]) -> bool:
    """True when the words say both, either or whichever (``sama aja``, ``dua-dua``)."""
    if not BOTH.isdisjoint(standard):
        return True
    return any(a == "sama" and b == "saja" for a, b in zip(standard, standard[1:], strict=False))


def undecided(standard: tuple[str, ...], apart: bool) -> bool:
    """True when an answer names two choices (`apart`: each by a word of its own)
    and picks neither: ``hapus atau lihat``, ``telpon deng datang dua-dua``."""
    return apart and (both(standard) or not EITHER.isdisjoint(standard))


MEMO = 4096
"""The most typed words a lexicon keeps read (then it starts afresh)."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The word table compiled for lookups."""

    replace: dict[str, tuple[str, ...]]
    stop: frozenset[str]
    known: frozenset[str]  # the standard words the table reads local forms as
    short: AbbreviationIndex  # the local forms, for their vowel-less spellings
    light: frozenset[str] = frozenset()  # words that name no topic (flows.understanding.aboutness)
    light_keys: frozenset[str] = frozenset()  # their keys and the stop words' keys
    light_fragments: frozenset[str] = frozenset()  # what a word must hold to stem to one
    # Words read already (a typed form -> its standard words): a message is read by
    # several layers and clause by clause, and most words recur. Bounded (MEMO).
    memo: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def is_light(self, word: str) -> bool:
        """True when a word names no topic of its own: a `light` word of the table in any
        form (`memerlukan` is `perlu`), or a stop word's (`pertolongan` is `tolong`).
        Sastrawi only for a word that could stem to one."""
        if word in self.light or plain_key(word) in self.light_keys:
            return True
        if self.light_fragments.isdisjoint(inner(word)):
            return False
        return key(word) in self.light_keys

    def standard(self, text: str) -> tuple[str, ...]:
        """The text's words with local forms replaced (``beta pung`` -> ``saya punya``,
        ``mksh`` -> ``terima kasih`` when the table has ``makasih``)."""
        out: list[str] = []
        for part in text.split("?")[:-1]:
            # "bisa ganti jam gak? ada urusan": a `gak` before a question mark is a tag.
            said = self._read(part)
            out.extend(said[:-1] if len(said) > 2 and said[-1] in NEGATORS else said)
        return tuple(out) + self._read(text.rpartition("?")[2])

    def _read(self, text: str) -> tuple[str, ...]:
        out: list[str] = []
        for word in words(text):
            read = self.memo.get(word)
            if read is None:
                if len(self.memo) >= MEMO:
                    self.memo.clear()
                read = self.memo[word] = self._word(word)
            out.extend(read)
        return tuple(out)

    def _word(self, word: str) -> tuple[str, ...]:
        found = self.replace.get(word)
        if found is None and len(word) > 3 and _DOUBLED.search(word):
            # `bgtt`, `skrngg`; never `ttp` (tetap) read as `tp` (tapi)
            found = self.replace.get(_DOUBLED.sub(r"\1", word))
        if found is None and 3 <= len(word) <= 24 and word not in self.known:
            forms = {self.replace[f] for f in self.short.expand(word)}
            found = forms.pop() if len(forms) == 1 else None
        return found if found is not None else (word,)

    def clauses(self, text: str) -> tuple[tuple[str, ...], ...]:
        """The text's standard words clause by clause: split at punctuation (a comma, a
        full stop, a question mark) and before `tapi`, `apakah` (CLAUSE_WORDS)."""
        out: list[tuple[str, ...]] = []
        for piece in _CLAUSE_MARKS.split(text):
            clause: list[str] = []
            for word in self._read(piece):
                if word in CLAUSE_WORDS and clause:
                    out.append(tuple(clause))
                    clause = []
                clause.append(word)
            if clause:
                out.append(tuple(clause))
        return tuple(out)

    def negations(self, text: str) -> Negations:
        """What the negations of `text` turn around, clause by clause (`negations`)."""
        found = Negations()
        for clause in self.clauses(text):
            found = found | negations(clause, self.stop)
        return found

    def content(self, standard: tuple[str, ...]) -> tuple[str, ...]:
        """The words that carry meaning; all of them when every word is a stop word."""
        kept = tuple(w for w in standard if w not in self.stop)
        return kept or standard


@lru_cache(maxsize=64)
def lexicon(table: Words) -> Lexicon:
    """Compiles a word table once per table (tables are immutable)."""
    replace: dict[str, tuple[str, ...]] = {}
    for form, standard in table.replace:
        for word in words(form)[:1]:
            replace[word] = tuple(words(standard))
    stop = frozenset(w for s in table.stop for w in words(s))
    known = stop | {w for found in replace.values() for w in found}
    light = frozenset(
        w for s in table.light for form in words(s) for w in replace.get(form, (form,))
    )
    light_keys = frozenset(key(w) for w in light | {w for w in stop if len(w) >= 4})
    light_fragments = frozenset(f for k in light_keys if len(k) >= 4 for f in fragments(k))
    return Lexicon(
        replace, stop, known, AbbreviationIndex(replace), light, light_keys, light_fragments
    )


def keys(content: tuple[str, ...]) -> tuple[str, ...]:
    """Match keys of content words, in order, without repeats."""
    return tuple(dict.fromkeys(key(w) for w in content))
