"""The doctor's line for a PostgreSQL deployment (`[storage] url`): the server and its backups.

    ok    database      PostgreSQL 15.x at postgresql://lk3@db/lk3: 20 migrations, 0 pending;
                        pg_dump /usr/lib/postgresql/15/bin/pg_dump for `lk3 db backup`

Only the schema's migrations are read (no table of personal data): the doctor
still opens nothing a person wrote. A SQLite deployment has no such line: its
database is a file in the data folder, which the "data folder" line checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from bot.monitoring.doctor import Check

__all__ = ["postgres_check"]


def postgres_check(config: Config) -> Check | None:
    """None on SQLite; else whether the server answers, its schema, and pg_dump is there."""
    from bot.monitoring.doctor import Check
    from storage.engine.dbfacts import has_database, migrations_of
    from storage.engine.pgtools import find_tool, safe_url
    from storage.errors import StorageError

    url = config.storage_url
    if url is None:
        return None
    where = safe_url(url)
    try:
        if not has_database(config.database_path, url):
            return Check(
                "database",
                True,
                f"{where} answers and holds no LK3 database yet: `lk3 run` creates it",
            )
        status = migrations_of(config.database_path, url)
    except StorageError as exc:
        return Check(
            "database",
            False,
            str(exc),
            "check [storage] url (or LK3_STORAGE_URL) and that the server runs and lets lk3 in",
        )
    try:
        tool = find_tool("pg_dump")
    except StorageError as exc:
        return Check("database", False, str(exc), "apt-get install postgresql-client")
    pending = f"; {len(status.pending)} pending (`lk3 run` dumps, then applies them)"
    return Check(
        "database",
        True,
        f"{where}: {len(status.applied)} migrations"
        + (pending if status.pending else ", 0 pending")
        + f"; backups through {tool}",
    )
