"""Which reading of a typed message a question with choices takes: the choice it
answers, or the FAQ topic it asks about (pure, no I/O).

Why an order of its own: a family at "Apakah Anda setuju ...?" who types "bayar
tidak?" asks about the cost; read choice-first, its `tidak` would record a refusal.
Likewise "makasih kak" must not end the chat, nor "bahasa indonesia" open the
language question. So the choice matcher reads first, and then an FAQ topic that
explains the message strongly (a whole example of it, or words that are all its own)
is weighed against the choice: the topic is taken when it explains every word the
choice took and more, and that more is either words the choice does not know
("bayar" at the consent question) or the rest of a whole example of the topic
where the choice's phrase was said only in part ("makasih" against "terima kasih,
sudah"). A choice named exactly (its number, label or synonym alone), a choice with a
word of its own ("iya setuju, tapi bayar gak?"), and a question the choices offer
themselves ("alamat kantor LK3 di mana?" at "Alamat & jam layanan") stay choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from flows.faq import Faq
from flows.model import Choice, Words
from flows.understanding.corrections import corrected
from flows.understanding.faq import NO_TOPIC, FaqReading, read_faq
from flows.understanding.hedges import unsure
from flows.understanding.matcher import NOTHING, PLAIN, Reading, read_answer
from flows.understanding.reading import asks, lexicon, typed_clauses
from flows.understanding.support import Support, answered_alone, support

ALTERNATIVES = frozenset({"atau", "or"})
"""Words that set answers side by side: said beside a doubt, none of them is chosen."""
EXACT = 1.0
"""The confidence of a choice read from its exact form (a number, a label, a synonym)."""


@dataclass(frozen=True, slots=True)
class Understood:
    """What a typed message is at a question: an answer (`reading`, which may be a
    close call) or a question of the family's own (`faq`); never both."""

    reading: Reading = NOTHING
    faq: FaqReading = NO_TOPIC


def read_message(
    text: str,
    choices: Sequence[Choice],
    faq: Faq,
    table: Words = PLAIN,
    *,
    yes_no: bool = False,
) -> Understood:
    """The choice `text` picks among `choices`, or else the FAQ topic it asks about."""
    parts = corrected(text)
    if parts is not None:
        taken_back = read_answer(parts[0], choices, table, yes_no=yes_no)
        meant = read_answer(parts[1], choices, table, yes_no=yes_no)
        if "match" == taken_back.kind == meant.kind and taken_back.choice != meant.choice:
            return Understood(meant)  # "5, eh maksud saya 4": what follows the correction
    lex = lexicon(table)
    clauses = typed_clauses(text)
    if unsure(lex.standard(text)):  # a doubt in a clause is a doubt in the whole
        doubts = [c for c in clauses if unsure(lex.standard(c))]
        if not doubts:
            doubts = list(clauses)  # "mungkin iya, mungkin tidak": the doubt spans clauses
        # "hmm gak yakin": no answer yet. What is decided after the doubt still is an
        # answer ("gak yakin sih, tapi ya udah setuju"), and so is an estimate before it
        # ("kira-kira dua minggu, not sure"), but not alternatives ("ya atau tidak").
        last = max(n for n, c in enumerate(clauses) if c in doubts)
        after = "".join(clauses[last + 1 :])
        if after:
            return read_message(after, choices, faq, table, yes_no=yes_no)
        before = "".join(c for c in clauses if c not in doubts)
        if not before:
            return Understood()
        found = read_message(before, choices, faq, table, yes_no=yes_no)
        if found.reading.kind == "match" and ALTERNATIVES.isdisjoint(lex.standard(before)):
            return found
        return Understood(faq=found.faq)
    reading = read_answer(text, choices, table, yes_no=yes_no)
    if reading.kind == "match" and reading.confidence >= EXACT:
        return Understood(reading)
    asked = read_faq(text, faq, table)
    if asked.topic is None:
        return Understood(reading)
    if reading.kind == "none":
        owner = _owner(tuple(choices), asked, faq, table)
        if owner is not None:
            return Understood(Reading("match", owner, confidence=round(asked.confidence * 0.9, 3)))
        return Understood(faq=asked)
    candidates = [c for c in (reading.choice, reading.other) if c is not None]
    assert asked.topic is not None
    owners = [c for c in candidates if asked.topic.id in _owned(tuple(choices), c, faq, table)]
    if reading.kind == "close" and len(owners) == 1 and asked.how != "score":
        # "pake bahasa indonesia sa, beta seng tau inggris": both languages are named,
        # the switch asked first settles which ("Bahasa Indonesia").
        return Understood(Reading("match", owners[0], confidence=reading.confidence))
    if owners:
        return Understood(reading)  # the question offers what is asked
    if len(clauses) > 1:
        alone = answered_alone(text, choices, candidates, table)
        if any(words and not words & asked.words for words in alone):
            return Understood(reading)  # "batal sa, paitua su tau": an answer, and a reason
        said = [support(text, choices, c, table) for c in candidates]
        if asked.topic.language is not None and not any(alone):
            if not any(s.chosen & asked.words for s in said):
                # "can we do this in Indonesian instead? my husband wants to read it
                # too": a switch asked in a clause of its own, the choice's word in a remark.
                return Understood(faq=asked)
    else:
        said = [support(text, choices, c, table) for c in candidates]
    question = "?" in text or asks(lex.standard(text), text)
    if _incidental(asked, said, lex.is_light, question) or all(_outweighs(asked, s) for s in said):
        return Understood(faq=asked)
    return Understood(reading)


