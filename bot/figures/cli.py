"""`lk3 figures cases --month 2026-11 > cases.csv`, `lk3 api-token add|list|revoke`,
`lk3 webhook secret`.

`figures cases` only reads, so it runs beside the bot (every office's cases, or one
office's with `--office`); the token commands write and hold the data folder. A new
token is printed once, on stdout, and never again: only its hash is kept. A token
reads one office (`--office CODE`, an office of `lk3 office list`).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import load_config
from bot.figures.casecsv import case_csv
from bot.figures.months import month_of, month_window

if TYPE_CHECKING:
    from storage.store import Store

__all__ = ["add_figures_commands"]

WithStore = Callable[[argparse.Namespace, Callable[["Store"], Awaitable[int]]], int]


def add_figures_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], with_store: WithStore
) -> None:
    figures = sub.add_parser("figures", help="records out: the month's cases as CSV")
    figures_sub = figures.add_subparsers(metavar="ACTION")
    cases = figures_sub.add_parser("cases", help="the month's cases as CSV on stdout")
    cases.add_argument("--month", required=True, help="YYYY-MM, office time")
    cases.add_argument("--office", help="one office's cases (its code); default: every office")
    cases.add_argument("--config", type=Path)
    cases.set_defaults(handler=lambda a: _cases(a, with_store), read_only=True)

    tokens = sub.add_parser("api-token", help="bearer tokens of the read-only figures API")
    tokens_sub = tokens.add_subparsers(metavar="ACTION")
    add = tokens_sub.add_parser("add", help="a new token for one office (printed once)")
    add.add_argument("--office", required=True, help="the office code the token may read")
    add.add_argument("--label", default="", help="who holds it (for the list)")
    add.add_argument("--config", type=Path)
    add.set_defaults(handler=lambda a: _token_add(a, with_store))
    listing = tokens_sub.add_parser("list", help="the tokens (never the tokens themselves)")
    listing.add_argument("--config", type=Path)
    listing.set_defaults(handler=lambda a: _token_list(a, with_store), read_only=True)
    revoke = tokens_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", type=int)
    revoke.add_argument("--config", type=Path)
    revoke.set_defaults(handler=lambda a: _token_revoke(a, with_store))

    webhook = sub.add_parser("webhook", help="case webhooks")
    webhook_sub = webhook.add_subparsers(metavar="ACTION")
    secret = webhook_sub.add_parser("secret", help="print a fresh secret for [webhooks.<name>]")
    secret.set_defaults(handler=_webhook_secret)


def _cases(args: argparse.Namespace, with_store: WithStore) -> int:
    picked = month_of(args.month)
    if picked is None:
        print(
            f"lk3: bulan {args.month!r} tidak dikenal: tulis YYYY-MM, misalnya 2026-11.\n"
            f"     month {args.month!r} is not YYYY-MM, such as 2026-11.",
            file=sys.stderr,
        )
        return 2
    config = load_config(args.config)
    # One office's month is cut at its own midnight (`[offices.<code>] timezone`).
    tz = (config if args.office is None else config.for_office(args.office)).office.tz
    since, until = month_window(*picked, tz)

    async def action(store: Store) -> int:
        office_id = None
        if args.office is not None:
            office = await store.offices.by_code(args.office)
            if office is None:
                print(_no_office(args.office), file=sys.stderr)
                return 1
            office_id = office.id
        sys.stdout.write(case_csv(await store.case_rows.month(since, until, office_id), tz))
        return 0

    return with_store(args, action)


def _token_add(args: argparse.Namespace, with_store: WithStore) -> int:
    from storage.engine.clock import utc_now
    from storage.privacy.audit import AuditEntry

    async def action(store: Store) -> int:
        found = await store.offices.by_code(args.office)
        if found is None or found.archived:
            print(_no_office(args.office), file=sys.stderr)
            return 1
        office = found.code
        record, token = await store.api_tokens.add(found.id, args.label[:100], utc_now())
        await store.audit.record(
            AuditEntry("cli", "api_token_added", f"api_token:{record.id}", f"office {office}")
        )
        print(token)
        print(
            f"lk3: token {record.id} untuk kantor {office}: simpan sekarang, tidak ditampilkan"
            f" lagi.\n     token {record.id} for office {office}: keep it now, it is not"
            " shown again.",
            file=sys.stderr,
        )
        return 0

    return with_store(args, action)


def _token_list(args: argparse.Namespace, with_store: WithStore) -> int:
    async def action(store: Store) -> int:
        for t in await store.api_tokens.list():
            state = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d}"
            used = "never used" if t.last_used_at is None else f"used {t.last_used_at:%Y-%m-%d}"
            print(f"{t.id}\t{t.office}\t{t.label or '-'}\t{state}\t{used}")
        return 0

    return with_store(args, action)


def _token_revoke(args: argparse.Namespace, with_store: WithStore) -> int:
    from storage.engine.clock import utc_now
    from storage.privacy.audit import AuditEntry

    async def action(store: Store) -> int:
        if not await store.api_tokens.revoke(args.token_id, utc_now()):
            print(
                f"lk3: tidak ada token aktif {args.token_id}.\n"
                f"     no active token {args.token_id}.",
                file=sys.stderr,
            )
            return 1
        await store.audit.record(
            AuditEntry("cli", "api_token_revoked", f"api_token:{args.token_id}", "revoked")
        )
        return 0

    return with_store(args, action)


def _no_office(code: str) -> str:
    return (
        f"lk3: tidak ada kantor {code!r} (lihat: lk3 office list).\n"
        f"     there is no office {code!r} (see: lk3 office list)."
    )


def _webhook_secret(args: argparse.Namespace) -> int:
    print(secrets.token_urlsafe(32))
    return 0
