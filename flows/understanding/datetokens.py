"""Typed text as day-and-time tokens for `dates.py`: numbers (``dua puluh lima`` 25),
numeric forms (``25/12``, ``10.30``, ``10am``, ``8des``), day and month names, and the
marker words around them; typos and vowel-less spellings read through the shared
typo indexes, local forms through the admins' word table. Also the reading of a time
of day (``jam 1 siang`` 13:00) and of a negation that turns a day down."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Any

from flows.model import Words
from flows.understanding.datewords import (
    FEASTS,
    MARKERS,
    MONTHS,
    NEGATED_WORDS,
    ORDINALS_EN,
    PART_HOURS,
    TEENS,
    TENS_EN,
    UNITS,
    WEEKDAYS,
)
from flows.understanding.reading import lexicon
from flows.understanding.text import fold, squeeze
from flows.understanding.typos import AbbreviationIndex, TypoIndex

LONGEST = 600
"""Only this many characters of a message are read (a day is said in a few words)."""

_TOKEN = re.compile(
    r"(?P<dm>\b\d{1,2}\s*[/-]\s*\d{1,2}(?:\s*[/-]\s*\d{2,4})?\b)"
    r"|(?P<hm>\b\d{1,2}\s*[:.]\s*\d{2}\b)"
    r"|(?P<word>[a-z0-9]+)"
)
_SUFFIXED = re.compile(r"^(\d{1,2})(am|pm|st|nd|rd|th|an)$")
_GLUED = re.compile(r"^(\d{1,2})([a-z]{3,})$")
_PREFIXED = re.compile(r"^(tgl|jam|jm|pk|pkl)(\d{1,2})$")
_REDUPLICATED = re.compile(r"^([a-z]{3,})2$")
_NEVER_CORRECTED = frozenset({"salam", "tinggal", "minggir", "senang", "semua", "sampai", "sabar"})
"""Words one typo away from a day or time word that are words of their own."""


@dataclass(slots=True)
class Tok:
    kind: str  # num, ord, dm, hm, wd, mo, tag, word
    value: Any  # int, str or a tuple of ints, by kind
    word: str
    used: bool = False


_VOCABULARY = (
    (set(WEEKDAYS) | set(MONTHS) | set(UNITS) | set(TEENS) | set(TENS_EN) | set(MARKERS))
    | set(FEASTS)
    | {"puluh", "belas", "lain", "saja"}
)
_NAMES = {w for w in set(WEEKDAYS) | set(MONTHS) | set(MARKERS) | set(FEASTS) if len(w) >= 4}
"""The words a typo or a vowel-less spelling is read as (never number words: `kapan`
is not `lapan`)."""
_TYPOS = TypoIndex(w for w in _NAMES if len(w) >= 5)
_SHORT = AbbreviationIndex(_NAMES)


def _meaning(word: str) -> object:
    return WEEKDAYS.get(word, MONTHS.get(word, MARKERS.get(word)))


@lru_cache(maxsize=4096)
def _known(word: str) -> str | None:
    """The vocabulary word a typed word is, allowing one typo or dropped vowels."""
    if word in _VOCABULARY:
        return word
    if word in _NEVER_CORRECTED or not word.isalpha():
        return None
    single = re.sub(r"([a-z])\1", r"\1", word)
    if single in _VOCABULARY:
        return single  # `rabuu`, `natall`
    for found in (_TYPOS.near(word), _SHORT.expand(word) if len(word) >= 3 else ()):
        meanings = {(w in WEEKDAYS, w in MONTHS, _meaning(w)) for w in found}
        if len(meanings) == 1:
            return found[0]  # `kmis` is kamis or kemis: Thursday either way
    return None


def _words(text: str, table: Words) -> list[tuple[str, str]]:
    """(kind, word) pieces of the text: `dm` and `hm` numeric forms, or plain words
    read through the admins' word table (``aja`` -> ``saja``, ``seng`` -> ``tidak``)."""
    replace = lexicon(table).replace
    out: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(fold(text[:LONGEST])):
        kind = match.lastgroup or "word"
        raw = match.group(0)
        if kind != "word":
            out.append((kind, raw))
            continue
        redup = _REDUPLICATED.match(raw)
        word = squeeze(redup.group(1) if redup else raw)
        prefixed = _PREFIXED.match(word)
        if prefixed:
            out += [("word", prefixed.group(1)), ("word", prefixed.group(2))]
            continue
        glued = _GLUED.match(word)
        if glued and (_known(glued.group(2)) or "") in MONTHS:
            out += [("word", glued.group(1)), ("word", _known(glued.group(2)) or "")]
            continue  # `8des`
        if word in _VOCABULARY or word.isdigit() or _SUFFIXED.match(word):
            out.append(("word", word))
            continue
        standard = replace.get(word)
        if standard is not None and not (set(standard) & {"tidak"} and word in ("no",)):
            out += [("word", w) for w in standard]
            continue
        out.append(("word", _known(word) or word))
    return out


