"""A counsellor's appointments for today and tomorrow, by booking code, mode and time.

For `/jadwal` on Telegram and `lk3 booking schedule`: the code is all a
counsellor needs to find the family in the console; a name, a number or the
problem never appear here, since a phone screen is easily seen by others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.booking.timefmt import format_day, format_time
from bot.core.texts import BotTexts
from storage.booking.records import Booking
from storage.store import Store

__all__ = ["Appointment", "day_bounds", "format_schedule", "schedule_for"]


@dataclass(frozen=True, slots=True)
class Appointment:
    code: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    status: str

    @classmethod
    def of(cls, booking: Booking) -> Appointment:
        return cls(booking.code, booking.mode, booking.starts_at, booking.ends_at, booking.status)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The start of `day` and of the next day in the office's time zone."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


async def schedule_for(
    store: Store, staff_id: int, *, tz: tzinfo, now: datetime, days: int = 2
) -> list[Appointment]:
    """Confirmed and marked appointments from the start of today, for `days` days."""
    today = now.astimezone(tz).date()
    start, _ = day_bounds(today, tz)
    _, end = day_bounds(today + timedelta(days=days - 1), tz)
    return [Appointment.of(b) for b in await store.bookings.for_staff(staff_id, start, end)]


def format_schedule(
    appointments: list[Appointment], *, tz: tzinfo, now: datetime, language: str, texts: BotTexts
) -> str:
    """Today's and tomorrow's appointments, one line each: time, code, mode."""
    today = now.astimezone(tz).date()
    blocks: list[str] = []
    for offset, heading in ((0, "booking.schedule.today"), (1, "booking.schedule.tomorrow")):
        day = today + timedelta(days=offset)
        lines = [texts.get(heading, language, day=format_day(day, language))]
        mine = [a for a in appointments if a.starts_at.astimezone(tz).date() == day]
        for a in sorted(mine, key=lambda a: a.starts_at):
            span = f"{format_time(a.starts_at, tz, language).split()[0]}–"
            span += format_time(a.ends_at, tz, language)
            mark = ""
            if a.status in ("attended", "no_show"):
                mark = f" ({texts.get(f'booking.schedule.{a.status}', language)})"
            lines.append(f"• {span}  {a.code}  {a.mode}{mark}")
        if not mine:
            lines.append(f"• {texts.get('booking.schedule.none', language)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
