"""Bookings: day and week schedules, attendance, weekly hours and office closures.

A counsellor sees and marks only their own appointments; supervisors and
admins see every counsellor's and keep the hours and closures. Appointments
show a booking code, a mode and a time: never a family's name, number or story.
Every change goes through `bot.booking.admin`, the same code as the command
line, so a no-show's follow-up is sent once whichever way it was marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from bot.booking import BookingError
from bot.booking.admin import (
    add_closure,
    has_started,
    mark,
    parse_date,
    remove_closure,
    set_hours,
)
from bot.booking.schedule import day_bounds
from bot.booking.timefmt import DAY_NAMES, format_day
from bot.console.auth.login import Access, Need, allowed
from bot.console.confirm import ask_first, confirmed
from bot.console.core import PREFIX, Console, PageRoute, form_text
from bot.console.say import said
from bot.console.scope import office_of, reader_config
from bot.digits import digits
from bot.handoff.roster import RosterInputError, parse_time
from storage.booking.records import MODES, Booking
from storage.errors import StorageError
from storage.privacy.audit import AuditEntry
from storage.records import StaffMember

__all__ = ["routes"]

VIEWS = ("day", "week")
MARKS = ("attended", "no_show")


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    label: str
    closed: str | None
    appointments: tuple[tuple[str, Booking], ...]  # (local "HH:MM-HH:MM", booking)


def sees_all(access: Access) -> bool:
    return allowed(Need.OFFICE, access.member.roles)


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def span(tz: ZoneInfo, booking: Booking) -> str:
    """A booking's times in its office's time zone (`[offices.*] timezone`)."""
    start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
    return f"{start:%H:%M}-{end:%H:%M}"


async def schedule(
    console: Console,
    request: Request,
    access: Access,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    params = request.query_params
    counsellors = await console.store.staff.list(role="counsellor", office_id=office_of(access))
    me = access.member
    wanted = params.get("staff", "")
    chosen: StaffMember | None = None
    if sees_all(access):
        by_id = {str(c.id): c for c in counsellors}
        chosen = by_id.get(wanted) or (me if "counsellor" in me.roles else None)
        if chosen is None and counsellors:
            chosen = counsellors[0]
    else:
        if wanted and wanted != str(me.id):
            return console.error(request, access, 403, "error_forbidden")
        chosen = me
    tz = (await reader_config(console, access)).office.tz  # the reader's office's days
    today = console.clock().astimezone(tz).date()
    asked = params.get("day", "")
    day = parse_day(asked)
    if day is None:
        if asked and not error:
            error = console.t(request, "bookings_bad_day")
        day = today
    view = params.get("view", "day")
    view = view if view in VIEWS else "day"
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    count = 7 if view == "week" else 1
    days: list[DayPlan] = []
    if chosen is not None:
        start, _ = day_bounds(first, tz)
        _, end = day_bounds(first + timedelta(days=count - 1), tz)
        booked = await console.store.bookings.for_staff(chosen.id, start, end)
        closures = {
            c.day: c.reason
            for c in await console.store.bookings.closures(
                first, first + timedelta(days=count - 1), office_id=office_of(access)
            )
        }
        lang = console.lang(request)
        for offset in range(count):
            each = first + timedelta(days=offset)
            mine = tuple(
                (span(tz, b), b) for b in booked if b.starts_at.astimezone(tz).date() == each
            )
            days.append(DayPlan(each, format_day(each, lang), closures.get(each), mine))
    step = timedelta(days=count)
    return console.render(
        request,
        access,
        "bookings.html",
        status=status,
        counsellors=counsellors if sees_all(access) else [],
        chosen=chosen,
        day=day,
        view=view,
        days=days,
        prev_day=(first - step).isoformat(),
        next_day=(first + step).isoformat(),
        may_mark=chosen is not None and (sees_all(access) or chosen.id == me.id),
        now=console.clock(),
        notice=notice,
        error=error,
    )


async def listing(console: Console, request: Request, access: Access) -> Response:
    return await schedule(console, request, access)


async def mark_attendance(console: Console, request: Request, access: Access) -> Response:
    code = str(request.path_params.get("code", ""))[:16]
    outcome = await form_text(request, "outcome", 16)
    booking = await console.store.bookings.by_code(code)
    if booking is not None:  # another office's booking is not found either
        counsellor = await console.store.staff.get(booking.staff_id)
        if counsellor is None or counsellor.office_id != office_of(access):
            booking = None
    if booking is None or outcome not in MARKS:
        reason = console.t(request, "error_not_found")
        error = console.t(request, "bookings_mark_error", reason=reason)
        return await schedule(console, request, access, error=error, status=400)
    if not sees_all(access) and booking.staff_id != access.member.id:
        return console.error(request, access, 403, "error_forbidden")
    config = await reader_config(console, access)  # the booking's office is the reader's
    if outcome == "no_show":
        if not has_started(booking, console.clock()):
            reason = console.t(
                request, "bookings_too_early", time=span(config.office.tz, booking)[:5]
            )
            error = console.t(request, "bookings_mark_error", reason=reason)
            return await schedule(console, request, access, error=error, status=400)
        if not await confirmed(request):
            query = request.url.query
            return ask_first(
                console,
                request,
                access,
                question=console.t(request, "bookings_no_show_confirm", code=booking.code),
                detail=console.t(request, "bookings_no_show_detail"),
                yes=console.t(request, "bookings_no_show_yes"),
                back=f"{PREFIX}/bookings" + (f"?{query}" if query else ""),
                fields=[("outcome", outcome)],
            )
    try:
        marked, _ = await mark(
            console.store,
            booking.code,
            outcome,
            texts=console.office.texts,
            config=config,
            tz=config.office.tz,
            now=console.clock(),
        )
    except BookingError as exc:
        error = console.t(
            request, "bookings_mark_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await schedule(console, request, access, error=error, status=400)
    await console.audit(access, "booking_attendance", f"booking:{marked.code}", marked.status)
    status = console.t(request, "status_" + marked.status)
    notice = console.t(request, "bookings_marked", code=marked.code, status=status)
    return await schedule(console, request, access, notice=notice)


async def availability(
    console: Console,
    request: Request,
    access: Access,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    office = office_of(access)
    counsellors = await console.store.staff.list(role="counsellor", office_id=office)
    names = {c.id: c.display_name for c in counsellors}
    hours = [h for h in await console.store.bookings.hours() if h.staff_id in names]
    staff = await console.store.staff.list(office_id=office)
    on_call = [m for m in staff if {"counsellor", "supervisor"} & set(m.roles)]
    staff_names = {m.id: m.display_name for m in staff}
    tz = (await reader_config(console, access)).office.tz  # shifts and hours: office time
    today = console.clock().astimezone(tz).date()
    return console.render(
        request,
        access,
        "availability.html",
        status=status,
        counsellors=counsellors,
        names=names,
        hours=hours,
        weekdays=list(enumerate(DAY_NAMES[console.lang(request)])),
        modes=MODES,
        closures=await console.store.bookings.closures(today, office_id=office),
        on_call=on_call,
        staff_names=staff_names,
        shifts=await console.store.roster.shifts(office_id=office),
        today=today.isoformat(),
        notice=notice,
        error=error,
    )


async def availability_page(console: Console, request: Request, access: Access) -> Response:
    return await availability(console, request, access)


async def add_hours(console: Console, request: Request, access: Access) -> Response:
    form = await request.form()
    staff_raw = await form_text(request, "staff_id", 12)
    weekday = await form_text(request, "weekday", 2)
    modes = [m for m in form.getlist("mode") if isinstance(m, str)]
    member = await console.store.staff.get(int(staff_raw)) if digits(staff_raw) else None
    if member is not None and member.office_id != office_of(access):
        member = None  # another office's counsellor is not found
    try:
        if member is None or not digits(weekday) or int(weekday) > 6:
            raise BookingError("no such counsellor or weekday", "error_not_found")
        await set_hours(
            console.store,
            member.username,
            day=DAY_NAMES["en"][int(weekday)],
            start=await form_text(request, "start", 8),
            end=await form_text(request, "end", 8),
            modes=",".join(modes),
            at=console.clock(),
        )
    except BookingError as exc:
        error = console.t(
            request, "availability_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await availability(console, request, access, error=error, status=400)
    await console.audit(access, "hours_added", f"staff:{member.id}", f"weekday {weekday}")
    return await availability(
        console, request, access, notice=console.t(request, "availability_saved")
    )


async def remove_hours(console: Console, request: Request, access: Access) -> Response:
    raw = str(request.path_params.get("hours_id", ""))
    removed = None
    if digits(raw) and len(raw) < 12:
        removed = await console.store.office.remove_hours(int(raw), office_id=office_of(access))
    if removed is None:
        reason = console.t(request, "error_not_found")
        error = console.t(request, "availability_error", reason=reason)
        return await availability(console, request, access, error=error, status=400)
    await console.audit(access, "hours_removed", f"hours:{raw}", "weekly hours removed")
    notice = console.t(request, "availability_removed")
    return await availability(console, request, access, notice=notice)


async def closure_add(console: Console, request: Request, access: Access) -> Response:
    try:
        closure = await add_closure(
            console.store,
            await form_text(request, "day", 12),
            await form_text(request, "reason", 120),
            console.clock(),
            office_id=office_of(access),
        )
    except BookingError as exc:
        error = console.t(
            request, "availability_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await availability(console, request, access, error=error, status=400)
    await console.audit(access, "closure_added", f"day:{closure.day.isoformat()}", "office closed")
    return await availability(console, request, access, notice=console.t(request, "closures_saved"))


async def closure_remove(console: Console, request: Request, access: Access) -> Response:
    day = str(request.path_params.get("day", ""))[:12]
    try:
        await remove_closure(console.store, day, office_id=office_of(access))
    except BookingError as exc:
        error = console.t(
            request, "availability_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await availability(console, request, access, error=error, status=400)
    await console.audit(access, "closure_removed", f"day:{parse_date(day).isoformat()}", "reopened")
    return await availability(
        console, request, access, notice=console.t(request, "closures_removed")
    )


async def shift_add(console: Console, request: Request, access: Access) -> Response:
    staff_raw = await form_text(request, "staff_id", 12)
    weekday = await form_text(request, "weekday", 2)
    member = await console.store.staff.get(int(staff_raw)) if digits(staff_raw) else None
    if member is not None and member.office_id != office_of(access):
        member = None  # another office's staff member is not found
    try:
        if member is None or not member.active or not digits(weekday) or int(weekday) > 6:
            raise RosterInputError("no such staff member or weekday", "error_not_found")
        start = parse_time(await form_text(request, "start", 8))
        end = parse_time(await form_text(request, "end", 8), end=True)
        # An end at or before the start is a shift through midnight (roster.Shift).
        shift_id = await console.store.roster.add(
            member.id, int(weekday), start, end % 1440 or 1440, console.clock()
        )
    except (RosterInputError, StorageError) as exc:
        error = console.t(
            request, "availability_error", reason=said(exc, console.lang(request), console.texts)
        )
        return await availability(console, request, access, error=error, status=400)
    await console.store.audit.record(
        AuditEntry(
            f"staff:{access.member.id}",
            "roster_added",
            f"shift:{shift_id},staff:{member.id}",
            "on-call shift added",
        )
    )
    return await availability(console, request, access, notice=console.t(request, "roster_saved"))


async def shift_remove(console: Console, request: Request, access: Access) -> Response:
    raw = str(request.path_params.get("shift_id", ""))
    try:
        if not digits(raw) or len(raw) > 12:
            raise RosterInputError("no such shift", "error_not_found")
        await console.store.roster.remove(int(raw), office_id=office_of(access))
    except (RosterInputError, StorageError):
        reason = console.t(request, "error_not_found")
        error = console.t(request, "availability_error", reason=reason)
        return await availability(console, request, access, error=error, status=400)
    await console.store.audit.record(
        AuditEntry(
            f"staff:{access.member.id}",
            "roster_removed",
            f"shift:{raw}",
            "on-call shift removed",
        )
    )
    return await availability(console, request, access, notice=console.t(request, "roster_removed"))


routes = [
    PageRoute("/bookings", listing, Need.BOOKINGS),
    PageRoute("/bookings/{code}/mark", mark_attendance, Need.BOOKINGS, ("POST",)),
    PageRoute("/availability", availability_page, Need.OFFICE),
    PageRoute("/availability/hours", add_hours, Need.OFFICE, ("POST",)),
    PageRoute("/availability/hours/{hours_id}/remove", remove_hours, Need.OFFICE, ("POST",)),
    PageRoute("/availability/closures", closure_add, Need.OFFICE, ("POST",)),
    PageRoute("/availability/closures/{day}/remove", closure_remove, Need.OFFICE, ("POST",)),
    PageRoute("/availability/roster", shift_add, Need.OFFICE, ("POST",)),
    PageRoute("/availability/roster/{shift_id}/remove", shift_remove, Need.OFFICE, ("POST",)),
]
