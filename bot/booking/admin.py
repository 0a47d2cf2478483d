"""What admins and counsellors do to bookings, from `lk3 booking` and the console pages.

Each function takes the open store and plain arguments, checks what a person
typed and raises `BookingError` with a message that says what to type instead,
so the command line and the tests share one implementation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from bot.booking import BookingError
from bot.booking.ical import new_token
from bot.booking.reminders import REMINDER_PRIORITY
from bot.booking.schedule import format_schedule, schedule_for
from bot.booking.slots import start_times
from bot.booking.timefmt import DAY_NAMES, format_when, weekday_number
from bot.booking.view import BookingView
from bot.config import Config
from bot.core.texts import BotTexts
from bot.errors import words_of
from storage.booking.records import MODES, Booking, Closure, WeeklyHours
from storage.errors import InvalidRecordError, NotFoundError, StorageError
from storage.records import NewOutbound, StaffMember
from storage.store import Store

__all__ = [
    "add_closure",
    "feed_url",
    "has_started",
    "hours_lines",
    "mark",
    "parse_clock",
    "parse_modes",
    "preview_slots",
    "remove_closure",
    "schedule_text",
    "set_hours",
]

_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
OUTCOME_WORDS = {
    "attended": "attended",
    "hadir": "attended",
    "no-show": "no_show",
    "no_show": "no_show",
    "tidak-hadir": "no_show",
}


def parse_clock(text: str, what: str) -> int:
    """Minutes since midnight for `09:00`, `9.00` or `24:00`; BookingError otherwise.

    `what` is `--from` (a start) or `--to` (an end), as the command line names them.
    """
    key = "problem_end_time" if what == "--to" else "problem_start_time"
    found = _CLOCK.match(text.strip())
    if found is None:
        raise BookingError(f"{what} {text!r} is not a time like 09:00", key, text=text)
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise BookingError(f"{what} {text!r} is not a time of day", key, text=text)
    return hours * 60 + minutes


def parse_modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip().lower() for m in text.split(",") if m.strip())
    unknown = [m for m in modes if m not in MODES]
    if not modes:
        raise BookingError("give one or more modes, separated by commas", "problem_modes_missing")
    if unknown:
        raise BookingError(
            f"modes {text!r}: give one or more of {', '.join(MODES)}, separated by commas",
            "problem_modes_unknown",
            text=", ".join(unknown),
            known=", ".join(MODES),
        )
    return modes


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BookingError(
            f"date {text!r} is not a date like 2026-12-24", "problem_date", text=text
        ) from None


async def counsellor(store: Store, username: str) -> StaffMember:
    member = await store.staff.by_username(username)
    if member is None or not member.active:
        raise BookingError(
            f"no active staff member {username!r} (see lk3 staff list)",
            "problem_no_staff",
            username=username,
        )
    if "counsellor" not in member.roles:
        raise BookingError(
            f"{member.username} is not a counsellor (lk3 staff add --role)",
            "problem_not_counsellor",
            username=member.username,
        )
    return member


async def set_hours(
    store: Store,
    username: str,
    *,
    day: str,
    start: str,
    end: str,
    modes: str,
    at: datetime,
) -> WeeklyHours:
    """Adds weekly hours for a counsellor: `--day senin --from 09:00 --to 12:00`."""
    weekday = weekday_number(day)
    if weekday is None:
        raise BookingError(
            f"day {day!r} is not a day name (senin ... minggu, or monday ...)",
            "problem_day_name",
            text=day,
        )
    first, last = parse_clock(start, "--from"), parse_clock(end, "--to")
    if last <= first:
        raise BookingError(
            f"--to {end} must be later than --from {start}",
            "problem_end_before_start",
            start=start.strip(),
            end=end.strip(),
        )
    member = await counsellor(store, username)
    try:
        return await store.bookings.add_hours(
            member.id, weekday, first, last, parse_modes(modes), at
        )
    except (InvalidRecordError, NotFoundError) as exc:
        raise worded(exc) from None


async def clear_hours(store: Store, username: str, day: str | None) -> int:
    member = await counsellor(store, username)
    weekday = None
    if day is not None:
        weekday = weekday_number(day)
        if weekday is None:
            raise BookingError(
                f"day {day!r} is not a day name (senin ... minggu)", "problem_day_name", text=day
            )
    return await store.bookings.clear_hours(member.id, weekday)


async def hours_lines(store: Store, username: str) -> list[str]:
    """A counsellor's weekly hours, one line per block: `senin 09:00-12:00 kantor, telepon`."""
    member = await counsellor(store, username)
    lines = []
    for block in await store.bookings.hours(member.id):
        day = DAY_NAMES["id"][block.weekday].lower()
        modes = ", ".join(m for m in MODES if m in block.modes)
        lines.append(f"{day:<7} {_hhmm(block.start_minute)}-{_hhmm(block.end_minute)}  {modes}")
    return lines


