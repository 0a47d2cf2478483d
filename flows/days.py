"""Questions whose options are days or times: typed days and times, honest answers about
days that are not offered, and pages of later dates (pure, like the engine).

A host marks an option with the day or moment it stands for (`Option.when`); such a
question then shows its days a page at a time with "Tanggal lain" / "Later dates",
and reads what the family types with `flows.understanding.dates`:

- a named day that is offered is taken; two offered days that fit ("senin" on a
  Monday) are a close call; a day that is not offered is answered by the host's
  `Calendar` (closed, a holiday, full, past, beyond the last day) with the nearest
  free days as the new options;
- "minggu depan" pages to next week, "tanggal lain" to the next page;
- at a times question, an hour that is offered is taken, a part of the day narrows
  the times to that part ("pagi" -> the morning times), "paling pagi" takes the first.

The engine carries out the `Decision`: it takes an option, asks which of two, or asks
again with `View` (a text and the options to show).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from flows.exchange import Calendar, Context, Input, Option
from flows.matching import match_choice, match_value
from flows.model import Choice, Node, Text, Words
from flows.understanding.dates import When, read_when
from flows.understanding.datewords import PART_HOURS, PART_NAMES
from flows.understanding.matcher import read_answer

__all__ = [
    "DAY_NAMES",
    "EARLIER",
    "LATER",
    "MONTH_NAMES",
    "PAGE",
    "Decision",
    "View",
    "answer",
    "dated",
    "first_view",
    "format_day",
]

PAGE = 6
"""Days shown at once (with the flow's own choices they fit any channel's list)."""
LATER = "_later"
EARLIER = "_earlier"
ALL_TIMES = "_all_times"
"""The values of the engine's own paging options (values starting with `_` are the engine's)."""
PAGING = frozenset({LATER, EARLIER, ALL_TIMES})

DAY_NAMES = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTH_NAMES = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

Texts = Callable[..., str]
"""Renders a global text by key with placeholders: `texts("day_full", day="...")`."""


def format_day(day: date, language: str) -> str:
    """ "Senin, 7 Desember" / "Monday 7 December"."""
    lang = language if language in DAY_NAMES else "id"
    name, month = DAY_NAMES[lang][day.weekday()], MONTH_NAMES[lang][day.month - 1]
    return f"{name}, {day.day} {month}" if lang == "id" else f"{name} {day.day} {month}"


@dataclass(frozen=True, slots=True)
class View:
    """What a question shows: its text (empty: the question's own) and host options."""

    text: str
    options: tuple[Option, ...]


Kind = Literal["take", "close", "unavailable", "page", "narrow", "elsewhere"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a typed day or time comes to at a question of days or times."""

    kind: Kind
    picked: tuple[Option, ...] = ()  # take: the option; close: the two it may be
    about: date | None = None  # unavailable: the day the answer is about; elsewhere: another day
    part: str = ""  # narrow: the part of the day
    view: View | None = None  # unavailable, page, narrow: what to show next


def _day(option: Option) -> date | None:
    if len(option.when) != 10:
        return None
    try:
        return date.fromisoformat(option.when)
    except ValueError:
        return None


def _moment(option: Option) -> datetime | None:
    if len(option.when) <= 10:
        return None
    try:
        return datetime.fromisoformat(option.when)
    except ValueError:
        return None


def dated(options: Sequence[Option]) -> bool:
    """True when some of the host's options stand for days or times."""
    return any(o.when for o in options)


def first_view(offered: Sequence[Option], texts: Texts) -> View:
    """The first page of a days question (other questions show all their options)."""
    days = [o for o in offered if _day(o) is not None]
    return _page(offered, days[:PAGE], "", texts) if days else View("", tuple(offered))


def _page(offered: Sequence[Option], page: Sequence[Option], text: str, texts: Texts) -> View:
    """A page of days with the host's undated options on the first page (the urgent
    "as soon as possible") and the engine's paging options around it."""
    days = [o for o in offered if _day(o) is not None]
    if not page:
        return View(text, tuple(offered))
    first, last = days.index(page[0]), days.index(page[-1])
    shown = [o for o in offered if not o.when] if first == 0 else []
    shown += page
    if first > 0:
        shown.append(Option(EARLIER, texts("earlier_dates")))
    if last < len(days) - 1:
        shown.append(Option(LATER, texts("later_dates")))
    return View(text, tuple(shown))


def answer(
    said: str,
    chosen: str,
    offered: Sequence[Option],
    shown: Sequence[Option],
    *,
    calendar: Calendar | None,
    today: date,
    words: Words,
    texts: Texts,
    language: str,
    choices: Sequence[Choice] = (),
) -> Decision | None:
    """What an answer at a question of days or times comes to; None when it is no
    day or time (the choice matcher reads it), or a plain choice was `chosen`. A vague
    "yang lain" or "terserah" gives way to one of the question's `choices` that the
    answer names ("cara konsultasi yang lain")."""
    if chosen in PAGING:
        return _paged(chosen, offered, shown, calendar, texts, language)
    if chosen or not dated(offered):
        return None
    when = read_when(said, calendar.today if calendar else today, words)
    if not when or when.weak:
        # A vague "yang lain" gives way to a choice the answer names; "Tanggal lain"
        # typed in other words still pages.
        reading = read_answer(said, choices, words) if choices else None
        if reading is not None and reading.kind == "match" and reading.choice is not None:
            if reading.choice.value in PAGING:
                return _paged(reading.choice.value, offered, shown, calendar, texts, language)
            return None
    if not when:
        return None
    if any(_moment(o) for o in offered):
        return _times(when, offered, texts, language)
    return _days(when, offered, shown, calendar, today, texts, language)


def at_question(
    inp: Input,
    choices: Sequence[Choice],
    shown: Sequence[Option],
    offered: Callable[[], Sequence[Option]],
    ctx: Context,
    *,
    words: Words,
    texts: Texts,
    language: str,
) -> Decision | None:
    """`answer` for the engine: an input at a question that showed `shown` (None unless
    they are days or times) and whose host now offers `offered()`."""
    if not dated(shown):
        return None
    said = inp.text if inp.kind == "text" else ""
    exact = match_value(inp.choice, choices) if inp.choice else match_choice(said, choices)
    return answer(
        said,
        exact.value if exact is not None else "",
        offered(),
        shown,
        calendar=ctx.calendar,
        today=ctx.now.date(),
        words=words,
        texts=texts,
        language=language,
        choices=choices,
    )


def _paged(
    chosen: str,
    offered: Sequence[Option],
    shown: Sequence[Option],
    calendar: Calendar | None,
    texts: Texts,
    language: str,
) -> Decision:
    if chosen == ALL_TIMES:
        return Decision("page", view=View("", tuple(offered)))
    days = [o for o in offered if _day(o) is not None]
    seen = [days.index(o) for o in days if any(s.value == o.value for s in shown)]
    if chosen == EARLIER:
        start = max(0, (min(seen) if seen else PAGE) - PAGE)
        return Decision("page", view=_page(offered, days[start : start + PAGE], "", texts))
    start = max(seen) + 1 if seen else 0
    if start >= len(days):
        text = texts("no_later_dates", last=_last(days, calendar, language))
        tail = days[-PAGE:]
        return Decision("page", view=_page(offered, tail, text, texts))
    return Decision("page", view=_page(offered, days[start : start + PAGE], "", texts))


def _last(days: Sequence[Option], calendar: Calendar | None, language: str) -> str:
    if calendar is not None:
        return format_day(calendar.last, language)
    last = _day(days[-1]) if days else None
    return format_day(last, language) if last else ""


def _days(
    when: When,
    offered: Sequence[Option],
    shown: Sequence[Option],
    calendar: Calendar | None,
    today: date,
    texts: Texts,
    language: str,
) -> Decision | None:
    days = [o for o in offered if _day(o) is not None]
    by_day = {_day(o): o for o in days}
    if when.day is not None:
        meant = sorted(d for d in (when.day, when.also) if d is not None and d in by_day)
        if len(meant) == 2:
            return Decision("close", (by_day[meant[0]], by_day[meant[1]]))
        if meant:
            return Decision("take", (by_day[meant[0]],))
        return _unavailable(when.day, offered, days, calendar, today, texts, language)
    if when.soonest and offered:
        return Decision("take", (offered[0],))
    if when.week is not None:
        page = [o for o in days if (_day(o) or today) >= when.week][:PAGE]
        if not page:
            return _unavailable(when.week, offered, days, calendar, today, texts, language)
        return Decision("page", view=_page(offered, page, "", texts))
    if when.later:
        return _paged(LATER, offered, shown, calendar, texts, language)
    return None


def _unavailable(
    day: date,
    offered: Sequence[Option],
    days: Sequence[Option],
    calendar: Calendar | None,
    today: date,
    texts: Texts,
    language: str,
) -> Decision:
    """The honest answer about a day that is not offered, and the nearest free days."""
    named = format_day(day, language)
    weekday = DAY_NAMES[language if language in DAY_NAMES else "id"][day.weekday()]
    closure = calendar.closure(day) if calendar is not None else None
    open_days = calendar.open_weekdays if calendar is not None else frozenset(range(7))
    last = calendar.last if calendar is not None else None
    if day < (calendar.today if calendar is not None else today):
        said = [texts("day_past", day=named)]
    elif calendar is not None and day.weekday() not in calendar.open_weekdays:
        said = [texts("day_weekend", day=named, weekday=weekday)]
    elif closure is not None and closure.why == "holiday":
        said = [texts("day_holiday", day=named, name=closure.name)]
    elif closure is not None:
        said = [texts("day_closure", day=named)]
    elif last is not None and day > last:
        said = [texts("day_beyond", day=named, last=format_day(last, language))]
    else:
        said = [texts("day_full", day=named)]
    if last is not None and day > last and (closure is not None or day.weekday() not in open_days):
        said.append(texts("day_beyond", day=named, last=format_day(last, language)))
    if not days:
        return Decision("unavailable", about=day, view=View(" ".join(said), tuple(offered)))
    said.append(texts("days_nearest"))
    nearest = sorted(days, key=lambda o: (abs(((_day(o) or day) - day).days), _day(o)))[:PAGE]
    page = sorted(nearest, key=lambda o: _day(o) or day)
    view = _page(offered, page, " ".join(said), texts)
    return Decision("unavailable", about=day, view=view)


def _in_part(moment: datetime, part: str) -> bool:
    start, end = PART_HOURS[part]
    return start <= moment.hour < end


def _times(when: When, offered: Sequence[Option], texts: Texts, language: str) -> Decision | None:
    times = [(m, o) for o in offered if (m := _moment(o)) is not None]
    if when.day is not None and all(m.date() != when.day for m, _ in times):
        return Decision("elsewhere", about=when.day)  # the flow's way back to the days
    parts = PART_NAMES.get(language, PART_NAMES["id"])
    if when.clock is not None:
        for moment, option in times:
            if moment.time() == when.clock:
                return Decision("take", (option,))
        shown = f"{when.clock.hour:02d}{'.' if language == 'id' else ':'}{when.clock.minute:02d}"
        return Decision(
            "unavailable", view=View(texts("time_not_free", time=shown), tuple(offered))
        )
    if when.earliest_time and times:
        return Decision("take", (times[0][1],))
    if when.part:
        fitting = tuple(o for m, o in times if _in_part(m, when.part))
        name = parts[when.part]
        if not fitting:
            return Decision(
                "unavailable", view=View(texts("part_not_free", part=name), tuple(offered))
            )
        undated = tuple(o for o in offered if not o.when)
        others = (Option(ALL_TIMES, texts("all_times")),) if len(fitting) < len(times) else ()
        view = View(texts("part_times", part=name), undated + fitting + others)
        return Decision("narrow", part=when.part, view=view)
    if when.soonest and times:
        return Decision("take", (times[0][1],))
    return None


def way_back(node: Node, nodes: Callable[[str], Node | None]) -> Choice | None:
    """The question's own choice that leads to a question of the host's options (at the
    times, "Hari lain" leads back to the days): where another day named goes."""
    if node.ask is None:
        return None
    for choice in node.ask.choices:
        target = nodes(choice.goto) if choice.goto else None
        if target is not None and target.ask is not None and target.ask.choices_from:
            return choice
    return None


def clock_of(option: Option) -> time | None:
    """The office time an option of a times question stands for (for measuring)."""
    moment = _moment(option)
    return moment.time() if moment is not None else None


def _text(id_: str, en: str) -> Text:
    return Text((("id", id_), ("en", en)))


DAY_TEXTS = {
    "later_dates": _text("Tanggal lain", "Later dates"),
    "earlier_dates": _text("Tanggal sebelumnya", "Earlier dates"),
    "all_times": _text("Semua waktu", "All times"),
    "no_later_dates": _text(
        "Maaf, kami baru bisa membuat janji sampai {last}. Ini hari-hari terakhir yang masih ada:",
        "Sorry, we can only make appointments up to {last}. These are the last days still free:",
    ),
    "day_past": _text("Maaf, {day} sudah lewat.", "Sorry, {day} has already passed."),
    "day_weekend": _text(
        "Maaf, kantor tutup pada hari {weekday}.", "Sorry, the office is closed on {weekday}s."
    ),
    "day_holiday": _text(
        "Maaf, kantor tutup pada {day}: {name}.", "Sorry, the office is closed on {day}: {name}."
    ),
    "day_closure": _text("Maaf, kantor tutup pada {day}.", "Sorry, the office is closed on {day}."),
    "day_full": _text(
        "Maaf, {day} sudah tidak ada waktu yang kosong.", "Sorry, {day} has no free time left."
    ),
    "day_beyond": _text(
        "Kami baru bisa membuat janji sampai {last}.",
        "We can only make appointments up to {last}.",
    ),
    "days_nearest": _text("Hari terdekat yang masih ada:", "The nearest days still free:"),
    "time_not_free": _text(
        "Maaf, pukul {time} tidak ada. Waktu yang masih ada:",
        "Sorry, {time} is not free. These times are:",
    ),
    "part_not_free": _text(
        "Maaf, pada {part} hari itu tidak ada waktu yang kosong. Waktu yang masih ada:",
        "Sorry, there is no free time in the {part} that day. These times are free:",
    ),
    "part_times": _text("Waktu {part} yang masih ada:", "Free times in the {part}:"),
}
"""What the engine says at questions of days and times when globals.toml does not."""
DAY_PLACEHOLDERS = {
    "no_later_dates": ("last",),
    "day_past": ("day",),
    "day_weekend": ("day", "weekday"),
    "day_holiday": ("day", "name"),
    "day_closure": ("day",),
    "day_full": ("day",),
    "day_beyond": ("day", "last"),
    "time_not_free": ("time",),
    "part_not_free": ("part",),
    "part_times": ("part",),
}
"""The placeholders the engine fills in those texts."""