def tokens(text: str, table: Words) -> list[Tok]:
    toks: list[Tok] = []
    for kind, word in _words(text, table):
        if kind == "dm":
            parts = [int(p) for p in re.split(r"\s*[/-]\s*", word)]
            toks.append(Tok("dm", tuple(parts), word))
        elif kind == "hm":
            hour, minute = (int(p) for p in re.split(r"\s*[:.]\s*", word))
            toks.append(Tok("hm", (hour, minute), word))
        elif word.isdigit():
            toks.append(Tok("num", int(word), word) if len(word) <= 4 else Tok("word", 0, word))
        elif (suffixed := _SUFFIXED.match(word)) is not None:
            number, suffix = int(suffixed.group(1)), suffixed.group(2)
            if suffix in ("am", "pm"):
                toks += [Tok("num", number, word), Tok("tag", suffix, suffix)]
            elif suffix == "an":
                toks.append(Tok("num", number, word))  # "jam 11an": about 11
            else:
                toks.append(Tok("ord", number, word))
        elif word in WEEKDAYS and word not in ("minggu", "mgg"):
            toks.append(Tok("wd", WEEKDAYS[word], word))
        elif word in MONTHS:
            toks.append(Tok("mo", MONTHS[word], word))
        elif word in ORDINALS_EN:
            toks.append(Tok("ordw", ORDINALS_EN[word], word))
        elif word in MARKERS:
            toks.append(Tok("tag", MARKERS[word], word))
        else:
            toks.append(Tok("word", word, word))
    return _numbers(toks)


