"""Which choice a typed answer means, with a confidence: exact, by position, or by words.

Order: the exact rules of old (a number, a label in any language, a synonym, the
value), then the same after local forms are read as standard words (``beta`` is
``saya``) and against the choice's example phrases, then a position in words
(``yang kedua``) or a rating named among words (``5, really helpful``), then
weighted word overlap. Overlap is scored per phrase (label, synonym or example) as
the share of the phrase's weight the answer covers, times how much of the answer the
choice explains; a word found in fewer choices weighs more, and a word a negation
denies counts only for phrases said with one. A clear winner is taken; two close
ones, or two choices named with "atau" or "dua-dua" ("both"), are a close call for the
family to settle; anything else is not understood. A question of the family's own
(a question word, or a "?" without a request) picks a choice only by one of the
choice's own question phrases or a strong score, and words nobody knows count
against a choice it merely mentions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from flows.matching import match_choice, match_yes_no
from flows.model import Choice, Words
from flows.understanding.aboutness import Role, Word, aboutness, factor
from flows.understanding.numbers import LAST, named_number, position
from flows.understanding.reading import (
    CONDITIONALS,
    NEGATORS,
    QUESTION_WORDS,
    REQUEST_WORDS,
    Lexicon,
    asks,
    both,
    keys,
    lexicon,
    negated,
    negations,
    undecided,
    untagged,
)
from flows.understanding.remarks import Said, paused_remark
from flows.understanding.settle import leading_position, longer_phrase, said_first
from flows.understanding.stems import fragments, inner, key, plain_key
from flows.understanding.text import words
from flows.understanding.typos import AbbreviationIndex, TypoIndex

TAKE = 0.5
"""The least score a choice needs to be taken."""
MARGIN = 0.25
"""How far ahead of the runner-up a choice must be to be taken."""
CLOSE = 0.4
"""The least score of both choices in a close call."""
MIN_PREFIX = 5
LONGEST = 24
"""A typed word longer than this is no word to stem, split or expand (`hahahahaha...`)."""
WEAK_SCORE = 0.3
"""The most a choice scores on common words alone beside a word nobody knows."""
QUESTION_TAKE = 0.8
"""The least score to take a choice for an answer that asks a question of its own,
unless one of the choice's phrases is itself such a question."""
EXCLUSIVE = 0.6
"""What a choice scores at least when it alone knows the answer's words."""
UNKNOWN_WEIGHT = 1.0
"""What each word the question does not know weighs against a choice the family's own
question merely mentions (the least a known word weighs is 1)."""
NEGATION_MISMATCH = 0.4
"""What a phrase's share is worth when only one of it and the answer is negated."""

