"""Which FAQ topic a typed message asks about, if any (pure, no I/O).

The topics are read as choices (their example phrases; flows.faq.as_choices) with
the matcher's word table and scores, but more strictly: an FAQ answer is an aside
the family did not ask the question for, so it must be clear. A whole message
that is one of a topic's examples (after local forms are read) is taken; else the
best topic must score well and far ahead of the next. Where the bot asked for the
family's own words (a story, an address), only a short message that plainly asks
the service something is read at all: a story is never swallowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from flows.faq import Faq, FaqTopic, as_choices
from flows.model import Words
from flows.understanding.matcher import LONGEST, PLAIN, scores
from flows.understanding.reading import NEGATORS, QUESTION_WORDS, asks, lexicon, typed_clauses
from flows.understanding.text import words
from flows.understanding.typos import AbbreviationIndex, TypoIndex

TAKE = 0.55
"""The least score a topic needs at a question with choices."""
MARGIN = 0.2
"""How far ahead of the next topic it must be."""
EXTRA = 1
"""Words that carry meaning a message may hold beside a whole example of a topic..."""
QUESTION_EXTRA = 2
"""...or when it is a question."""
STATEMENT_TAKE = 0.8
"""The least score a topic needs for a message that asks nothing in its words ("sy tdk
punya uang utk bayar konsultasi", "hi kak, good morning"): a statement implies a question
only when the topic scores high and explains at least half of its words that mean
something (STATEMENT_SHARE), so that one word read by typo tolerance ("Tadi hujan deras
di Halong") never makes a remark a question."""
STATEMENT_SHARE = 0.5
FREE_TEXT_TAKE = 0.7
"""The least score where the bot asked for the family's own words."""
FREE_TEXT_WORDS = 12
"""A longer message where the bot asked for the family's own words is their answer."""
OPENERS = frozenset(
    "apakah apa ada bisa boleh bisakah kah is are do does can could will may".split()
)
"""First words of a question asked without a question mark (after the word table)."""
TAGS = frozenset({"kah", "kh"})
"""Words that make a question of a sentence, as typed ("ini mesin kah"); Ambonese `ka`
only at the end ("ale robot ka"), since it also means "to" ("pi ka kantor")."""


How = Literal["example", "words", "score", ""]
"""How a topic was read: the whole message is one of its examples, the message says one
of its examples whole or only its words (both `words`), or by a score alone."""


@dataclass(frozen=True, slots=True)
class FaqReading:
    topic: FaqTopic | None = None
    confidence: float = 0.0
    words: frozenset[str] = frozenset()  # the message's words the topic explains
    how: How = ""

    @property
    def strong(self) -> bool:
        """True when the topic explains the message by its own examples' words."""
        return self.how in ("example", "words")


NO_TOPIC = FaqReading()


@dataclass(frozen=True, slots=True)
class _Topics:
    """The topics prepared once: whole examples, and each topic's words."""

    exact: dict[str, FaqTopic]
    phrases: tuple[tuple[frozenset[str], int], ...]  # each example's words, and its topic
    vocabulary: tuple[frozenset[str], ...]  # per topic: the standard words of its examples
    owners: dict[str, frozenset[int]]  # a word -> the topics whose examples say it
    switching: frozenset[str]  # the words only language switches say ("inggris", "bahasa")
    typos: TypoIndex
    short: AbbreviationIndex


@lru_cache(maxsize=16)
def _topics(faq: Faq, table: Words) -> _Topics:
    lex = lexicon(table)
    exact: dict[str, FaqTopic] = {}
    vocabulary: list[frozenset[str]] = []
    examples: list[tuple[frozenset[str], int]] = []
    for i, topic in enumerate(faq.topics):
        said: set[str] = set()
        for _, phrases in topic.examples:
            for phrase in phrases:
                standard = lex.standard(phrase)
                exact.setdefault(" ".join(standard), topic)
                said.update(standard)
                examples.append((frozenset(standard), i))
        vocabulary.append(frozenset(said))
    owners: dict[str, set[int]] = {}
    for i, spoken in enumerate(vocabulary):
        for word in spoken:
            owners.setdefault(word, set()).add(i)
    known = list(owners)
    switches = {i for i, topic in enumerate(faq.topics) if topic.language is not None}
    return _Topics(
        exact,
        tuple(examples),
        tuple(vocabulary),
        {w: frozenset(o) for w, o in owners.items()},
        frozenset(w for w, o in owners.items() if o <= switches and w not in lex.stop),
        TypoIndex(known),
        AbbreviationIndex(known),
    )


_ANY = frozenset({"saja", "pun"})
_FINE = frozenset({"boleh", "bisa", "oke", "ok", "terserah", "fine"})


def _indifferent(standard: tuple[str, ...]) -> bool:
    """True for "any ... is fine": a question word, `saja`, then `boleh` or `bisa`
    ("jam berapa saja boleh", "kapan aja bisa") answers; it asks nothing."""
    return any(
        word in QUESTION_WORDS
        and standard[i + 1] in _ANY
        and not _FINE.isdisjoint(standard[i + 2 :])
        for i, word in enumerate(standard[:-2])
    )


def asks_service(text: str, standard: tuple[str, ...]) -> bool:
    """True when a message is plainly a question: a question mark, a question word,
    or a question's first word ("apakah ...", "is this ...")."""
    typed = words(text)
    if _indifferent(standard):
        return False
    if "?" in text or asks(standard) or not TAGS.isdisjoint(typed):
        return True
    return (bool(standard) and standard[0] in OPENERS) or typed[-1:] == ["ka"]


def _read_as(topics: _Topics, word: str) -> set[str]:
    """A typed word and the topics' words it may be a typo or short spelling of."""
    if len(word) > LONGEST:
        return {word}
    return {word, *topics.typos.near(word), *topics.short.expand(word)}


def _containing(
    topics: _Topics,
    standard: tuple[str, ...],
    stop: frozenset[str],
    extra: int,
    light: Callable[[str], bool] | None = None,
) -> tuple[int, frozenset[str]] | None:
    """The topic of the longest example the message says whole, with at most `extra`
    other words that carry meaning ("what is LK3 anyway?", "makasih ya udah bales"),
    `light` words aside in a question ("nanti bayar ka?"), and the words the example
    explains; None when none, or when two topics have
    examples that long."""
    said: set[str] = set()
    for word in standard:
        said |= _read_as(topics, word)
    best: dict[int, frozenset[str]] = {}
    union: dict[int, frozenset[str]] = {}  # all the topic's examples said whole
    for phrase, topic in topics.phrases:
        if phrase <= said:
            union[topic] = union.get(topic, frozenset()) | phrase
            if len(phrase) > len(best.get(topic, ())):
                best[topic] = phrase
    if not best:
        return None
    longest = max(len(p) for p in best.values())
    top = [t for t, p in best.items() if len(p) == longest]
    if len(top) != 1:
        return None
    # "makasih banyak kak" says "makasih kak" and "makasih banyak": the topic explains both
    phrase = union[top[0]]
    explained = frozenset(w for w in standard if _read_as(topics, w) & phrase)
    others = {
        w
        for w in standard
        if len(w) > 1 and w not in stop and w not in explained and not (light and light(w))
    }
    return (top[0], explained) if len(others) <= extra else None


def _covering(
    topics: _Topics,
    standard: tuple[str, ...],
    stop: frozenset[str],
    light: Callable[[str], bool] | None = None,
) -> tuple[int, frozenset[str]] | None:
    """The one topic whose examples' words explain the whole message ("slamat sore usi e",
    "ini bot kh?"): each word is one of the topic's (or a typo or vowel-less spelling of
    one), a stop word no other topic says, or a lone letter; and the topic's words."""
    found: set[int] | None = None
    explained: set[str] = set()
    skipped = False
    for word in standard:
        if len(word) == 1:
            continue
        owners = topics.owners.get(word)
        if owners is None:
            meant = [topics.owners[w] for w in _read_as(topics, word) - {word}]
            owners = frozenset().union(*meant) if meant else None
        if owners is None:
            if word in stop:
                continue
            if light and light(word):
                skipped = True
                continue  # "nanti bayar ka?": `nanti` names no topic
            return None
        if word in stop and len(owners) > 1:
            continue  # "kak", "ya": said by several topics, they decide nothing
        found = set(owners) if found is None else found & owners
        explained.add(word)
        if not found:
            return None
    if found is None or len(found) != 1:
        return None
    if skipped and explained <= stop:
        return None  # light words beside stop words alone ask nothing of a topic
    return found.pop(), frozenset(explained)


INTENSIFIERS = frozenset(
    {"banyak", "sekali", "sangat", "amat", "many", "much", "very", "so", "too", "really"}
)
"""Words that only say how much ("terima kasih *banyak*", "thanks *so much*"): they
name no topic of their own ("banyak sekali masalahnya" is no thanks)."""


def _named(
    topics: _Topics, explained: frozenset[str], stop: frozenset[str], light: Callable[[str], bool]
) -> list[str]:
    """The words of a message read by score that name something of the topic: not stop
    words several topics say (`kak`, `ya`), nor stop words that are light (`bisa`,
    `much`: "bisa minjem duit" names only `uang`), nor words that only say how much. A
    statement that names one is a remark, not a question (`aman` in "udah gitu aja,
    aman"); it implies a question when it names at least two of the topic's words
    ("suami sudah tahu"). A question that names none asks nothing of the topic ("how
    many minutes do I have?", "banyak sekali masalahnya, mulai dari mana?")."""
    return [
        w
        for w in explained
        if not (w in stop and (len(topics.owners.get(w, ())) > 1 or light(w)))
        and w not in INTENSIFIERS
    ]


def _share(standard: tuple[str, ...], explained: frozenset[str], stop: frozenset[str]) -> float:
    """The share of a message's words that mean something (not stop words, not lone
    letters; stop words a topic explains, such as "terima kasih", count) that are
    `explained`."""
    meaning = {w for w in standard if len(w) > 1 and (w not in stop or w in explained)}
    return len(explained & meaning) / len(meaning) if meaning else 0.0


def read_faq(text: str, faq: Faq, table: Words = PLAIN, *, free_text: bool = False) -> FaqReading:
    """The topic a message asks about, or NO_TOPIC; never raises. `free_text`: the bot
    asked for the family's own words, so only a short, plain question (or a whole example
    of a language switch) is read."""
    if not faq.topics:
        return NO_TOPIC
    standard = lexicon(table).standard(text)
    whole = _read(text, faq, table, free_text=free_text, standard=standard)
    if free_text:
        return whole
    if whole.topic is None or whole.how == "score":
        # A question asked in a clause of its own, beside a remark that read whole
        # makes it none or another topic by a score ("LK3 tu apa sa? beta dapa nomor
        # dari ibu RT" is no greeting).
        asked = _asked_clause(text, faq, table)
        if asked is not None and asked.topic != whole.topic:
            return asked
    if whole.topic is not None and whole.topic.language is None:
        return whole
    if _topics(faq, table).switching.isdisjoint(standard):
        return whole  # no word of a language switch: nothing to read clause by clause
    switch = _switch(text, faq, table)
    return whole if switch is None else switch


def _asked_clause(text: str, faq: Faq, table: Words) -> FaqReading | None:
    """The topic the questions of a message of several clauses ask, each read on its
    own by its examples' words ("LK3 tu apa sa? beta dapa nomor dari ibu RT"), or
    that its first clause says whole ("slamat pagi usi, beta Oma dari Batu Merah")."""
    parts = typed_clauses(text)
    if len(parts) < 2:
        return None
    lex = lexicon(table)
    found: list[FaqReading] = []
    for n, part in enumerate(parts):
        standard = lex.standard(part)
        asked = asks_service(part, standard)
        if not asked and n > 0:
            continue  # a statement's clause asks nothing
        reading = _read(part, faq, table, standard=standard, strong_only=True)
        if reading.topic is None or not reading.strong:
            continue
        # a statement opening with a greeting or thanks it says whole, before the rest
        said = {w for w in standard if w not in lex.stop}
        if asked or (reading.topic.language is None and reading.words >= said):
            found.append(reading)
    if not found or any(r.topic != found[0].topic for r in found):
        return None
    return found[0]


def _switch(text: str, faq: Faq, table: Words) -> FaqReading | None:
    """The language switch a message of several clauses asks, read clause by clause:
    the request and its reason name both languages ("bisa bahasa Indonesia? my English
    not good", "Indonesian please, my English is not so good"), so read whole it is
    read as either; read by clause, the request is a switch and the reason either the
    same switch ("seng mangarti bahasa inggris") or none. Clauses that ask different
    switches ask none."""
    parts = typed_clauses(text)
    if len(parts) < 2:
        return None
    lex = lexicon(table)
    switching = _topics(faq, table).switching
    # A clause that denies what it names is no switch to it ("jang inggris"), unless the
    # negation is part of what the topic reads ("seng mangarti bahasa inggris").
    found: list[FaqReading] = []
    for part in parts:
        standard = lex.standard(part)
        if switching.isdisjoint(standard):
            continue  # no word of a language switch
        reading = _read(part, faq, table, standard=standard, strong_only=True)
        if reading.topic is None or reading.topic.language is None or not reading.strong:
            continue
        if NEGATORS.isdisjoint(standard) or not NEGATORS.isdisjoint(reading.words):
            found.append(reading)
    if not found or any(r.topic != found[0].topic for r in found):
        return None  # "eh kok jadi inggris, balikin ke indo dong": no one switch asked
    return found[0]


def _read(
    text: str,
    faq: Faq,
    table: Words = PLAIN,
    *,
    free_text: bool = False,
    standard: tuple[str, ...] | None = None,
    strong_only: bool = False,
) -> FaqReading:
    """The topic `text` (its `standard` words, when read already) asks about, read
    whole (`read_faq`); `strong_only`: by its examples' words, never by a score."""
    lex = lexicon(table)
    if standard is None:
        standard = lex.standard(text)
    if not standard:
        return NO_TOPIC
    topics = _topics(faq, table)
    exact = topics.exact.get(" ".join(standard))
    question = asks_service(text, standard)
    if exact is not None and (question or not free_text or exact.language is not None):
        # Where the family's own words were asked for, "terima kasih" is their answer.
        return FaqReading(exact, 1.0, frozenset(standard), "example")
    if free_text and (len(words(text)) > FREE_TEXT_WORDS or not question):
        return NO_TOPIC
    found = _containing(
        topics,
        standard,
        lex.stop,
        QUESTION_EXTRA if question else EXTRA,
        lex.is_light if question else None,
    )
    if found is None and question:
        found = _covering(topics, standard, lex.stop, lex.is_light)
    if found is not None:
        return FaqReading(faq.topics[found[0]], 0.9, found[1], "words")
    if strong_only:
        return NO_TOPIC
    best = scores(text, as_choices(faq), table)
    ranked = sorted(range(len(best)), key=lambda i: -best[i])
    top = best[ranked[0]]
    runner = best[ranked[1]] if len(ranked) > 1 else 0.0
    take = FREE_TEXT_TAKE if free_text else TAKE if question else STATEMENT_TAKE
    if top >= take and top - runner >= MARGIN:
        own = topics.vocabulary[ranked[0]]
        explained = frozenset(w for w in standard if _read_as(topics, w) & own)
        named = _named(topics, explained, lex.stop, lex.is_light)
        if not named or (
            not question
            and (_share(standard, explained, lex.stop) < STATEMENT_SHARE or len(named) == 1)
        ):
            # "bnyk mslh kk sy bingung": `banyak` and `kak` are no thanks of their own;
            # "how many minutes?" asks nothing of thanks
            return NO_TOPIC
        return FaqReading(faq.topics[ranked[0]], round(min(top, 1.0), 3), explained, "score")
    return NO_TOPIC
