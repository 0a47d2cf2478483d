"""Days and times in words: what "besok", "rabu depan", "25 des", "tgl 3", "jam 1 siang"
or "sore aja" mean, given today (pure: no clock, no I/O).

Why a reader of its own: a day is not a choice among words. "rabu" means the
Wednesday on the list, "25 desember" a day that may be on no list at all, and the
bot must know which day was meant to say honestly why it is not offered. The text
goes through the same folding as every typed answer (`text.fold`, the admins' word
table for Ambonese and Jakarta forms) and the same typo indexes (`typos`).

Conventions (the ones a helpful operator in Ambon would use):
- a day name is the next such day after today ("senin" on a Monday is next week's,
  with today as the other possibility); "rabu depan" / "next wednesday" is the
  Wednesday of next week; "rabu ini" the one of this week;
- a day of the month alone ("tgl 3") is the next such date, today included;
  with a month and no year, the coming one, unless it passed less than two months ago;
- an hour without a part of the day is office time: "jam 2" is 14:00;
- "minggu" is Sunday, except beside "depan", "ini" or "lagi" (a week).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache

from flows.model import Words
from flows.understanding.datewords import (
    EVE_WORDS,
    PART_HOURS,
    FEASTS,
    LATER_PHRASES,
    MARKERS,
    MONTHS,
    NEGATED_WORDS,
    ORDINALS_EN,
    SHORT_MONTHS,
    SOONEST_PHRASES,
    SOONEST_TIME_PHRASES,
    TEENS,
    TENS_EN,
    UNITS,
    WEEKDAYS,
)
from flows.understanding.reading import lexicon
from flows.understanding.text import fold, squeeze
from flows.understanding.typos import AbbreviationIndex, TypoIndex

__all__ = ["When", "read_when"]

PAST_GRACE = timedelta(days=60)
"""A day and month without a year that passed less than this long ago means this
year's (a mistake to answer honestly), else next year's."""
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


@dataclass(frozen=True, slots=True)
class When:
    """What a message says about a day and a time; empty when it says nothing."""

    day: date | None = None
    also: date | None = None  # a second day it may mean: "senin" on a Monday, "selasa atau rabu"
    clock: time | None = None
    part: str = ""  # pagi | siang | sore | malam
    week: date | None = None  # the Monday of a week named without a day ("minggu depan")
    later: bool = False  # other or later dates, without naming one ("yang lain": weak)
    weak: bool = False  # only a vague "another one" or "any": a named choice may say more
    soonest: bool = False  # any day is fine, or the earliest
    earliest_time: bool = False  # "paling pagi": the first time of the day
    denied: date | None = None  # a day said not to suit ("jangan senin")

    def __bool__(self) -> bool:
        return bool(
            self.day
            or self.clock
            or self.part
            or self.week
            or self.later
            or self.soonest
            or self.earliest_time
            or self.denied
        )


@dataclass(slots=True)
class _Tok:
    kind: str  # num, ord, dm, hm, wd, mo, tag, word
    value: object
    word: str
    used: bool = False


_VOCABULARY = (
    set(WEEKDAYS) | set(MONTHS) | set(UNITS) | set(TEENS) | set(TENS_EN) | set(MARKERS)
) | set(FEASTS) | {"puluh", "belas", "lain", "saja"}
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


def _tokens(text: str, table: Words) -> list[_Tok]:
    toks: list[_Tok] = []
    for kind, word in _words(text, table):
        if kind == "dm":
            parts = [int(p) for p in re.split(r"\s*[/-]\s*", word)]
            toks.append(_Tok("dm", tuple(parts), word))
        elif kind == "hm":
            hour, minute = (int(p) for p in re.split(r"\s*[:.]\s*", word))
            toks.append(_Tok("hm", (hour, minute), word))
        elif word.isdigit():
            toks.append(_Tok("num", int(word), word) if len(word) <= 4 else _Tok("word", 0, word))
        elif (suffixed := _SUFFIXED.match(word)) is not None:
            number, suffix = int(suffixed.group(1)), suffixed.group(2)
            if suffix in ("am", "pm"):
                toks += [_Tok("num", number, word), _Tok("tag", suffix, suffix)]
            elif suffix == "an":
                toks.append(_Tok("num", number, word))  # "jam 11an": about 11
            else:
                toks.append(_Tok("ord", number, word))
        elif word in WEEKDAYS and word not in ("minggu", "mgg"):
            toks.append(_Tok("wd", WEEKDAYS[word], word))
        elif word in MONTHS:
            toks.append(_Tok("mo", MONTHS[word], word))
        elif word in ORDINALS_EN:
            toks.append(_Tok("ordw", ORDINALS_EN[word], word))
        elif word in MARKERS:
            toks.append(_Tok("tag", MARKERS[word], word))
        else:
            toks.append(_Tok("word", word, word))
    return _numbers(toks)


def _numbers(toks: list[_Tok]) -> list[_Tok]:
    """Number words joined into numbers: "dua puluh lima" 25, "twenty five" 25."""
    out: list[_Tok] = []
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
                out.append(_Tok("ordw", value + ORDINALS_EN[after], word))
                i += 2
                continue
        if value is None:
            out.append(toks[i])
        else:
            out.append(_Tok("numw", value, word))
        i += used
    return out


def _is(tok: _Tok | None, kind: str, value: object = None) -> bool:
    return tok is not None and tok.kind == kind and (value is None or tok.value == value)


def _at(toks: list[_Tok], i: int) -> _Tok | None:
    return toks[i] if 0 <= i < len(toks) else None


def _number(tok: _Tok | None) -> int | None:
    if tok is not None and tok.kind in ("num", "numw"):
        return int(tok.value)  # type: ignore[call-overload]
    return None


def _month_day(today: date, day: int, month: int, year: int | None = None) -> date | None:
    if year is not None:
        year = year + 2000 if year < 100 else year
        try:
            return date(year, month, day)
        except ValueError:
            return None
    try:
        found = date(today.year, month, day)
    except ValueError:
        try:
            found = date(today.year + 1, month, day)
        except ValueError:
            return None
    if found < today - PAST_GRACE:
        try:
            found = date(today.year + 1, month, day)
        except ValueError:
            return None
    return found


def _next_day_of_month(today: date, day: int) -> date | None:
    """The next date on the `day`th of a month, today included."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= today:
            return found
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _has_phrase(said: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in said for p in phrases)


