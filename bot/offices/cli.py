"""`lk3 office add CODE "Name"`, `list`, `assign`, `rename CODE "Name"` and `archive CODE`:
the offices one deployment serves. A rename and an archive each write an audit row (an
office's code never changes: links on posters keep working; an archived office takes no
new families, and its staff still read its cases)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.store import Store

__all__ = ["add_office_commands"]

WithStore = Callable[[argparse.Namespace, Callable[["Store"], Awaitable[int]]], int]


def add_office_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], with_store: WithStore
) -> None:
    office = sub.add_parser("office", help="the offices this deployment serves")
    actions = office.add_subparsers(metavar="ACTION")
    add = actions.add_parser("add", help="add an office (CODE: a short slug such as ambon)")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--config", type=Path)
    listing = actions.add_parser("list", help="list the offices")
    listing.add_argument("--config", type=Path)
    move = actions.add_parser("assign", help="move a staff member to an office")
    move.add_argument("username")
    move.add_argument("code")
    move.add_argument("--config", type=Path)

    def do_add(args: argparse.Namespace) -> int:
        from bot.console.say import terminal_lines
        from storage import StorageError
        from storage.engine.clock import utc_now

        async def action(store: Store) -> int:
            try:
                added = await store.offices.add(args.code, args.name, utc_now())
            except StorageError as exc:
                print(terminal_lines(exc), file=sys.stderr)
                return 1
            print(f"added office {added.code} ({added.name}), id {added.id}")
            return 0

        return with_store(args, action)

    def do_list(args: argparse.Namespace) -> int:
        from bot.config import load_config

        configured = load_config(args.config).office.name

        async def action(store: Store) -> int:
            for each in await store.offices.list(include_archived=True):
                name = each.name or f"{configured} (from the configuration)"
                state = " (archived)" if each.archived else ""
                print(f"{each.id:>4}  {each.code:<20} {name}{state}")
            return 0

        return with_store(args, action)

    def do_assign(args: argparse.Namespace) -> int:
        from bot.console.say import no_office, no_staff

        async def action(store: Store) -> int:
            member = await store.staff.by_username(args.username)
            if member is None:
                print(no_staff(args.username), file=sys.stderr)
                return 1
            target = await store.offices.by_code(args.code)
            if target is None:
                print(no_office(args.code), file=sys.stderr)
                return 1
            await store.offices.assign_staff(member.id, target.id)
            print(f"{member.username} now works in {target.code}")
            return 0

        return with_store(args, action)

    rename = actions.add_parser("rename", help="give an office a new name (its code stays)")
    rename.add_argument("code")
    rename.add_argument("name")
    rename.add_argument("--config", type=Path)
    archive = actions.add_parser(
        "archive", help="close an office to new families (its cases stay readable)"
    )
    archive.add_argument("code")
    archive.add_argument("--config", type=Path)

    def do_rename(args: argparse.Namespace) -> int:
        from bot.console.say import no_office, terminal_lines
        from storage import StorageError
        from storage.privacy.audit import AuditEntry

        async def action(store: Store) -> int:
            office = await store.offices.by_code(args.code)
            if office is None:
                print(no_office(args.code), file=sys.stderr)
                return 1
            try:
                renamed = await store.offices.rename(office.id, args.name)
            except StorageError as exc:
                print(terminal_lines(exc), file=sys.stderr)
                return 1
            if renamed.name != office.name:
                before = office.name or "(the configured [office] name)"
                await store.audit.record(
                    AuditEntry(
                        "cli",
                        "office_renamed",
                        f"office:{office.code}",
                        f"{before} -> {renamed.name}",
                    )
                )
            print(f"office {renamed.code} is now named {renamed.name}")
            return 0

        return with_store(args, action)

    def do_archive(args: argparse.Namespace) -> int:
        from bot.console.say import no_office, terminal_lines
        from storage import StorageError
        from storage.engine.clock import utc_now
        from storage.privacy.audit import AuditEntry

        async def action(store: Store) -> int:
            office = await store.offices.by_code(args.code)
            if office is None:
                print(no_office(args.code), file=sys.stderr)
                return 1
            try:
                archived = await store.offices.archive(office.id, utc_now())
            except StorageError as exc:
                print(terminal_lines(exc), file=sys.stderr)
                return 1
            if not office.archived:
                await store.audit.record(
                    AuditEntry(
                        "cli",
                        "office_archived",
                        f"office:{archived.code}",
                        "no new families; its cases stay readable by its staff",
                    )
                )
            print(
                f"office {archived.code} is archived: it takes no new families;"
                " its staff still read its cases"
            )
            return 0

        return with_store(args, action)

    add.set_defaults(handler=do_add)
    rename.set_defaults(handler=do_rename)
    archive.set_defaults(handler=do_archive)
    listing.set_defaults(handler=do_list, read_only=True)
    move.set_defaults(handler=do_assign)
