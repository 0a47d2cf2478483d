"""Booking a confidential consultation: free times, holds, confirmations, reminders.

The arithmetic of free times is pure (`slots`, `calendar`, `timefmt`); what a
family is offered and what their choices change is decided from one snapshot of
the store (`view`); `host` loads that snapshot for the pipeline, and the rest
serves counsellors and admins (`schedule`, `ical`, `admin`, `reminders`).

    BookingError         an admin's input cannot be used (a day name, a time, a code)
"""

from __future__ import annotations

from bot.errors import OfficeError

__all__ = ["BOOKING_EFFECTS", "BOOKING_FLOW", "BookingError"]

BOOKING_FLOW = "booking"
"""The bundled flow a family books in; `offer_slots` leads into it."""
BOOKING_EFFECTS = frozenset(
    {"hold_slot", "confirm_booking", "release_hold", "cancel_booking", "confirm_attendance"}
)
"""Effects of the booking flow that change a booking (carried out by `bot.booking.host`)."""


class BookingError(OfficeError):
    """An admin's or counsellor's input cannot be used; the message says which and why."""
