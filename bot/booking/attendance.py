"""Attendance from Telegram: a counsellor records that a family came or did not come.

`/hadir KODE` (`/attended`) and `/tidakhadir KODE` (`/noshow`), and the two
buttons `/jadwal` puts under each of today's appointments whose time has come
and that nobody recorded yet (`!att:<code>:attended`, a live action button, see
bot.channels.base.ACTION_PREFIX). Everything goes through
`bot.booking.admin.mark`, the same code as the console and the command line, so
a no-show is refused before the appointment's start (the family is never told
"we did not get to meet" ahead of time) and its follow-up is sent once. A
counsellor records their own appointments; a supervisor anyone's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.booking import BookingError
from bot.booking.admin import has_started, mark
from bot.booking.schedule import Appointment
from bot.booking.timefmt import format_when
from bot.channels.base import ACTION_PREFIX
from bot.config import Config
from bot.core.texts import BotTexts
from bot.core.turns import PRIORITY_ROUTINE, Reply, TurnPlan
from bot.offices.profiles import OfficeConfigs
from flows.state import SessionState
from storage.privacy.audit import AuditEntry
from storage.records import InboxRow, StaffMember
from storage.store import Store

__all__ = ["ATTEND_PREFIX", "AttendanceDesk", "attendance_buttons"]

ATTEND_PREFIX = f"{ACTION_PREFIX}att:"
COMMANDS = {
    "hadir": "attended",
    "attended": "attended",
    "tidakhadir": "no_show",
    "tidak_hadir": "no_show",
    "noshow": "no_show",
    "no_show": "no_show",
}
MAX_BUTTONS = 8  # four appointments: a keyboard a thumb can still read


def attendance_buttons(
    appointments: Sequence[Appointment], *, now: datetime, texts: BotTexts, language: str
) -> tuple[tuple[str, str], ...]:
    """Came / did not come for each appointment whose time has come, not yet recorded."""
    buttons: list[tuple[str, str]] = []
    for a in sorted(appointments, key=lambda a: a.starts_at):
        if a.status != "confirmed" or now < a.starts_at:
            continue
        buttons.append(
            (
                f"{ATTEND_PREFIX}{a.code}:attended",
                texts.get("booking.attendance.came_button", language, code=a.code),
            )
        )
        buttons.append(
            (
                f"{ATTEND_PREFIX}{a.code}:no_show",
                texts.get("booking.attendance.missed_button", language, code=a.code),
            )
        )
    return tuple(buttons[-MAX_BUTTONS:])


def _wanted(row: InboxRow) -> tuple[str, str] | None:
    """(outcome, code) of an attendance press or command; None for anything else."""
    if row.kind == "choice" and row.text.startswith(ATTEND_PREFIX):
        code, _, outcome = row.text.removeprefix(ATTEND_PREFIX).partition(":")
        return (outcome, code) if outcome in ("attended", "no_show") else None
    if row.kind != "text" or not row.text.startswith("/"):
        return None
    head, _, rest = row.text[1:].strip().partition(" ")
    command = COMMANDS.get(head.split("@", 1)[0].lower())
    return None if command is None else (command, rest.strip())


class AttendanceDesk:
    """Plans the reply to a linked staff member's attendance command or button."""

    def __init__(
        self,
        store: Store,
        texts: BotTexts,
        config: Config,
        clock: Callable[[], datetime],
        offices: OfficeConfigs | None = None,
    ) -> None:
        self._store = store
        self._texts = texts
        self._clock = clock
        self._offices = OfficeConfigs(store, config) if offices is None else offices

    async def plan(self, row: InboxRow, member: StaffMember, keep: SessionState) -> TurnPlan | None:
        wanted = _wanted(row)
        if wanted is None:
            return None
        outcome, code = wanted
        language = keep.language
        return TurnPlan(
            state=keep,
            replies=(Reply(await self._answer(member, outcome, code, language)),),
            priority=PRIORITY_ROUTINE,
        )

    async def _answer(self, member: StaffMember, outcome: str, code: str, language: str) -> str:
        def text(key: str, **values: str) -> str:
            return self._texts.get(f"booking.attendance.{key}", language, **values)

        if not code:
            return text("how")
        booking = await self._store.bookings.by_code(code)
        if booking is None:
            return text("not_found")
        if booking.staff_id != member.id:
            booked = await self._store.staff.get(booking.staff_id)
            if booked is None or booked.office_id != member.office_id:
                # Another office's booking is a code never given (as another office's case
                # is in the console): nothing of it is said, nothing marked.
                return text("not_found")
            if "supervisor" not in member.roles:
                return text("not_yours", code=booking.code)
        # The booked counsellor's office's time (the family's too: a family books its own
        # office), whoever marks it: the marker's own office either way.
        config = await self._offices.for_office(member.office_id)
        tz, now = config.office.tz, self._clock()
        if outcome == "no_show" and not has_started(booking, now):
            return text(
                "too_early", code=booking.code, time=format_when(booking.starts_at, tz, language)
            )
        try:
            marked, _ = await mark(
                self._store,
                booking.code,
                outcome,
                texts=self._texts,
                config=config,
                tz=tz,
                now=now,
            )
        except BookingError:
            return text("not_found")
        # The same row the console writes for the same act (bot/console/pages/bookings.py).
        await self._store.audit.record(
            AuditEntry(
                f"staff:{member.id}", "booking_attendance", f"booking:{marked.code}", marked.status
            )
        )
        status = self._texts.get(f"booking.schedule.{marked.status}", language)
        return text("marked", code=marked.code, status=status)