def _owned(choices: tuple[Choice, ...], choice: Choice, faq: Faq, table: Words) -> frozenset[str]:
    """The FAQ topics a choice offers itself, and the language switches it is."""
    number = choices.index(choice)
    return offered_topics(choices, faq, table)[number] | switches(choices, faq, table)[number]


@lru_cache(maxsize=512)
def offered_topics(
    choices: tuple[Choice, ...], faq: Faq, table: Words
) -> tuple[frozenset[str], ...]:
    """Per choice, the FAQ topics it offers itself: those its phrases that ask a question
    are strongly read as ("kantornya di mana" at "Alamat & jam layanan" offers `address`)."""
    lex = lexicon(table)
    out: list[frozenset[str]] = []
    for choice in choices:
        found: set[str] = set()
        for phrase in choice.label.all() + choice.synonyms + choice.all_examples():
            reading = read_faq(phrase, faq, table)
            if reading.topic is not None and reading.strong and asks(lex.standard(phrase), phrase):
                found.add(reading.topic.id)
        out.append(frozenset(found))
    return tuple(out)


def _owner(choices: tuple[Choice, ...], asked: FaqReading, faq: Faq, table: Words) -> Choice | None:
    """The one choice that offers the topic asked about, if any: "buka sabtu juga gak?"
    at "Alamat & jam layanan" is that choice, not an aside (its own question phrases
    ask it); "bahasa biasa sa, jang inggris" at the language question is "Bahasa
    Indonesia" (a language switch a choice's phrase is read as). Thanks and greetings
    are never a choice's, however a choice's phrase reads."""
    assert asked.topic is not None
    offered = offered_topics(choices, faq, table)
    owners = [c for c, topics in zip(choices, offered, strict=True) if asked.topic.id in topics]
    if not owners and asked.topic.language is not None:
        owners = [
            c
            for c, topics in zip(choices, switches(choices, faq, table), strict=True)
            if asked.topic.id in topics
        ]
    return owners[0] if len(owners) == 1 else None


@lru_cache(maxsize=512)
def switches(choices: tuple[Choice, ...], faq: Faq, table: Words) -> tuple[frozenset[str], ...]:
    """Per choice, the language switches (FAQ topics with a language) one of its phrases
    is strongly read as ("bahasa inggris" at "English")."""
    out: list[frozenset[str]] = []
    for choice in choices:
        found: set[str] = set()
        for phrase in choice.label.all() + choice.synonyms + choice.all_examples():
            reading = read_faq(phrase, faq, table)
            if reading.topic is not None and reading.topic.language and reading.strong:
                found.add(reading.topic.id)
        out.append(frozenset(found))
    return tuple(out)


def _outweighs(asked: FaqReading, said: Support) -> bool:
    """True when the topic explains every word the choice took, and more: words the
    choice does not know, or the rest of a whole example against a choice none of whose
    phrases was said whole ("terima kasih sudah mau mendengar" against a choice that
    knows only `mendengar`).
    A topic read from a score alone (a question with words of its own) weighs only
    against a choice none of whose phrases was said whole, or that shares a single
    word with a question the topic explains at length."""
    explained = asked.words & said.said
    if not said.chosen <= explained:
        return False
    unknown = bool(explained - said.chosen)
    if not asked.strong:
        # One word in common ("lk3"), against a question the topic explains at length.
        lone = len(said.chosen) <= 1 and len(explained) >= 3
        return unknown and (not said.whole or lone)
    return unknown or not said.whole


TOPIC_SHARE = 0.5
"""The least share of a message's meaningful words a topic must explain to outweigh
the choices whose words are incidental to it..."""
CHOICE_RATIO = 2
"""...explaining at least this many times as many of them as the choices do."""


def _incidental(
    asked: FaqReading, said: Sequence[Support], light: Callable[[str], bool], question: bool
) -> bool:
    """True when the words a choice took are incidental to a message a topic explains:
    the topic explains at least half of its meaningful words, and at least twice as
    many as the choice does. "Opa tidak punya uang, harus bayar?" names Opa at "Siapa
    yang paling terdampak?" but asks about the cost; "kantor tutup jam istirahat, bisa
    datang jam makan siang?" names the office at "Bagaimana Anda ingin bertemu?" but
    asks about its hours. Counted over the words the message says (question words
    aside), so a long message is weighed by what it is mostly about; a close call
    counts the words of both its choices ("kantor atau telpon, sama aja" stays one).
    A topic read by a score alone counts only its words that name something: light
    words ("tahu", "keluarga") are no question of their own, and in a statement neither
    are the words the choice knows too ("keep aja, aman" keeps the booking)."""
    meaningful = said[0].said if said else frozenset()
    if not meaningful:
        return False
    chosen = frozenset[str]().union(*(s.chosen for s in said))
    # A topic read by a score alone is asked only by words that name something: "tahu"
    # and "keluarga" name no topic ("saya ingin tahu layanan untuk keluarga").
    named = {w for w in asked.words & meaningful if asked.strong or not light(w)}
    if not asked.strong and not question:
        # "keep aja, aman": in a statement, a word both know is no evidence for the topic
        named -= chosen
    topic = len(named) / len(meaningful)
    choice = len(chosen) / len(meaningful)
    return topic >= TOPIC_SHARE and topic >= CHOICE_RATIO * choice
