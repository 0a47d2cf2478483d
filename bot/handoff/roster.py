"""`lk3 roster add|list|remove`: the on-call roster, by weekday and office time.

    lk3 roster add sari --day senin --from 08:00 --to 16:00
    lk3 roster add budi --day sabtu --from 22:00 --to 06:00   (runs past midnight)
    lk3 roster list
    lk3 roster remove 3

Urgent cases alert whoever is on duty now (bot/handoff/escalation.py); when nobody is,
every linked counsellor and the supervisors.

    RosterInputError   a day or a time that cannot be read (the message says which)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import OfficeError

if TYPE_CHECKING:
    from storage.store import Store

__all__ = ["DAYS", "RosterInputError", "add_roster_commands", "parse_day", "parse_time"]

DAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
_ENGLISH = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")

WithStore = Callable[[argparse.Namespace, Callable[["Store"], Awaitable[int]]], int]


class RosterInputError(OfficeError, ValueError):
    """A roster day or time that cannot be read."""


def parse_day(text: str) -> int:
    """`senin`/`monday`/`sen` -> 0 ... `minggu`/`sunday` -> 6."""
    word = text.strip().lower().replace("'", "")
    for names in (DAYS, _ENGLISH):
        for index, name in enumerate(names):
            if word == name or (len(word) >= 3 and name.startswith(word)):
                return index
    raise RosterInputError(
        f"day {text!r} is not one of {', '.join(DAYS)}", "problem_day_name", text=text
    )


def parse_time(text: str, *, end: bool = False) -> int:
    """`08:00` -> 480 minutes; `24:00` only as an end time."""
    key = "problem_end_time" if end else "problem_start_time"
    found = _TIME.fullmatch(text.strip())
    if found is None:
        raise RosterInputError(f"time {text!r} is not HH:MM", key, text=text)
    hours, mins = int(found.group(1)), int(found.group(2))
    total = hours * 60 + mins
    if mins >= 60 or total > 1440 or (total == 1440 and not end):
        raise RosterInputError(f"time {text!r} is not a time of day", key, text=text)
    return total


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def add_roster_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], with_store: WithStore
) -> None:
    roster = sub.add_parser("roster", help="the on-call roster for urgent alerts")
    actions = roster.add_subparsers(metavar="ACTION")
    add = actions.add_parser("add", help="put a staff member on duty on a weekday")
    add.add_argument("username")
    add.add_argument("--day", required=True, help="senin ... minggu (or monday ... sunday)")
    add.add_argument("--from", dest="start", required=True, help="HH:MM, office time")
    add.add_argument("--to", dest="end", required=True, help="HH:MM, office time")
    add.add_argument("--config", type=Path)
    listing = actions.add_parser("list", help="list the shifts")
    listing.add_argument("--config", type=Path)
    remove = actions.add_parser("remove", help="remove a shift by its id")
    remove.add_argument("shift_id", type=int)
    remove.add_argument("--config", type=Path)

    def do_add(args: argparse.Namespace) -> int:
        from bot.console.say import no_staff, terminal_lines
        from storage import StorageError
        from storage.engine.clock import utc_now

        try:
            day = parse_day(args.day)
            start, end = parse_time(args.start), parse_time(args.end, end=True)
        except RosterInputError as exc:
            print(terminal_lines(exc), file=sys.stderr)
            return 1

        async def action(store: Store) -> int:
            member = await store.staff.by_username(args.username)
            if member is None or not member.active:
                print(no_staff(args.username), file=sys.stderr)
                return 1
            try:
                shift_id = await store.roster.add(
                    member.id, day, start, end % 1440 or 1440, utc_now()
                )
            except StorageError as exc:
                print(terminal_lines(exc), file=sys.stderr)
                return 1
            print(f"shift {shift_id}: {member.username} {DAYS[day]} {args.start}-{args.end}")
            return 0

        return with_store(args, action)

    def do_list(args: argparse.Namespace) -> int:
        async def action(store: Store) -> int:
            shifts = await store.roster.shifts()
            if not shifts:
                print("no shifts: urgent alerts go to every linked counsellor and supervisor")
            for s in shifts:
                print(
                    f"{s.id:>4}  {DAYS[s.day]:<7} {_clock_text(s.start_minute)}-"
                    f"{_clock_text(s.end_minute)}  {s.username}"
                )
            return 0

        return with_store(args, action)

    def do_remove(args: argparse.Namespace) -> int:
        from bot.console.say import terminal_lines
        from storage import StorageError

        async def action(store: Store) -> int:
            try:
                await store.roster.remove(args.shift_id)
            except StorageError as exc:
                print(terminal_lines(exc), file=sys.stderr)
                return 1
            print(f"removed shift {args.shift_id}")
            return 0

        return with_store(args, action)

    add.set_defaults(handler=do_add)
    listing.set_defaults(handler=do_list, read_only=True)
    remove.set_defaults(handler=do_remove)
