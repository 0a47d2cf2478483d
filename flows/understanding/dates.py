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

from dataclasses import dataclass
from datetime import date, time, timedelta

from flows.model import Words
from flows.understanding.datetokens import (
    Tok,
    is_,
    is_denied,
    num_of,
    read_clock,
    tok_at,
    tokens,
)
from flows.understanding.datewords import (
    EVE_WORDS,
    FEASTS,
    LATER_PHRASES,
    SOONEST_PHRASES,
    SOONEST_TIME_PHRASES,
)

__all__ = ["When", "read_when"]

PLAIN = Words()
"""No word table: words are read as typed."""

PAST_GRACE = timedelta(days=60)
"""A day and month without a year that passed less than this long ago means this
year's (a mistake to answer honestly), else next year's."""


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


def read_when(text: str, today: date, table: Words = PLAIN) -> When:
    """What `text` says about a day and a time, read on `today` (office time)."""
    toks = tokens(text, table)
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
        if not is_(tok, "tag") or tok.value not in ("week?", "week"):
            continue
        before, after = tok_at(toks, i - 1), tok_at(toks, i + 1)
        if tok.value == "week?" and is_(before, "tag", "day"):
            toks[i] = Tok("wd", 6, tok.word)  # "hari minggu (ini)": Sunday
        elif is_(after, "tag") and after is not None and after.value in week_words:
            week_shift = week_words[str(after.value)]
            tok.used = after.used = True
        elif is_(before, "tag") and before is not None and before.value in week_words:
            week_shift = week_words[str(before.value)]
            tok.used = before.used = True
        elif is_(after, "tag", "again") and num_of(before) is not None:
            count = num_of(before) or 0
            days.append((today + timedelta(days=7 * count), False, None))
            tok.used = True
            if after is not None:
                after.used = True
            if before is not None:
                before.used = True
        elif tok.value == "week?" and not is_(before, "tag", "end"):
            # "minggu" alone, or "hari minggu": Sunday
            toks[i] = Tok("wd", 6, tok.word)
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
            before, after = tok_at(toks, i - 1), tok_at(toks, i + 1)
            day_before = num_of(before)
            if day_before is None and before is not None and before.kind in ("ord", "ordw"):
                day_before = int(before.value)
            if is_(before, "word", "of") and tok_at(toks, i - 2) is not None:
                two = tok_at(toks, i - 2)
                if two is not None and two.kind in ("ord", "ordw", "num", "numw"):
                    day_before, before = int(two.value), two
            day_after = num_of(after)
            if day_after is None and after is not None and after.kind in ("ord", "ordw"):
                day_after = int(after.value)
            year_tok = tok_at(toks, i + 1) if day_before is not None else tok_at(toks, i + 2)
            year = num_of(year_tok)
            year = year if year is not None and year >= 2000 else None
            if day_before is not None and 1 <= day_before <= 31 and before is not None:
                found = _month_day(today, day_before, int(tok.value), year)
                before.used = tok.used = True
            elif (
                day_after is not None
                and 1 <= day_after <= 31
                and after is not None
                and not is_(tok_at(toks, i + 2), "tag", "clock")
                and not is_(tok_at(toks, i - 1), "tag", "clock")
            ):
                found = _month_day(today, day_after, int(tok.value), year)
                after.used = tok.used = True
            if year is not None and year_tok is not None:
                year_tok.used = True
        elif is_(tok, "tag", "date") or (
            tok.kind == "word" and tok.word == "the" and tok_at(toks, i + 1) is not None
        ):
            after = tok_at(toks, i + 1)
            number = num_of(after)
            if number is None and after is not None and after.kind in ("ord", "ordw"):
                number = int(after.value)
            if (
                number is not None
                and after is not None
                and not is_(tok_at(toks, i + 2), "mo")
                and (tok.kind == "tag" or after.kind in ("ord", "ordw"))
            ):
                found = _next_day_of_month(today, number)
                after.used = tok.used = True
        elif tok.kind == "ord" and not tok.used and not is_(tok_at(toks, i + 1), "mo"):
            found = _next_day_of_month(today, int(tok.value))
            tok.used = True
        elif tok.kind == "wd" and (number := num_of(tok_at(toks, i + 1))) is not None:
            after = tok_at(toks, i + 2)
            if not is_(after, "mo") and not (
                after is not None and is_(after, "tag") and str(after.value).startswith("part:")
            ):
                found = _next_day_of_month(today, number)  # "jumat 18", "rb 16"
                toks[i + 1].used = True
        elif tok.word in FEASTS:
            month, day_of_month = FEASTS[tok.word]
            found = _month_day(today, day_of_month, month)
            eve = tok_at(toks, i + 1)
            if found is not None and (
                (eve is not None and eve.word == "eve")
                or (tok_at(toks, i - 1) is not None and toks[i - 1].word in EVE_WORDS)
            ):
                found -= timedelta(days=1)
                if tok_at(toks, i - 1) is not None:
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
        weekday = int(tok.value)
        near = [tok_at(toks, i + 1), tok_at(toks, i - 1), tok_at(toks, i + 2)]
        shift: int | None = week_shift
        for other in near:
            if is_(other, "tag", "next"):
                shift = 1
            elif is_(other, "tag", "this") and shift is None:
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
        days.append((found, is_denied(toks, i), other_day))
        tok.used = True
    if not any(t.kind == "wd" for t in toks) and days == [] and week is None:
        for tok in toks:
            if is_(tok, "tag", "weekend"):
                days.append((today + timedelta(days=(5 - today.weekday()) % 7), False, None))

    # relative days: besok, lusa, hari ini, 3 hari lagi
    for i, tok in enumerate(toks):
        if is_(tok, "tag") and str(tok.value).startswith("rel:"):
            offset = int(str(tok.value)[4:])
            if is_(tok_at(toks, i + 1), "word", "lusa") or (
                tok.word == "besok" and is_(tok_at(toks, i + 1), "tag", "rel:2")
            ):
                continue
            days.append((today + timedelta(days=offset), is_denied(toks, i), None))
        elif is_(tok, "tag", "this") and is_(tok_at(toks, i - 1), "tag", "day"):
            days.append((today, is_denied(toks, i - 1), None))
        elif is_(tok, "tag", "this") and any(
            t is not None and str(t.value).startswith("part:")
            for t in (tok_at(toks, i - 1), tok_at(toks, i + 1))
        ):
            days.append((today, False, None))  # "sore ini", "this afternoon", "nanti siang"
        elif (
            is_(tok, "tag", "day")
            and is_(tok_at(toks, i + 1), "tag", "again")
            and num_of(tok_at(toks, i - 1)) is not None
        ):
            days.append((today + timedelta(days=num_of(tok_at(toks, i - 1)) or 0), False, None))
        elif (
            tok.word == "day"
            and is_(tok_at(toks, i + 1), "word", "after")
            and is_(tok_at(toks, i + 2), "tag", "rel:1")
        ):
            days.append((today + timedelta(days=2), False, None))
            break

    clock, part = read_clock(toks)
    ok: list[tuple[date, date | None]] = [(d, None) for d in explicit or feasts] or [
        (d, also) for d, denied, also in days if not denied
    ]
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