def _numbers(toks: list[Tok]) -> list[Tok]:
    """Number words joined into numbers: "dua puluh lima" 25, "twenty five" 25."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        word = toks[i].word
        value: int | None = None
        used = 1
        if word in UNITS:
            value = UNITS[word]
            nxt = toks[i + 1].word if i + 1 < len(toks) else ""
            if nxt == "belas":
                value, used = 10 + value, 2
            elif nxt == "puluh":
                value, used = 10 * value, 2
                after = toks[i + 2].word if i + 2 < len(toks) else ""
                if after in UNITS:
                    value, used = value + UNITS[after], 3
        elif word in TEENS:
            value = TEENS[word]
        elif word in TENS_EN:
            value = TENS_EN[word]
            after = toks[i + 1].word if i + 1 < len(toks) else ""
            if after in UNITS:
                value, used = value + UNITS[after], 2
            elif after in ORDINALS_EN and ORDINALS_EN[after] < 10:
                out.append(Tok("ordw", value + ORDINALS_EN[after], word))
                i += 2
                continue
        if value is None:
            out.append(toks[i])
        else:
            out.append(Tok("numw", value, word))
        i += used
    return out


def is_(tok: Tok | None, kind: str, value: object = None) -> bool:
    return tok is not None and tok.kind == kind and (value is None or tok.value == value)


def tok_at(toks: list[Tok], i: int) -> Tok | None:
    return toks[i] if 0 <= i < len(toks) else None


def num_of(tok: Tok | None) -> int | None:
    if tok is not None and tok.kind in ("num", "numw"):
        return int(tok.value)
    return None


def is_denied(toks: list[Tok], i: int) -> bool:
    """True when a negation turns the day at `i` down: "jangan senin", "senin gak bisa"."""
    for j in (i - 1, i - 2):
        if is_(tok_at(toks, j), "tag", "neg"):
            return True
        if tok_at(toks, j) is not None and toks[j].kind in ("wd", "mo", "dm", "num"):
            break  # "jangan senin, selasa aja": the negation is senin's
    for j in (i + 1, i + 2):
        if is_(tok_at(toks, j), "tag", "neg"):
            after = tok_at(toks, j + 1)
            return after is not None and after.word in NEGATED_WORDS
    return False


def read_clock(toks: list[Tok]) -> tuple[time | None, str]:
    """The time of day named (``jam 1 siang`` 13:00, ``10.30``) and the part of the day."""
    part = ""
    for i, tok in enumerate(toks):
        if is_(tok, "tag") and str(tok.value).startswith("part:") and not tok.used:
            if is_(tok_at(toks, i - 1), "tag", "greet"):
                continue
            name = str(tok.value)[5:]
            if is_(tok_at(toks, i - 1), "tag", "early") and name == "sore":
                name = "siang"  # "early afternoon"
            if is_(tok_at(toks, i - 1), "tag", "before") and name == "siang":
                name = "pagi"
            if is_(tok_at(toks, i - 2), "tag", "before") and tok.word == "siang":
                name = "pagi"  # "sebelum makan siang"
            part = part or name
    for i, tok in enumerate(toks):
        hour: int | None = None
        minute = 0
        if tok.kind == "hm" and not tok.used:
            hour, minute = tok.value
            if minute % 5 or minute > 59:
                hour = None
        elif (
            is_(tok, "tag", "clock")
            or is_(tok, "tag", "half")
            or (tok.word == "at" and num_of(tok_at(toks, i + 1)) is not None)
        ):
            j = i + 1
            half = is_(tok, "tag", "half")
            if is_(tok_at(toks, j), "tag", "half"):
                half, j = True, j + 1
            nxt = tok_at(toks, j)
            number = num_of(nxt)
            if nxt is not None and nxt.kind == "hm":
                hour, minute = nxt.value
                nxt.used = True
            elif number is not None and number <= 24:
                hour = number
                if half:
                    hour, minute = hour - 1, 30
                elif (
                    is_(tok_at(toks, j + 1), "tag", "past")
                    and num_of(tok_at(toks, j + 2)) is not None
                ):
                    minute = num_of(tok_at(toks, j + 2)) or 0
                elif is_(tok_at(toks, j + 1), "num") and (num_of(tok_at(toks, j + 1)) or 0) in (
                    15,
                    30,
                    45,
                ):
                    minute = num_of(tok_at(toks, j + 1)) or 0
                elif (
                    is_(tok_at(toks, j + 1), "tag", "to")
                    and num_of(tok_at(toks, j + 2)) is not None
                ):
                    hour, minute = hour - 1, 60 - (num_of(tok_at(toks, j + 2)) or 0)
                if is_(tok, "tag", "clock") and is_(tok_at(toks, i - 1), "num"):
                    hour = None  # "2 jam lagi": a duration, not a time
            j += 1
        elif (number := num_of(tok)) is not None and number <= 12:
            after = tok_at(toks, i + 1)
            if after is not None and is_(after, "tag") and after.value in ("am", "pm", "oclock"):
                hour = number
            elif (
                after is not None
                and is_(after, "tag")
                and str(after.value).startswith("part:")
                and not is_(tok_at(toks, i - 1), "tag", "date")
            ):
                hour = number
        if hour is None or not 0 <= hour <= 24 or not 0 <= minute <= 59:
            continue
        where = part_after(toks, i)
        if where == "am" or where == "pagi":
            hour = 0 if hour == 12 and where == "am" else hour
        elif where in ("pm", "sore", "malam") and hour < 12:
            hour += 12
        elif where == "siang" and hour < 10:
            hour += 12
        elif where == "" and 1 <= hour <= 6:
            hour += 12  # office time: "jam 2" is 14:00
        if hour >= 24:
            continue
        if is_(tok_at(toks, i - 1), "tag", "after") or is_(tok_at(toks, i - 2), "tag", "after"):
            # "setelah pukul dua", "after 2 pm": the part of the day after that time
            later = hour + 1
            return None, next((p for p, (a, b) in PART_HOURS.items() if a <= later < b), part)
        return time(hour, minute), ""
    return None, part


def part_after(toks: list[Tok], i: int) -> str:
    """The part of day (or am/pm) said just after a time, or just before it."""
    for j in (i + 1, i + 2, i + 3, i - 1):
        tok = tok_at(toks, j)
        if tok is None or tok.kind != "tag":
            continue
        value = str(tok.value)
        if value in ("am", "pm"):
            return value
        if value.startswith("part:") and not is_(tok_at(toks, j - 1), "tag", "greet"):
            return value[5:]
    return ""
