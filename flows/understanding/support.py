"""What of a typed message a choice accounts for, word by word (pure, no I/O).

Why a module of its own: the choice matcher scores a message; the layers that weigh a
choice against an FAQ topic (flows.understanding.layers) need to know which of the
message's words the choice knows, in the whole message (`support`) and clause by
clause (`answered_alone`: "batal sa, paitua su tau" is an answer, "batal sa", and a
reason). Both read the words as the matcher does (its prepared index of the question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flows.model import Choice, Words
from flows.understanding.matcher import PLAIN, _index, _word_keys
from flows.understanding.reading import QUESTION_WORDS, typed_clauses, untagged


@dataclass(frozen=True, slots=True)
class Support:
    """What of a typed answer one choice accounts for, word by word (standard words
    that carry meaning, question words aside), so that it can be weighed against an
    FAQ topic that explains the same message (flows.understanding.layers)."""

    said: frozenset[str]  # the answer's words
    chosen: frozenset[str]  # those the choice knows
    whole: bool  # one of the choice's phrases is said whole


def support(text: str, choices: Sequence[Choice], choice: Choice, table: Words = PLAIN) -> Support:
    """The words of `text` that `choice` (one of `choices`) knows."""
    index = _index(tuple(choices), table)
    standard = untagged(index.lexicon.standard(text), index.lexicon.stop)
    content = index.lexicon.content(standard)
    fuzzy = not set(content) <= index.lexicon.stop
    number = next(i for i, c in enumerate(choices) if c == choice)
    mine = index.vocabulary[number]
    said: set[str] = set()
    chosen: set[str] = set()
    keys_said: set[str] = set()
    for word in content:
        found = _word_keys(index, word, fuzzy)
        if word in QUESTION_WORDS or (found and QUESTION_WORDS.issuperset(found)):
            continue  # "what's" is `what`: it asks, it names nothing
        said.add(word)
        keys_said.update(found)
        if mine.intersection(found):
            chosen.add(word)
    whole = any(p.choice == number and p.keys and p.keys <= keys_said for p in index.phrases)
    return Support(frozenset(said), frozenset(chosen), whole)


def answered_alone(
    text: str, choices: Sequence[Choice], candidates: Sequence[Choice], table: Words = PLAIN
) -> list[frozenset[str]]:
    """Per candidate, the words of the first clause of `text` it explains whole ("batal
    sa" in "batal sa, paitua su tau"), or none: such a clause answers on its own, and
    the other clauses give a reason or an aside. Each clause is read once for all the
    candidates."""
    index = _index(tuple(choices), table)
    lex = index.lexicon
    mine = [index.vocabulary[choices.index(c)] for c in candidates]
    out: list[frozenset[str]] = [frozenset()] * len(candidates)
    for part in typed_clauses(text):
        content = lex.content(untagged(lex.standard(part), lex.stop))
        fuzzy = not set(content) <= lex.stop
        said: dict[str, list[str]] = {}
        for word in content:
            found = _word_keys(index, word, fuzzy)
            if word not in QUESTION_WORDS and not (found and QUESTION_WORDS.issuperset(found)):
                said[word] = found
        for n, vocabulary in enumerate(mine):
            if said and not out[n] and all(vocabulary.intersection(k) for k in said.values()):
                out[n] = frozenset(said)
    return out
