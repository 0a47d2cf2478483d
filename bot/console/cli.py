"""`lk3 staff passwd USERNAME`: sets a console password (the first admin's way in)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.console.auth.passwords import Hasher, PasswordError, check_new_password
from bot.console.say import no_staff, terminal_lines
from storage.privacy.audit import AuditEntry
from storage.store import Store

__all__ = ["add_passwd_command"]

WithStore = Callable[[argparse.Namespace, Callable[[Store], Awaitable[int]]], int]


def add_passwd_command(
    staff_sub: argparse._SubParsersAction[argparse.ArgumentParser], with_store: WithStore
) -> None:
    passwd = staff_sub.add_parser(
        "passwd",
        help="set a console password (asked twice; or one line on standard input)",
    )
    passwd.add_argument("username")
    passwd.add_argument("--config", type=Path)
    passwd.set_defaults(handler=lambda args: _passwd(args, with_store))


def read_password(stdin: TextIO, prompt: Callable[[str], str] = getpass.getpass) -> str:
    """From the terminal (twice, hidden) or, when piped, the first line of standard input."""
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = prompt("New console password: ")
    if prompt("Again: ") != first:
        raise PasswordError("the two passwords differ", "problem_password_differ")
    return first


def _passwd(args: argparse.Namespace, with_store: WithStore) -> int:
    try:
        password = read_password(sys.stdin)
        check_new_password(password)
    except PasswordError as exc:
        print(terminal_lines(exc), file=sys.stderr)
        return 1
    password_hash = Hasher().hash(password)

    async def action(store: Store) -> int:
        member = await store.staff.by_username(args.username)
        if member is None or not member.active:
            print(no_staff(args.username), file=sys.stderr)
            return 1
        await store.console.set_password(member.id, password_hash)
        await store.audit.record(
            AuditEntry("cli", "staff_password_set", f"staff:{member.id}", "lk3 staff passwd")
        )
        print(
            f"console password set for {member.username};"
            " a second factor is enrolled at first sign-in if not yet"
        )
        return 0

    return with_store(args, action)