Kind = Literal["match", "close", "none"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What a typed answer means: a choice (`match`), two candidates (`close`), or `none`."""

    kind: Kind
    choice: Choice | None = None
    other: Choice | None = None
    confidence: float = 0.0


NOTHING = Reading("none")
PLAIN = Words()
"""No word table: words are read as typed."""


@dataclass(frozen=True, slots=True)
class _Phrase:
    choice: int
    keys: frozenset[str]
    weight: float
    negated: bool
    asks: bool  # the phrase is itself a question ("alamat kantor di mana")


@dataclass(frozen=True, slots=True)
class _Index:
    """A question's choices prepared once: exact forms, phrases, word weights, typos."""

    lexicon: Lexicon
    exact: dict[str, int]
    phrases: tuple[_Phrase, ...]
    by_key: dict[str, tuple[int, ...]]  # key -> phrase numbers
    weight: dict[str, float]
    vocabulary: tuple[frozenset[str], ...]  # per choice: the keys of all its phrases
    polar: frozenset[str]  # keys said with a negation for one choice and without for another
    common: float  # a key weighing less is said by many of the choices
    words: dict[str, str]  # a content word of some phrase -> its key
    fragments: frozenset[str]  # what a typed word must contain to stem to a known key
    typos: TypoIndex
    short: AbbreviationIndex  # the phrases' content words by their consonants
    questions: frozenset[int]  # the choices one of whose phrases asks a question
    named: tuple[frozenset[str], ...] = ()  # per choice: the keys of its label and synonyms


def _phrases(choice: Choice) -> tuple[str, ...]:
    return choice.label.all() + choice.synonyms + choice.all_examples()


@lru_cache(maxsize=512)
def _index(choices: tuple[Choice, ...], table: Words) -> _Index:
    lex = lexicon(table)
    exact: dict[str, int] = {}
    raw: list[tuple[int, tuple[str, ...], bool, bool]] = []
    words: dict[str, str] = {}
    questions: set[int] = set()
    named: list[set[str]] = [set() for _ in choices]
    for i, choice in enumerate(choices):
        naming = len(choice.label.all()) + len(choice.synonyms)
        for n, text in enumerate(_phrases(choice)):
            standard = lex.standard(text)
            if not standard:
                continue
            if n < naming:
                named[i].update(keys(lex.content(standard)))
            question = asks(standard, text)
            if question:
                questions.add(i)
            exact.setdefault(" ".join(standard), i)
            content = lex.content(standard)
            for word in content:
                words.setdefault(word, key(word))
            raw.append((i, keys(content), negated(standard, lex.stop), question))
    holders: dict[str, set[int]] = {}
    for i, phrase_keys, _, _ in raw:
        for k in phrase_keys:
            holders.setdefault(k, set()).add(i)
    total = max(len(choices), 1)
    weight = {k: 1.0 + math.log(total / len(owners)) for k, owners in holders.items()}
    phrases: list[_Phrase] = []
    by_key: dict[str, list[int]] = {}
    for i, phrase_keys, negative, question in raw:
        number = len(phrases)
        total_weight = sum(weight[k] for k in set(phrase_keys))
        phrases.append(_Phrase(i, frozenset(phrase_keys), total_weight, negative, question))
        for k in set(phrase_keys):
            by_key.setdefault(k, []).append(number)
    said_as: dict[str, set[tuple[int, bool]]] = {}
    for i, phrase_keys, negative, _ in raw:
        for k in phrase_keys:
            said_as.setdefault(k, set()).add((i, negative))
    polar = frozenset(
        k
        for k, uses in said_as.items()
        if any(n and any(j != i and not m for j, m in uses) for i, n in uses)
    )
    vocabulary = tuple(
        frozenset(k for j, phrase_keys, _, _ in raw if j == i for k in phrase_keys)
        for i in range(len(choices))
    )
    return _Index(
        lex,
        exact,
        tuple(phrases),
        {k: tuple(v) for k, v in by_key.items()},
        weight,
        vocabulary,
        polar,
        1.0 + math.log(total / 2.5),
        words,
        frozenset(f for k in by_key for f in fragments(k)),
        TypoIndex(list(words) + list(by_key)),
        AbbreviationIndex(words),
        frozenset(questions),
        tuple(frozenset(n) for n in named),
    )


def _answer_keys(
    index: _Index,
    content: tuple[str, ...],
    fuzzy: bool = True,
    denied: frozenset[str] = frozenset(),
) -> tuple[set[str], int, set[str]]:
    """The answer's words the question knows, how many it does not, and the known keys
    of the `denied` words (those a negation turns around)."""
    found: set[str] = set()
    unknown = 0
    turned: set[str] = set()
    for word in content:
        known = _word_keys(index, word, fuzzy)
        found.update(known)
        if word in denied:
            turned.update(known)
        unknown += not known and not word.isdigit()
    return found, unknown, turned


def _word_keys(index: _Index, word: str, fuzzy: bool = True) -> list[str]:
    """The known keys one typed word stands for: its own, or (`fuzzy`) those of the word
    it is a typo, a vowel-less spelling or a joining of; none for a word nobody knows."""
    k = index.words.get(word) or _key(index, word)
    if k in index.by_key:
        return [k]
    near = index.typos.near(word) or index.typos.near(k) or _prefixed(index, word) if fuzzy else ()
    known = [index.words.get(other, other) for other in near]
    if not near and fuzzy and len(word) <= LONGEST:
        # A vowel-less spelling (`ptgs`, `ditlpn`) read only when it is not ambiguous.
        meant = {index.words[w] for w in index.short.expand(word)}
        known = list(meant) if len(meant) == 1 else []
    if not known and fuzzy and len(word) <= LONGEST:
        known = _joined(index, word)
    return [k for k in known if k in index.by_key]


_STUCK_ON = frozenset({"di", "ke", "k", "d"})
"""Prepositions typed onto the next word: `dikantor`, `krumah`."""


def _known(index: _Index, part: str) -> str | None:
    found = index.words.get(part) or plain_key(part)
    if found in index.by_key:
        return found
    meant = {index.words[w] for w in index.short.expand(part)} if len(part) >= 3 else set()
    return meant.pop() if len(meant) == 1 else None


def _joined(index: _Index, word: str) -> list[str]:
    """The known words a typed word joins (`tunarungu`, `dikantor`, `krmh`), when only
    one way of cutting it gives known words."""
    found: set[tuple[str, ...]] = set()
    for cut in range(1, len(word) - 2):
        left, right = word[:cut], word[cut:]
        second = _known(index, right)
        if second is None:
            continue
        if left in _STUCK_ON:
            found.add((second,))
        elif cut >= 3 and (first := _known(index, left)) is not None:
            found.add((first, second))
    return list(found.pop()) if len(found) == 1 else []


def _key(index: _Index, word: str) -> str:
    """A typed word's key; Sastrawi only for a word that could stem to a known key."""
    if len(word) > LONGEST or index.fragments.isdisjoint(inner(word)):
        return plain_key(word)
    return key(word)


def _prefixed(index: _Index, word: str) -> tuple[str, ...]:
    """A known word of 5+ letters that a longer typed word begins with (`alcoholic`)."""
    for cut in range(1, 4):
        if len(word) - cut < MIN_PREFIX:
            break
        if word[:-cut] in index.words:
            return (word[:-cut],)
    return ()


def scores(text: str, choices: Sequence[Choice], table: Words = PLAIN) -> list[float]:
    """Each choice's word-overlap score in [0, 1] (for tests and the evaluation)."""
    index = _index(tuple(choices), table)
    standard = index.lexicon.standard(text)
    return _scores(index, standard, len(choices)).best


@dataclass(frozen=True, slots=True)
class _Scored:
    best: list[float]  # per choice
    asking: frozenset[int]  # the choices whose best phrase is itself a question
    said: frozenset[str]  # the answer's keys the question knows
    longest: dict[int, frozenset[str]]  # per choice: its longest phrase said whole


def _scores(index: _Index, standard: tuple[str, ...], count: int, text: str = "") -> _Scored:
    standard = untagged(standard, index.lexicon.stop)
    content = index.lexicon.content(standard)
    # An answer of stop words only ("it is me") is matched as it is, never by its typos.
    fuzzy = not set(content) <= index.lexicon.stop
    stop = index.lexicon.stop
    negs = index.lexicon.negations(text) if text else negations(standard, stop)
    said, unknown, turned = _answer_keys(index, content, fuzzy, negs.denied)
    governing = {k for w in negs.only_governing for k in _word_keys(index, w, False)}
    lacked = {k for w in negs.lacked for k in _word_keys(index, w, False)}
    covered: dict[int, float] = {}
    for k in said:
        for number in index.by_key[k]:
            phrase = index.phrases[number]
            if k in turned and not phrase.negated:
                continue  # "bukan keluarga" says nothing for "Keluarga"
            if k in governing and not phrase.keys & (turned | lacked):
                # the `tidak` of "asal tidak disebar" is no "Tidak" of its own, nor that
                # of "seng ada uang" (unless the phrase says what is lacking too)
                continue
            covered[number] = covered.get(number, 0.0) + index.weight[k]
    best = [0.0] * count
    asking: set[int] = set()
    whole: set[int] = set()  # choices one of whose phrases of two words or more is all said
    longest: dict[int, frozenset[str]] = {}
    for number, matched in covered.items():
        phrase = index.phrases[number]
        share = matched / phrase.weight if phrase.weight else 0.0
        polar = phrase.keys & said & index.polar
        if polar and phrase.negated != bool(polar & turned):
            # "tidak setuju" is not "setuju", where one choice says each; a negation in
            # another clause ("iya setuju, asal tidak disebar") turns nothing around.
            share *= NEGATION_MISMATCH
        if share >= 1.0 and len(phrase.keys) > 1:
            whole.add(phrase.choice)
            if len(phrase.keys) > len(longest.get(phrase.choice, ())):
                longest[phrase.choice] = phrase.keys
        if share > best[phrase.choice] or (share == best[phrase.choice] and phrase.asks):
            best[phrase.choice] = share
            if phrase.asks:
                asking.add(phrase.choice)
            else:
                asking.discard(phrase.choice)
    # A choice that explains more of what was said is the likelier one: "laki mabok
    # tarus" is about drinking more than about the husband.
    said_weight = sum(index.weight[k] for k in said)
    question = asks(standard, text)
    owners = [i for i, vocabulary in enumerate(index.vocabulary) if said & vocabulary]
    if (
        len(owners) == 1
        and unknown < len(said)
        and (len(said) > 1 or said & index.named[owners[0]])
    ):
        # Every word the question knows points to one choice ("beta pi kantor sa" at
        # "Datang ke kantor LK3"), though it says only part of a long label; one word
        # only an example knows ("baca" of "sudah baca, setuju") is too little.
        best[owners[0]] = max(best[owners[0]], EXCLUSIVE)
    for i, score in enumerate(best):
        if score:
            unexplained = 0.0
            if question and i not in index.questions and i not in whole:
                # A question of the family's own that mentions a choice's word is not
                # about the choice ("apakah konselornya sudah terlatih?" at "Bicara
                # dengan konselor"): the words nobody knows count against it.
                unexplained = UNKNOWN_WEIGHT * unknown
            share = sum(index.weight[k] for k in said & index.vocabulary[i]) / (
                said_weight + unexplained
            )
            best[i] = score * (0.5 + 0.5 * share)
            strongest = max(index.weight[k] for k in said & index.vocabulary[i])
            if unknown and strongest < index.common:
                # Only words many choices share, beside words the question does not know
                # ("laki suka tampeleng"): the unknown word may be the one that matters.
                best[i] = min(best[i], WEAK_SCORE)
    return _Scored(best, frozenset(asking), frozenset(said), longest)


POLITE_IF = REQUEST_WORDS | {"possible", "perlu"}
"""Words that make a conditional a polite formula ("kalau bisa telepon saja")."""
_Heard = tuple[tuple[tuple[str, frozenset[str], bool, bool], ...], ...]


def _heard(index: _Index, text: str) -> _Heard:
    """The message's meaningful words clause by clause (question words aside), each
    with the known keys it stands for, whether they were read through a typo, and
    whether it is supposed (after `kalau`, `if` in its clause) rather than said."""
    lex = index.lexicon
    clauses = lex.clauses(text)
    fuzzy = not {w for c in clauses for w in c} <= lex.stop
    out = []
    for clause in clauses:
        found = []
        supposed = False
        said = untagged(clause, lex.stop)
        # a negation that only turns a word around is no choice's word of its own:
        # the "gak" of "suami sy gk tau" is no "tidak"
        turning = negations(said, lex.stop).only_governing
        for n, word in enumerate(said):
            if word in CONDITIONALS:
                # "kalau bisa", "if possible": a polite request, not a supposition
                supposed = n + 1 < len(said) and said[n + 1] not in POLITE_IF
            if word in lex.stop or word in QUESTION_WORDS or word in CONDITIONALS:
                continue
            exact = index.words.get(word) or _key(index, word)
            known = [exact] if exact in index.by_key else _word_keys(index, word, fuzzy)
            if known and QUESTION_WORDS.issuperset(known):
                continue
            if word in turning:
                known = []
            found.append((word, frozenset(known), exact not in index.by_key, supposed))
        out.append(tuple(found))
    return tuple(out)


def _role(index: _Index, number: int, word: str, known: frozenset[str], supposed: bool) -> Role:
    """What a word of the message is to choice `number` (aboutness.Role); a choice's word
    in a supposition ("kalau ke rumah, bayar gak?") picks nothing and speaks against nothing."""
    if known & index.vocabulary[number]:
        return "supposed" if supposed else "chosen"
    if known:
        return "question"
    if word.isdigit() or word in NEGATORS or word in REQUEST_WORDS or index.lexicon.is_light(word):
        return "light"
    if named_number((word,)) is not None:
        return "light"
    return "foreign"


def _about(
    index: _Index, heard: _Heard, best: list[float], leaders: tuple[int, int | None], question: bool
) -> list[float]:
    """The `leaders`' scores scaled by how much the message is about each (aboutness)."""
    if not any(best):
        return best
    out = list(best)
    for i in leaders:
        if i is not None and (score := best[i]):
            clauses = _clauses(index, i, heard)
            out[i] = score * factor(aboutness(clauses, asks=question))
    return out


def _clauses(index: _Index, i: int, heard: _Heard) -> list[list[Word]]:
    """The message's meaningful words clause by clause, each with its role for choice `i`."""
    return [
        [Word(w, _role(index, i, w, k, supposed), fuzzy) for w, k, fuzzy, supposed in clause]
        for clause in heard
    ]


def _apart(index: _Index, said: frozenset[str], first: int, second: int) -> bool:
    """True when each of two choices has a word of the answer the other lacks."""
    one, two = index.vocabulary[first], index.vocabulary[second]
    return bool(said & one - two) and bool(said & two - one)


def understand(text: str, choices: Sequence[Choice], table: Words = PLAIN) -> Reading:
    """What a typed answer means among `choices`; never raises."""
    if not choices:
        return NOTHING
    exact = match_choice(text, choices)
    if exact is not None:
        return Reading("match", exact, confidence=1.0)
    index = _index(tuple(choices), table)
    standard = index.lexicon.standard(text)
    if not standard:
        return NOTHING
    found = index.exact.get(" ".join(standard))
    if found is not None:
        return Reading("match", choices[found], confidence=1.0)
    place = position(words(text))
    if place is None:
        place = position(standard, index.lexicon.stop)
    if place is not None:
        if place == LAST:
            place = len(choices)
        if 1 <= place <= len(choices):
            return Reading("match", choices[place - 1], confidence=1.0)
        return NOTHING
    leading = _leading_place(index, text, standard, len(choices))
    if leading is not None:
        return Reading("match", choices[leading], confidence=0.9)
    number = named_number(standard)
    rated = [c for c in choices if c.value == str(number)]
    if rated:
        # A rating named among other words: the number is what the family chose.
        return Reading("match", rated[0], confidence=0.9)
    scored = _scores(index, standard, len(choices), text)
    # The choices compete on their word scores; how much the message is about the
    # leaders (aboutness) then decides whether it answers at all.
    best = scored.best
    ranked = sorted(range(len(choices)), key=lambda i: -best[i])
    first = ranked[0]
    second = ranked[1] if len(ranked) > 1 else None
    lead = best[first] - (best[second] if second is not None else 0.0)
    heard = _heard(index, text) if any(best) else ()
    about = _about(index, heard, best, (first, second), asks(standard, text))
    top = about[first]
    runner = about[second] if second is not None else 0.0
    if asks(standard, text) and first not in scored.asking and top < QUESTION_TAKE:
        # "datanya disimpan di mana?" asks about the data; it does not pick a choice.
        return NOTHING
    apart = second is not None and runner > 0 and _apart(index, scored.said, first, second)
    if second is not None and undecided(standard, apart):
        # "hapus atau lihat, sama aja": both named, neither chosen.
        return Reading("close", choices[first], choices[second], round(top * 0.5, 3))
    if both(standard):
        return NOTHING
    taken = top >= TAKE and lead >= MARGIN
    if not taken and second is not None and top >= TAKE and runner >= TAKE:
        longer = longer_phrase(scored.longest, first, second)
        if longer is not None:
            first, top, taken = longer, about[longer], True
    if not taken and second is not None and runner >= CLOSE:
        said_first = _said_first(index, text, standard, heard, (first, second))
        if said_first is not None:
            first, top, taken = said_first, about[said_first], True
    if not taken and (second is None or min(top, runner) < CLOSE):
        return NOTHING
    if paused_remark(_said(index, standard, first)):
        return NOTHING  # "bos gue nelpon, bentar": a pause and a remark answer nothing
    if taken:
        return Reading("match", choices[first], confidence=round(min(top, 1.0) * 0.9, 3))
    assert second is not None
    return Reading("close", choices[first], choices[second], round(top * 0.5, 3))


def _leading_place(index: _Index, text: str, standard: tuple[str, ...], count: int) -> int | None:
    """The choice a first clause names by its position alone (settle.leading_position),
    when no other choice is named beside it."""
    place = leading_position(text, index.lexicon, count)
    if place is None:
        return None
    best = _scores(index, standard, count, text).best
    return None if any(s for i, s in enumerate(best) if i != place - 1) else place - 1


def _said_first(
    index: _Index, text: str, standard: tuple[str, ...], heard: _Heard, leaders: tuple[int, int]
) -> int | None:
    """Of two close choices, the one said first in a clause of its own (settle.said_first)."""
    clauses = [_clauses(index, i, heard) for i in leaders]
    return said_first(text, standard, index.lexicon, leaders, clauses)


def _said(index: _Index, standard: tuple[str, ...], number: int) -> Said:
    """What the answer says as far as choice `number` is concerned (remarks.Said):
    its meaningful words in order (question words aside), those the choice knows,
    those any choice knows, and whether a phrase of several words of it is said whole."""
    content = index.lexicon.content(untagged(standard, index.lexicon.stop))
    fuzzy = not set(content) <= index.lexicon.stop
    mine = index.vocabulary[number]
    said: list[str] = []
    chosen: set[str] = set()
    known: set[str] = set()
    keys_said: set[str] = set()
    for word in dict.fromkeys(content):
        found = _word_keys(index, word, fuzzy)
        if word in QUESTION_WORDS or (found and QUESTION_WORDS.issuperset(found)):
            continue
        said.append(word)
        keys_said.update(found)
        if found:
            known.add(word)
        if mine.intersection(found):
            chosen.add(word)
    whole = any(
        p.choice == number and len(p.keys) > 1 and p.keys <= keys_said for p in index.phrases
    )
    return Said(tuple(said), frozenset(chosen), frozenset(known), whole)


def read_answer(
    text: str, choices: Sequence[Choice], table: Words = PLAIN, *, yes_no: bool = False
) -> Reading:
    """What a typed answer means at a question: a yes/no question (`yes_no`, choices
    yes, no and any extra) is read by its words only; a choice question by `understand`."""
    if not yes_no or len(choices) < 2:
        return understand(text, choices, table)
    exact = match_choice(text, choices)
    if exact is not None:
        return Reading("match", exact, confidence=1.0)
    standard = " ".join(lexicon(table).standard(text))
    for said in (text, standard):
        meant = match_yes_no(said)
        if meant is not None:
            return Reading("match", choices[0 if meant else 1], confidence=1.0)
    return NOTHING
