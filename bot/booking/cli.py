"""`lk3 booking ...`: counsellors' hours, office closures, attendance, schedules, feeds.

Argparse only; the work is in `bot.booking.admin`. Heavy imports wait until a
command runs, so `lk3 --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import load_config

if TYPE_CHECKING:
    from bot.config import Config
    from storage.store import Store

__all__ = ["add_booking_commands"]

WithStore = Callable[[argparse.Namespace, Callable[["Store"], Awaitable[int]]], int]


def add_booking_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], with_store: WithStore
) -> None:
    """Adds `lk3 booking` and its actions; `with_store` opens the configured store."""
    booking = sub.add_parser("booking", help="consultation bookings: hours, closures, schedules")
    actions = booking.add_subparsers(metavar="ACTION")

    def command(
        name: str, help_text: str, run: Callable[..., Awaitable[int]], *, read_only: bool = False
    ) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        parser.add_argument("--config", type=Path, help="configuration file (TOML)")

        def handler(args: argparse.Namespace) -> int:
            if name == "hours":  # showing a counsellor's hours only reads
                args.read_only = not (args.day or args.start or args.end or args.clear)
            return with_store(args, lambda store: run(store, args))

        # A command that only reads runs beside the bot; one that writes waits for it to stop.
        parser.set_defaults(handler=handler, read_only=read_only)
        return parser

    hours = command("hours", "show or set a counsellor's weekly hours", _hours)
    hours.add_argument("username")
    hours.add_argument(
        "--day", help="senin, selasa, rabu, kamis, jumat, sabtu, minggu (several: senin,selasa)"
    )
    hours.add_argument("--from", dest="start", help="start, like 09:00 (office time)")
    hours.add_argument("--to", dest="end", help="end, like 12:00 (office time)")
    hours.add_argument("--modes", default="kantor", help="kantor,telepon,chat,kunjungan")
    hours.add_argument("--clear", action="store_true", help="remove the hours (of --day, or all)")

    closures = actions.add_parser("closures", help="days the office is closed")
    closure_actions = closures.add_subparsers(metavar="ACTION")
    for name, help_text, run in (
        ("add", "close the office on a day", _closure_add),
        ("remove", "open a closed day again", _closure_remove),
        ("list", "list the closures (and national holidays ahead)", _closure_list),
    ):
        parser = closure_actions.add_parser(name, help=help_text)
        parser.add_argument("--config", type=Path)
        parser.add_argument("--office", default="", help="the office's code (default: utama)")
        if name != "list":
            parser.add_argument("day", help="the date, like 2026-12-24")
        if name == "add":
            parser.add_argument("--reason", required=True, help="why (staff see it in the list)")
        parser.set_defaults(
            handler=lambda args, run=run: with_store(args, lambda store: run(store, args)),
            read_only=name == "list",
        )

    marking = command("mark", "record that a family came, or did not", _mark)
    marking.add_argument("code", help="the booking code")
    marking.add_argument("outcome", choices=("attended", "no-show"))

    schedule = command("schedule", "today's and tomorrow's appointments", _schedule, read_only=True)
    schedule.add_argument("username")

    feed = command("ical-url", "a new private calendar address (the old one stops)", _feed)
    feed.add_argument("username")

    slots = command("slots", "the free times a family would be offered now", _slots, read_only=True)
    slots.add_argument("--mode", help="only this mode")
    slots.add_argument("--urgent", action="store_true", help="as a segera case sees them")
    slots.add_argument("--office", default="", help="the office's code (default: utama)")


async def _office_id(store: Store, code: str) -> int | None:
    """The id of the office `--office` names (the default office without one); None, said
    on stderr, for a code no office has."""
    from bot.console.say import no_office
    from storage.offices.repo import DEFAULT_OFFICE_CODE

    office = await store.offices.by_code(code or DEFAULT_OFFICE_CODE)
    if office is None:
        print(no_office(code), file=sys.stderr)
        return None
    return office.id


async def _office_config(
    store: Store, args: argparse.Namespace, *, office_id: int = 1, staff_id: int | None = None
) -> Config:
    """The configuration in the words and time zone of one office (`[offices.<code>]`):
    the office `office_id`, or the office of the staff member `staff_id`."""
    from bot.offices.profiles import OfficeConfigs

    offices = OfficeConfigs(store, load_config(args.config))
    if staff_id is not None:
        return await offices.for_staff(staff_id)
    return await offices.for_office(office_id)


def _fail(refusal: BaseException) -> int:
    """Prints why, in Indonesian then English (`bot.console.say`)."""
    from bot.console.say import terminal_lines

    print(terminal_lines(refusal), file=sys.stderr)
    return 1


async def _hours(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from storage.engine.clock import utc_now

    try:
        if args.clear:
            removed = await admin.clear_hours(store, args.username, args.day)
            print(f"removed {removed} block(s) of hours")
            return 0
        if args.day or args.start or args.end:
            if not (args.day and args.start and args.end):
                together = "give --day, --from and --to together"
                return _fail(BookingError(together, "problem_hours_together"))
            for day in args.day.split(","):
                await admin.set_hours(
                    store,
                    args.username,
                    day=day,
                    start=args.start,
                    end=args.end,
                    modes=args.modes,
                    at=utc_now(),
                )
        lines = await admin.hours_lines(store, args.username)
    except BookingError as exc:
        return _fail(exc)
    print("\n".join(lines) if lines else f"{args.username} has no weekly hours yet")
    return 0


async def _closure_add(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from storage.engine.clock import utc_now

    office_id = await _office_id(store, args.office)
    if office_id is None:
        return 1
    try:
        closure = await admin.add_closure(
            store, args.day, args.reason, utc_now(), office_id=office_id
        )
    except BookingError as exc:
        return _fail(exc)
    print(f"closed on {closure.day.isoformat()}: {closure.reason}")
    return 0


async def _closure_remove(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin

    office_id = await _office_id(store, args.office)
    if office_id is None:
        return 1
    try:
        await admin.remove_closure(store, args.day, office_id=office_id)
    except BookingError as exc:
        return _fail(exc)
    print(f"open again on {args.day}")
    return 0


async def _closure_list(store: Store, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.booking.calendar import national_holidays
    from storage.engine.clock import utc_now

    office_id = await _office_id(store, args.office)
    if office_id is None:
        return 1
    config = await _office_config(store, args, office_id=office_id)
    today = utc_now().astimezone(config.office.tz).date()  # the office's own today
    rows = [(c.day, c.reason) for c in await store.bookings.closures(today, office_id=office_id)]
    rows += list(national_holidays(today, today + timedelta(days=365)).items())
    for day, reason in sorted(rows):
        print(f"{day.isoformat()}  {reason}")
    return 0


async def _mark(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from bot.core.texts import BotTexts
    from storage.engine.clock import utc_now

    booked = await store.bookings.by_code(args.code)  # None: admin.mark says so
    staff_id = None if booked is None else booked.staff_id
    config = await _office_config(store, args, staff_id=staff_id)  # the counsellor's office
    try:
        booking, changed = await admin.mark(
            store,
            args.code,
            args.outcome,
            texts=BotTexts.load(languages=config.languages),
            config=config,
            tz=config.office.tz,
            now=utc_now(),
        )
    except BookingError as exc:
        return _fail(exc)
    state = "recorded" if changed else "already recorded"
    print(f"{booking.code}: {booking.status.replace('_', '-')} {state}")
    return 0


async def _schedule(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from bot.core.texts import BotTexts
    from storage.engine.clock import utc_now

    try:
        member = await admin.counsellor(store, args.username)
        config = await _office_config(store, args, office_id=member.office_id)
        text = await admin.schedule_text(
            store,
            args.username,
            texts=BotTexts.load(languages=config.languages),
            tz=config.office.tz,  # the counsellor's office's days
            now=utc_now(),
        )
    except BookingError as exc:
        return _fail(exc)
    print(text)
    return 0


async def _feed(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from storage.engine.clock import utc_now

    config = load_config(args.config)
    try:
        url = await admin.feed_url(
            store, args.username, public_url=config.web.public_url, now=utc_now()
        )
    except BookingError as exc:
        return _fail(exc)
    print(f"private calendar address for {args.username} (the previous one no longer works):")
    print(url)
    if not config.web.public_url:
        print("(set [web] public_url to print the full address)")
    return 0


async def _slots(store: Store, args: argparse.Namespace) -> int:
    from bot.booking import BookingError, admin
    from bot.core.texts import BotTexts
    from storage.engine.clock import utc_now

    office_id = await _office_id(store, args.office)
    if office_id is None:
        return 1
    config = await _office_config(store, args, office_id=office_id)
    try:
        lines = await admin.preview_slots(
            store,
            config=config,
            texts=BotTexts.load(languages=config.languages),
            tz=config.office.tz,  # the office's days and times
            now=utc_now(),
            mode=args.mode,
            urgent=args.urgent,
            office_id=office_id,
        )
    except BookingError as exc:
        return _fail(exc)
    print("\n".join(lines))
    return 0