def read_when(text: str, today: date, table: Words = Words()) -> When:
    """What `text` says about a day and a time, read on `today` (office time)."""
    toks = _tokens(text, table)
    if not toks:
        return When()
    canonical = {"date": "tanggal", "day": "hari"}
    said = " " + " ".join(canonical.get(str(t.value), t.word) for t in toks) + " "
    days: list[tuple[date, bool, date | None]] = []  # (day, denied, other meaning)
    explicit: list[date] = []  # days named by their date, which say more than a day name
    feasts: list[date] = []  # "natal": a date unless another is named ("sebelum Natal")
    week: date | None = None
    week_words = {"next": 1, "this": 0}

    # a week: "minggu depan", "next week", "pekan ini", "dua minggu lagi"
    week_shift: int | None = None
    for i, tok in enumerate(toks):
        if not _is(tok, "tag") or tok.value not in ("week?", "week"):
            continue
        before, after = _at(toks, i - 1), _at(toks, i + 1)
        if tok.value == "week?" and _is(before, "tag", "day"):
            toks[i] = _Tok("wd", 6, tok.word)  # "hari minggu (ini)": Sunday
        elif _is(after, "tag") and after is not None and after.value in week_words:
            week_shift = week_words[str(after.value)]
            tok.used = after.used = True
        elif _is(before, "tag") and before is not None and before.value in week_words:
            week_shift = week_words[str(before.value)]
            tok.used = before.used = True
        elif _is(after, "tag", "again") and _number(before) is not None:
            count = _number(before) or 0
            days.append((today + timedelta(days=7 * count), False, None))
            tok.used = after.used = True
            if before is not None:
                before.used = True
        elif tok.value == "week?" and not _is(before, "tag", "end"):
            # "minggu" alone, or "hari minggu": Sunday
            toks[i] = _Tok("wd", 6, tok.word)
        else:
            tok.used = True
    if week_shift is not None:
        week = _monday(today) + timedelta(days=7 * week_shift)

    # dates: 25/12, 25 desember, desember 25, tgl 3, the 10th, tanggal tiga
    for i, tok in enumerate(toks):
        found: date | None = None
        if tok.kind == "dm":
            parts = tok.value
            assert isinstance(parts, tuple)
            if len(parts) == 3:
                found = _month_day(today, parts[0], parts[1], parts[2])
            elif 1 <= parts[1] <= 12:
                found = _month_day(today, parts[0], parts[1])
            tok.used = True
        elif tok.kind == "mo":
            before, after = _at(toks, i - 1), _at(toks, i + 1)
            day_before = _number(before)
            if day_before is None and before is not None and before.kind in ("ord", "ordw"):
                day_before = int(before.value)  # type: ignore[call-overload]
            if _is(before, "word", "of") and _at(toks, i - 2) is not None:
                two = _at(toks, i - 2)
                if two is not None and two.kind in ("ord", "ordw", "num", "numw"):
                    day_before, before = int(two.value), two  # type: ignore[call-overload]
            day_after = _number(after)
            if day_after is None and after is not None and after.kind in ("ord", "ordw"):
                day_after = int(after.value)  # type: ignore[call-overload]
            year_tok = _at(toks, i + 1) if day_before is not None else _at(toks, i + 2)
            year = _number(year_tok)
            year = year if year is not None and year >= 2000 else None
            if day_before is not None and 1 <= day_before <= 31 and before is not None:
                found = _month_day(today, day_before, int(tok.value), year)  # type: ignore[call-overload]
                before.used = tok.used = True
            elif (
                day_after is not None
                and 1 <= day_after <= 31
                and after is not None
                and not _is(_at(toks, i + 2), "tag", "clock")
                and not _is(_at(toks, i - 1), "tag", "clock")
            ):
                found = _month_day(today, day_after, int(tok.value), year)  # type: ignore[call-overload]
                after.used = tok.used = True
            if year is not None and year_tok is not None:
                year_tok.used = True
        elif _is(tok, "tag", "date") or (
            tok.kind == "word" and tok.word == "the" and _at(toks, i + 1) is not None
        ):
            after = _at(toks, i + 1)
            number = _number(after)
            if number is None and after is not None and after.kind in ("ord", "ordw"):
                number = int(after.value)  # type: ignore[call-overload]
            if (
                number is not None
                and after is not None
                and not _is(_at(toks, i + 2), "mo")
                and (tok.kind == "tag" or after.kind in ("ord", "ordw"))
            ):
                found = _next_day_of_month(today, number)
                after.used = tok.used = True
        elif tok.kind == "ord" and not tok.used and not _is(_at(toks, i + 1), "mo"):
            found = _next_day_of_month(today, int(tok.value))  # type: ignore[call-overload]
            tok.used = True
        elif tok.kind == "wd" and (number := _number(_at(toks, i + 1))) is not None:
            after = _at(toks, i + 2)
            if not _is(after, "mo") and not (
                after is not None and _is(after, "tag") and str(after.value).startswith("part:")
            ):
                found = _next_day_of_month(today, number)  # "jumat 18", "rb 16"
                toks[i + 1].used = True
        elif tok.word in FEASTS:
            month, day_of_month = FEASTS[tok.word]
            found = _month_day(today, day_of_month, month)
            eve = _at(toks, i + 1)
            if found is not None and (
                (eve is not None and eve.word == "eve")
                or (_at(toks, i - 1) is not None and toks[i - 1].word in EVE_WORDS)
            ):
                found -= timedelta(days=1)
                if _at(toks, i - 1) is not None:
                    toks[i - 1].used = True
            if found is not None:
                feasts.append(found)
            continue
        if found is not None:
            explicit.append(found)

    # days of the week: "rabu", "rabu depan", "hari kamis ini", "next friday"
    for i, tok in enumerate(toks):
        if tok.kind != "wd" or tok.used:
            continue
        weekday = int(tok.value)  # type: ignore[call-overload]
        near = [_at(toks, i + 1), _at(toks, i - 1), _at(toks, i + 2)]
        shift: int | None = week_shift
        for other in near:
            if _is(other, "tag", "next"):
                shift = 1
            elif _is(other, "tag", "this") and shift is None:
                shift = 0
        if shift is not None:
            found = _monday(today) + timedelta(days=7 * shift + weekday)
            other_day = None
            if found < today:
                found += timedelta(days=7)
        else:
            ahead = (weekday - today.weekday()) % 7
            found = today + timedelta(days=ahead or 7)
            other_day = today if ahead == 0 else None
        days.append((found, _denied(toks, i), other_day))
        tok.used = True
    if not any(t.kind == "wd" for t in toks) and days == [] and week is None:
        for i, tok in enumerate(toks):
            if _is(tok, "tag", "weekend"):
                days.append((today + timedelta(days=(5 - today.weekday()) % 7), False, None))

    # relative days: besok, lusa, hari ini, 3 hari lagi
    for i, tok in enumerate(toks):
        if _is(tok, "tag") and str(tok.value).startswith("rel:"):
            offset = int(str(tok.value)[4:])
            if _is(_at(toks, i + 1), "word", "lusa") or (
                tok.word == "besok" and _is(_at(toks, i + 1), "tag", "rel:2")
            ):
                continue
            days.append((today + timedelta(days=offset), _denied(toks, i), None))
        elif _is(tok, "tag", "this") and _is(_at(toks, i - 1), "tag", "day"):
            days.append((today, _denied(toks, i - 1), None))
        elif _is(tok, "tag", "this") and any(
            t is not None and str(t.value).startswith("part:")
            for t in (_at(toks, i - 1), _at(toks, i + 1))
        ):
            days.append((today, False, None))  # "sore ini", "this afternoon", "nanti siang"
        elif (
            _is(tok, "tag", "day")
            and _is(_at(toks, i + 1), "tag", "again")
            and _number(_at(toks, i - 1)) is not None
        ):
            days.append((today + timedelta(days=_number(_at(toks, i - 1)) or 0), False, None))
        elif (
            tok.word == "day"
            and _is(_at(toks, i + 1), "word", "after")
            and _is(_at(toks, i + 2), "tag", "rel:1")
        ):
            days.append((today + timedelta(days=2), False, None))
            break

    clock, part = _clock(toks)
    ok = [(d, None) for d in explicit or feasts] or [(d, also) for d, denied, also in days if not denied]
    denied_days = [d for d, denied, _ in days if denied]
    # The first day named counts ("lusa sa, besok beta ada pesta"); a date says more than
    # a day's name ("Senin, 14 Desember"), and "senin" on a Monday may be today.
    day = ok[0][0] if ok else None
    also = ok[0][1] if ok and len(ok) == 1 else None
    soonest = _has_phrase(said, SOONEST_PHRASES) and day is None
    later = (
        day is None
        and not soonest
        and (_has_phrase(said, LATER_PHRASES) or (week is not None and week > today))
    )
    return When(
        day=day,
        also=also if also != day else None,
        clock=clock,
        part=part if clock is None else "",
        week=week if day is None else None,
        later=later,
        weak=(later and week is None and clock is None and not part) or soonest,
        soonest=soonest,
        earliest_time=_has_phrase(said, SOONEST_TIME_PHRASES),
        denied=denied_days[0] if denied_days and day is None else None,
    )


