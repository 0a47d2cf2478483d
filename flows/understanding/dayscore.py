"""Measuring typed answers at questions of days and times (`lk3 flows understand`).

What counts (the corpus writers' expected values): an ISO date is right when that day
is taken if it is offered, or when the honest "not available" answer is about that very
day; `later` when the bot shows later dates; `soonest` when the earliest day is taken;
`HH:MM` when that time is taken; `part:X` when the times are narrowed to that part; `-`
when nothing is taken. A "which of the two?" is neither right nor wrong; so is any
other answer that takes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flows import days
from flows.exchange import Calendar, Option
from flows.matching import match_choice
from flows.model import Choice, Text, Words
from flows.understanding.matcher import Reading, read_answer

NOTHING = "-"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the bot did with an answer, in the corpus' terms: `2026-12-09`, `about:2026-12-12`,
    `later`, `part:pagi`, `10:00`, a choice value, `-` (nothing), or `?` (asked which)."""

    got: str
    taken: bool  # an option was taken (a wrong one is a wrong pick)
    earliest: str = ""  # the earliest offered day, for `soonest`

    def right(self, expected: str) -> bool:
        if expected == NOTHING:
            return not self.taken and self.got != "?"
        if expected == "soonest":
            return self.taken and self.got in ("soonest", self.earliest)
        return self.got in (expected, f"about:{expected}")

    def wrong(self, expected: str) -> bool:
        if self.got == "?" or self.right(expected):
            return False
        if self.taken:
            return True
        about_day = self.got.startswith("about:") and expected[:2] == "20"
        return about_day or (self.got.startswith("part:") and expected.startswith("part:"))


def _value(option: Option) -> str:
    if len(option.when) == 10:
        return option.when
    if len(option.when) > 10:
        return option.when[11:16]
    return option.value


def outcome(
    text: str,
    offered: Sequence[Option],
    static: Sequence[Choice],
    *,
    calendar: Calendar | None,
    words: Words,
    language: str,
    back: Choice | None = None,
) -> tuple[Outcome, Reading]:
    """What the engine does with `text` at a question whose host options are `offered`
    (days or times) and whose own choices are `static`, shown as a family first sees it."""
    texts = _texts(language)
    shown = days.first_view(offered, texts).options
    choices = tuple(Choice(o.value, _label(o, language)) for o in shown) + tuple(static)
    exact = match_choice(text, choices)
    today = calendar.today if calendar is not None else None
    decision = days.answer(
        text,
        exact.value if exact is not None else "",
        offered,
        shown,
        calendar=calendar,
        today=today or _first_day(offered),
        words=words,
        texts=texts,
        language=language,
        choices=choices,
    )
    if decision is not None and decision.kind == "elsewhere":
        decision = None if back is None else days.Decision("take", (Option(back.value, ""),))
    first = next((o.when for o in offered if len(o.when) == 10), "")
    if decision is None:
        reading = read_answer(text, choices, words)
        if reading.kind == "close":
            return Outcome("?", False, first), reading
        if reading.kind != "match" or reading.choice is None:
            return Outcome(NOTHING, False, first), reading
        if reading.choice.value == days.LATER:
            return Outcome("later", False, first), reading
        option = next((o for o in shown if o.value == reading.choice.value), None)
        got = _value(option) if option is not None else reading.choice.value
        return Outcome(got, True, first), reading
    reading = Reading("match", confidence=1.0)
    if decision.kind == "take":
        got = _value(decision.picked[0])
        return Outcome(got if got != "soonest" else "soonest", True, first), reading
    if decision.kind == "close":
        return Outcome("?", False, first), Reading("close")
    if decision.kind == "narrow":
        return Outcome(f"part:{decision.part}", False, first), reading
    if decision.kind == "page":
        return Outcome("later", False, first), reading
    about = f"about:{decision.about.isoformat()}" if decision.about is not None else NOTHING
    return Outcome(about, False, first), reading


def _label(option: Option, language: str) -> Text:
    return Text(((language, option.label),))


def _first_day(offered: Sequence[Option]) -> date:
    for option in offered:
        if option.when:
            return date.fromisoformat(option.when[:10])
    return date.min


def _texts(language: str) -> days.Texts:
    def render(key: str, **extra: str) -> str:
        text = days.DAY_TEXTS.get(key)
        return text.get(language).format(**extra) if text is not None else key

    return render
