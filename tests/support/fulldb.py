"""A database that cannot grow: SQLite's own limit on its pages (`PRAGMA max_page_count`
on the bot's writer connection) makes a write fail with SQLITE_FULL, as a full disk
does, where mounting a small file system is not allowed."""

from __future__ import annotations

from storage.engine.db import Tx
from storage.errors import StorageFaultError
from storage.store import Store

__all__ = ["FILLS_SQLITE", "fill_database", "give_room", "make_full"]

FILLS_SQLITE = (
    "fills the SQLite file (its page limit or a tiny disk under the data folder); a full"
    " PostgreSQL server is SQLSTATE 53100, a StorageFaultError (storage/engine/pgdb.py)"
)
"""Why a test that fills the database is SQLite's (the `sqlite_only` marker's reason)."""


async def make_full(store: Store) -> int:
    """Stops the bot's writer connection from growing the database file past its size
    now (SQLite's own limit: a write that needs a new page fails with SQLITE_FULL),
    after using up the free pages. Returns the limit set."""

    async def limit(tx: Tx) -> int:
        pages = (await tx.fetchone("PRAGMA page_count"))[0]  # type: ignore[index]
        return int((await tx.fetchone(f"PRAGMA max_page_count = {pages}"))[0])  # type: ignore[index]

    return await store._writer.run("limit pages", limit)


async def fill_database(store: Store) -> None:
    """`make_full`, then fills the last free pages until SQLite refuses a write (the bot
    sees that refusal like any other: it pauses, and its probe fails until `give_room`)."""
    await make_full(store)
    for n in range(100_000):

        async def junk(tx: Tx, n: int = n) -> None:
            await tx.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?)", (f"junk{n}", "0" * 3000)
            )

        try:
            await store._writer.run("junk", junk)
        except StorageFaultError:
            return
    raise AssertionError("the database never became full")


async def give_room(store: Store) -> None:
    async def unlimited(tx: Tx) -> None:
        await tx.fetchone("PRAGMA max_page_count = 1073741823")

    await store._writer.run("room again", unlimited)