def _denied(toks: list[_Tok], i: int) -> bool:
    """True when a negation turns the day at `i` down: "jangan senin", "senin gak bisa"."""
    for j in (i - 1, i - 2):
        if _is(_at(toks, j), "tag", "neg"):
            return True
        if _at(toks, j) is not None and toks[j].kind in ("wd", "mo", "dm", "num"):
            break  # "jangan senin, selasa aja": the negation is senin's
    for j in (i + 1, i + 2):
        if _is(_at(toks, j), "tag", "neg"):
            after = _at(toks, j + 1)
            return after is not None and after.word in NEGATED_WORDS
    return False


def _clock(toks: list[_Tok]) -> tuple[time | None, str]:
    """The time of day named (``jam 1 siang`` 13:00, ``10.30``) and the part of the day."""
    part = ""
    for i, tok in enumerate(toks):
        if _is(tok, "tag") and str(tok.value).startswith("part:") and not tok.used:
            if _is(_at(toks, i - 1), "tag", "greet"):
                continue
            name = str(tok.value)[5:]
            if _is(_at(toks, i - 1), "tag", "early") and name == "sore":
                name = "siang"  # "early afternoon"
            if _is(_at(toks, i - 1), "tag", "before") and name == "siang":
                name = "pagi"
            if _is(_at(toks, i - 2), "tag", "before") and tok.word == "siang":
                name = "pagi"  # "sebelum makan siang"
            part = part or name
    for i, tok in enumerate(toks):
        hour: int | None = None
        minute = 0
        if tok.kind == "hm" and not tok.used:
            hour, minute = tok.value  # type: ignore[misc]
            if minute % 5 or minute > 59:
                hour = None
        elif (
            _is(tok, "tag", "clock")
            or _is(tok, "tag", "half")
            or (tok.word == "at" and _number(_at(toks, i + 1)) is not None)
        ):
            j = i + 1
            half = _is(tok, "tag", "half")
            if _is(_at(toks, j), "tag", "half"):
                half, j = True, j + 1
            nxt = _at(toks, j)
            number = _number(nxt)
            if nxt is not None and nxt.kind == "hm":
                hour, minute = nxt.value  # type: ignore[misc]
                nxt.used = True
            elif number is not None and number <= 24:
                hour = number
                if half:
                    hour, minute = hour - 1, 30
                elif _is(_at(toks, j + 1), "tag", "past") and _number(_at(toks, j + 2)) is not None:
                    minute = _number(_at(toks, j + 2)) or 0
                elif _is(_at(toks, j + 1), "num") and (_number(_at(toks, j + 1)) or 0) in (15, 30, 45):
                    minute = _number(_at(toks, j + 1)) or 0
                elif _is(_at(toks, j + 1), "tag", "to") and _number(_at(toks, j + 2)) is not None:
                    hour, minute = hour - 1, 60 - (_number(_at(toks, j + 2)) or 0)
                if _is(tok, "tag", "clock") and _is(_at(toks, i - 1), "num"):
                    hour = None  # "2 jam lagi": a duration, not a time
            j += 1
        elif (number := _number(tok)) is not None and number <= 12:
            after = _at(toks, i + 1)
            if after is not None and _is(after, "tag") and after.value in ("am", "pm", "oclock"):
                hour = number
            elif (
                after is not None
                and _is(after, "tag")
                and str(after.value).startswith("part:")
                and not _is(_at(toks, i - 1), "tag", "date")
            ):
                hour = number
        if hour is None or not 0 <= hour <= 24 or not 0 <= minute <= 59:
            continue
        where = _part_after(toks, i)
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
        if _is(_at(toks, i - 1), "tag", "after") or _is(_at(toks, i - 2), "tag", "after"):
            # "setelah pukul dua", "after 2 pm": the part of the day after that time
            later = hour + 1
            return None, next((p for p, (a, b) in PART_HOURS.items() if a <= later < b), part)
        return time(hour, minute), ""
    return None, part


def _part_after(toks: list[_Tok], i: int) -> str:
    """The part of day (or am/pm) said just after a time, or just before it."""
    for j in (i + 1, i + 2, i + 3, i - 1):
        tok = _at(toks, j)
        if tok is None or tok.kind != "tag":
            continue
        value = str(tok.value)
        if value in ("am", "pm"):
            return value
        if value.startswith("part:") and not _is(_at(toks, j - 1), "tag", "greet"):
            return value[5:]
    return ""