async def add_closure(
    store: Store, day: str, reason: str, at: datetime, *, office_id: int = 1
) -> Closure:
    try:
        return await store.bookings.add_closure(parse_date(day), reason, at, office_id=office_id)
    except InvalidRecordError as exc:
        raise worded(exc) from None


async def remove_closure(store: Store, day: str, *, office_id: int = 1) -> None:
    if not await store.bookings.remove_closure(parse_date(day), office_id=office_id):
        raise BookingError(
            f"the office is not closed on {day} (see lk3 booking closures list)",
            "problem_not_closed",
            day=day,
        )


def has_started(booking: Booking, now: datetime) -> bool:
    """Whether a no-show may be recorded: only once the appointment's time has come."""
    return now >= booking.starts_at


async def mark(
    store: Store,
    code: str,
    outcome: str,
    *,
    texts: BotTexts,
    config: Config,
    tz: tzinfo,
    now: datetime,
) -> tuple[Booking, bool]:
    """Marks attended or no-show; a no-show's family gets one kind follow-up."""
    wanted = OUTCOME_WORDS.get(outcome.strip().lower())
    if wanted is None:
        raise BookingError(
            f"outcome {outcome!r}: use attended or no-show", "problem_outcome", text=outcome
        )
    booking = await store.bookings.by_code(code)
    if booking is None:
        wanted_code = code.strip().upper()
        raise BookingError(
            f"no booking with code {wanted_code!r}", "problem_no_booking", code=wanted_code
        )
    if wanted == "no_show" and not has_started(booking, now):
        # Marking it sends the family "we did not get to meet": never before the time.
        starts = booking.starts_at.astimezone(tz)
        raise BookingError(
            f"booking {booking.code} starts {format_when(booking.starts_at, tz, 'en')}:"
            " a no-show can be recorded only after that",
            "bookings_too_early",
            time=f"{starts:%Y-%m-%d %H:%M}",
        )
    followup = None
    if wanted == "no_show" and booking.contact_id is not None:
        contact = await store.contacts.get(booking.contact_id)
        if contact is not None:
            language = contact.language or config.languages[0]
            text = texts.get(
                "booking.no_show", language, when=format_when(booking.starts_at, tz, language)
            )
            followup = NewOutbound(contact.id, contact.channel, text, (), REMINDER_PRIORITY, now)
    try:
        return await store.bookings.mark(code, wanted, now, followup)
    except (InvalidRecordError, NotFoundError) as exc:
        raise worded(exc) from None


async def schedule_text(
    store: Store,
    username: str,
    *,
    texts: BotTexts,
    tz: tzinfo,
    now: datetime,
    language: str = "id",
) -> str:
    member = await counsellor(store, username)
    appointments = await schedule_for(store, member.id, tz=tz, now=now)
    return format_schedule(appointments, tz=tz, now=now, language=language, texts=texts)


async def feed_url(store: Store, username: str, *, public_url: str, now: datetime) -> str:
    """Issues a new private calendar address for a counsellor (the old one stops working)."""
    member = await counsellor(store, username)
    token = new_token()
    await store.bookings.set_feed_token(member.id, token, now)
    base = public_url.rstrip("/") if public_url else ""
    return f"{base}/ical/{token}.ics"


async def preview_slots(
    store: Store,
    *,
    config: Config,
    texts: BotTexts,
    tz: tzinfo,
    now: datetime,
    mode: str | None,
    urgent: bool,
    language: str = "id",
    office_id: int = 1,
) -> list[str]:
    """The free times a family of the office would be offered now (to check the hours and
    closures), in `tz`: the office's time zone."""
    if mode is not None and mode not in MODES:
        raise BookingError(
            f"mode {mode!r}: use one of {', '.join(MODES)}",
            "problem_modes_unknown",
            text=mode,
            known=", ".join(MODES),
        )
    horizon = timedelta(days=config.booking.horizon_days + 2)
    window = (now - timedelta(days=1), now + horizon, now)
    snapshot = await store.bookings.snapshot(None, *window, office_id=office_id)
    view = BookingView(snapshot, config.booking, tz, now, texts, "segera" if urgent else None)
    lines: list[str] = []
    modes: Sequence[str] = [mode] if mode else config.booking.modes
    for each in modes:
        times = start_times(view.free(each))
        lines.append(f"{each}: {len(times)} free time(s)")
        lines += [f"  {format_when(t, tz, language)}" for t in times[:20]]
    return lines


def worded(exc: StorageError) -> BookingError:
    """A storage refusal as a BookingError that keeps its words (`problem_<code>`)."""
    key, values = words_of(exc)
    return BookingError(str(exc), key, **values)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
