"""Two processes' writers deadlock on PostgreSQL: the batch the server aborts runs again,
whole, and every job commits once; no caller sees the deadlock (storage.engine.pgretry).

Two stores on one database stand for two `lk3 run` processes. Each writes the same two
rows in the opposite order, each waiting, inside its transaction, until the other holds
its first row: a real lock cycle, which the server breaks by aborting one of them with
SQLSTATE 40P01. Runs on every tier (a throwaway server of its own without --db postgres).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from storage_support import T0
from support import Clock
from support.pgshared import shared_database

from storage.crypto.keys import KeyRing
from storage.engine.db import Tx
from storage.engine.pgdb import PgWriter
from storage.engine.pgretry import is_conflict, pause_before
from storage.errors import DatabaseError
from storage.store import Store


class Crossing:
    """One process's job: its first row, then (once the other holds its own) the second."""

    def __init__(self, first: str, second: str, mark: str, mine: asyncio.Event) -> None:
        self.first, self.second, self.mark = first, second, mark
        self.holding = mine
        self.other: asyncio.Event | None = None
        self.runs = 0

    async def __call__(self, tx: Tx) -> str:
        self.runs += 1
        await tx.execute(
            "UPDATE meta SET value = value || ? WHERE name = ?", (self.mark, self.first)
        )
        self.holding.set()
        assert self.other is not None
        await asyncio.wait_for(self.other.wait(), 20)  # set already when run again
        await tx.execute(
            "UPDATE meta SET value = value || ? WHERE name = ?", (self.mark, self.second)
        )
        return self.mark


async def test_two_writers_in_a_deadlock_run_the_aborted_batch_again_and_each_job_commits_once(
    tmp_path: Path, keyring: KeyRing
) -> None:
    database = shared_database(tmp_path)
    path = tmp_path / "lk3.db"
    a = await Store.open(path, keyring, clock=Clock(T0), url=database.url)
    b = await Store.open(path, keyring, clock=Clock(T0), url=database.url)
    try:

        async def rows(tx: Tx) -> None:
            for name in ("deadlock_one", "deadlock_two"):
                await tx.execute("INSERT INTO meta (name, value) VALUES (?, '')", (name,))

        await a._writer.run("rows", rows)
        one = Crossing("deadlock_one", "deadlock_two", "a", asyncio.Event())
        two = Crossing("deadlock_two", "deadlock_one", "b", asyncio.Event())
        one.other, two.other = two.holding, one.holding

        def bystander(name: str) -> Callable[[Tx], Awaitable[str]]:
            async def job(tx: Tx) -> str:
                await tx.execute("INSERT INTO meta (name, value) VALUES (?, 'x')", (name,))
                return name

            return job

        # Each writer's batch holds its crossing job and an innocent insert beside it: the
        # insert must commit once too (a second commit would break the primary key).
        results = await asyncio.gather(
            a._writer.run("crossing a", one),
            a._writer.run("bystander a", bystander("bystander_a")),
            b._writer.run("crossing b", two),
            b._writer.run("bystander b", bystander("bystander_b")),
        )
        writers = [a._writer, b._writer]
        assert all(isinstance(w, PgWriter) for w in writers)
        retries = sum(w.retries for w in writers if isinstance(w, PgWriter))
    finally:
        await a.close()
        await b.close()
    try:
        values = dict(
            database.rows("SELECT name, value FROM meta WHERE name LIKE 'deadlock%' ORDER BY name")
        )
        bystanders = database.rows("SELECT name FROM meta WHERE name LIKE 'bystander%'")
    finally:
        database.drop()
    print(f"\ndeadlock: {retries} batch run again; job runs a {one.runs}, b {two.runs}")
    assert results == ["a", "bystander_a", "b", "bystander_b"], "no caller saw the deadlock"
    assert retries >= 1, "the server aborted one batch (a real deadlock) and it ran again"
    assert one.runs + two.runs == 2 + retries
    # Each job's writes are in the database once: one mark of each process on each row.
    assert sorted(values["deadlock_one"]) == ["a", "b"]
    assert sorted(values["deadlock_two"]) == ["a", "b"]
    assert len(bystanders) == 2


def test_a_conflict_is_found_through_the_errors_it_was_raised_from() -> None:
    class Deadlock(Exception):
        sqlstate = "40P01"

    class Unique(Exception):
        sqlstate = "23505"

    try:
        try:
            raise Deadlock("deadlock detected")
        except Deadlock as exc:
            raise DatabaseError("job: deadlock") from exc
    except DatabaseError as wrapped:
        assert is_conflict(wrapped)
    assert not is_conflict(Unique("duplicate key"))
    assert not is_conflict(None)
    # Pauses grow with each attempt and stay short.
    assert 0 < pause_before(1) < pause_before(4) < 0.2
