"""Each counsellor's private calendar feed: booking codes, modes and times, nothing else.

The feed's address carries a random token (`lk3 booking ical-url USERNAME`
issues a new one and voids the old); the database keeps only its keyed hash.
A calendar app that syncs the feed holds no name, number or problem, so a lost
phone or a shared calendar gives nobody's story away. The feed names the
counsellor's office's time zone (`[offices.<code>] timezone`). Built with the
maintained `icalendar` library.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo

from icalendar import Calendar, Event
from starlette.requests import Request
from starlette.responses import Response

from bot.booking.schedule import Appointment
from bot.config import Config
from bot.offices.profiles import OfficeConfigs
from bot.web import Endpoint
from storage.store import Store

__all__ = ["ICAL_ROUTE", "build_feed", "feed_for_token", "ical_endpoint", "new_token"]

ICAL_ROUTE = "/ical/{token}.ics"
PAST_DAYS = 30
AHEAD_DAYS = 120
CONTENT_TYPE = "text/calendar; charset=utf-8"


def new_token() -> str:
    """A feed token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def build_feed(appointments: Sequence[Appointment], *, now: datetime, tz: tzinfo) -> bytes:
    """The .ics text for these appointments (UTC times; the calendar app shows local)."""
    calendar = Calendar()
    calendar.add("prodid", "-//LK3 bot//booking feed//ID")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "LK3 – jadwal konsultasi")
    calendar.add("x-wr-timezone", str(tz))
    for item in appointments:
        event = Event()
        event.add("uid", f"{item.code}@lk3-booking")
        event.add("dtstamp", now)
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
        event.add("summary", f"Konsultasi {item.code} ({item.mode})")
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


async def feed_for_token(
    store: Store, token: str, *, now: datetime, offices: OfficeConfigs
) -> bytes | None:
    """The feed the token opens, in its counsellor's office's time zone, or None for a
    wrong or revoked token."""
    if not token or len(token) > 200:
        return None
    staff_id = await store.bookings.staff_for_feed_token(token)
    if staff_id is None:
        return None
    bookings = await store.bookings.for_staff(
        staff_id, now - timedelta(days=PAST_DAYS), now + timedelta(days=AHEAD_DAYS)
    )
    tz = (await offices.for_staff(staff_id)).office.tz
    return build_feed([Appointment.of(b) for b in bookings], now=now, tz=tz)


def ical_endpoint(store: Store, *, config: Config, clock: Callable[[], datetime]) -> Endpoint:
    """`GET /ical/{token}.ics` for the web server's route registry."""
    offices = OfficeConfigs(store, config)

    async def endpoint(request: Request) -> Response:
        token = str(request.path_params.get("token", ""))
        body = await feed_for_token(store, token, now=clock(), offices=offices)
        if body is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": "private, max-age=300"}
        return Response(body, media_type=CONTENT_TYPE, headers=headers)

    return endpoint
