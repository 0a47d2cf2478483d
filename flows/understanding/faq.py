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

from dataclasses import dataclass
from functools import lru_cache

from flows.faq import Faq, FaqTopic, as_choices
from flows.model import Words
from flows.understanding.matcher import PLAIN, scores
from flows.understanding.reading import asks, lexicon
from flows.understanding.text import words

TAKE = 0.55
"""The least score a topic needs at a question with choices."""
MARGIN = 0.2
"""How far ahead of the next topic it must be."""
FREE_TEXT_TAKE = 0.7
"""The least score where the bot asked for the family's own words."""
FREE_TEXT_WORDS = 12
"""A longer message where the bot asked for the family's own words is their answer."""
OPENERS = frozenset(
    "apakah apa ada bisa boleh bisakah kah is are do does can could will may".split()
)
"""First words of a question asked without a question mark (after the word table)."""


@dataclass(frozen=True, slots=True)
class FaqReading:
    topic: FaqTopic | None = None
    confidence: float = 0.0


NO_TOPIC = FaqReading()


@lru_cache(maxsize=16)
def _exact(faq: Faq, table: Words) -> dict[str, FaqTopic]:
    lex = lexicon(table)
    found: dict[str, FaqTopic] = {}
    for topic in faq.topics:
        for _, phrases in topic.examples:
            for phrase in phrases:
                found.setdefault(" ".join(lex.standard(phrase)), topic)
    return found


def asks_service(text: str, standard: tuple[str, ...]) -> bool:
    """True when a message is plainly a question: a question mark, a question word,
    or a question's first word ("apakah ...", "is this ...")."""
    return "?" in text or asks(standard) or (bool(standard) and standard[0] in OPENERS)


def read_faq(
    text: str, faq: Faq, table: Words = PLAIN, *, free_text: bool = False
) -> FaqReading:
    """The topic a message asks about, or NO_TOPIC; never raises. `free_text`: the bot
    asked for the family's own words, so only a short, plain question is read."""
    if not faq.topics:
        return NO_TOPIC
    standard = lexicon(table).standard(text)
    if not standard:
        return NO_TOPIC
    exact = _exact(faq, table).get(" ".join(standard))
    if exact is not None:
        return FaqReading(exact, 1.0)
    if free_text and (len(words(text)) > FREE_TEXT_WORDS or not asks_service(text, standard)):
        return NO_TOPIC
    best = scores(text, as_choices(faq), table)
    ranked = sorted(range(len(best)), key=lambda i: -best[i])
    top = best[ranked[0]]
    runner = best[ranked[1]] if len(ranked) > 1 else 0.0
    if top >= (FREE_TEXT_TAKE if free_text else TAKE) and top - runner >= MARGIN:
        return FaqReading(faq.topics[ranked[0]], round(min(top, 1.0), 3))
    return NO_TOPIC
