"""A throwaway PostgreSQL server for `pytest --db postgres` (`make test-postgres`).

Started once per test session from Debian's `postgresql` package: `initdb` and
`pg_ctl` from /usr/lib/postgresql/*/bin, in a temporary folder, listening on a
unix socket in that folder only (no TCP port, so parallel sessions never clash),
with durability off (fsync, full pages: a test server loses nothing it needs).
`initdb` refuses root, so as root the server runs as the `postgres` user that
the package creates (`runuser`). Stopped, and its folder removed, at the end; and
by a small watcher process if the test process dies first (killed, or a run
interrupted), so that no server is left running with its folder in /tmp.

Each database file a test names (`tmp_path / "lk3.db"`) gets a database of its
own on that server, copied when the test first opens it from a template that was
migrated once (its migrations are recorded at time 0), and dropped when the test
ends. Administration and
the raw reads tests make "as an attacker with a copy" run on a background
thread with its own event loop, so sync helpers can call them from async tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from storage.engine.pgschema import apply_pg_migrations

__all__ = ["ACTIVE", "PgServer", "find_bin", "session_or_own", "skip_reason"]

T = TypeVar("T")
PORT = 5432  # only names the socket file, in a folder of our own
TEMPLATE = "lk3_template"

# The watcher: waits for the test process to go, then stops the server and removes its
# folder. argv: the test process's id, the folder, then the command that stops it.
WATCH = """
import os, shutil, subprocess, sys, time
owner, folder, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    if not os.path.isdir(folder):
        sys.exit(0)
    time.sleep(0.5)
subprocess.run(stop, capture_output=True, timeout=60)
shutil.rmtree(folder, ignore_errors=True)
"""

ACTIVE: PgServer | None = None
"""The server of this session when the tests run with `--db postgres`."""


def find_bin() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def skip_reason() -> str | None:
    """Why a server cannot be started here (None: it can)."""
    if find_bin() is None:
        return "PostgreSQL is not installed (make postgresql installs Debian's package)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start the server as `postgres`"
    return None


@contextlib.contextmanager
def session_or_own(*, active: bool = False) -> Iterator[PgServer]:
    """The session's server (`--db postgres`), else one of the caller's own, started now
    and stopped at the end: for the tests that need PostgreSQL on every tier (skipped,
    saying why, where it is not installed). `active`: the caller's own server is also
    `ACTIVE` meanwhile, so the stores its tests open are databases on it."""
    global ACTIVE
    if ACTIVE is not None:
        yield ACTIVE
        return
    import pytest

    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    own = PgServer()
    own.start()
    if active:
        ACTIVE = own
    try:
        yield own
    finally:
        if active:
            ACTIVE = None
        own.stop()


class PgServer:
    """One server in a temporary folder, and the databases the tests made on it."""

    def __init__(self) -> None:
        bin_dir = find_bin()
        if bin_dir is None:
            raise RuntimeError(skip_reason() or "no PostgreSQL")
        self._bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="lk3-pg-"))
        self._data = self.folder / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._admin: asyncpg.Connection | None = None
        self._conns: dict[str, asyncpg.Connection] = {}
        self.made: list[str] = []
        self._watcher: subprocess.Popen[bytes] | None = None
        # Tests run `lk3` commands from several threads at once: one administration
        # statement, and one raw read per connection, at a time.
        self._lock = threading.Lock()

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, capture_output=True, cwd=self.folder, timeout=120
        )

    def watch(self) -> None:
        """Starts the watcher that stops this server if the test process dies first."""
        stop = [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self._data)]
        self._watcher = subprocess.Popen(
            [sys.executable, "-c", WATCH, str(os.getpid()), str(self.folder), *stop,
             "-m", "immediate", "stop"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to the tests' group does not reach it first
        )  # fmt: skip

    def start(self) -> None:
        self.watch()
        self._run(
            str(self._bin / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-k {self.folder} -p {PORT} -c listen_addresses='' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self._data), "-l", str(self.folder / "log"),
            "-w", "-o", options, "start",
        )  # fmt: skip
        self._thread.start()
        self._admin = self.call(asyncpg.connect(self.url("postgres")))
        self.call(self._template())

    async def _template(self) -> None:
        """A database migrated once, that each test's database is copied from."""
        assert self._admin is not None
        await self._admin.execute(f"CREATE DATABASE {TEMPLATE}")
        conn = await asyncpg.connect(self.url(TEMPLATE))
        try:
            await apply_pg_migrations(conn, 0)
        finally:
            await conn.close()

    def stop(self) -> None:
        try:
            if self._thread.is_alive():
                self.call(self._close_all())
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
                self._loop.close()
            self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            if self._watcher is not None:
                self._watcher.kill()
                self._watcher.wait()

    async def _close_all(self) -> None:
        for conn in [*self._conns.values(), *([self._admin] if self._admin else [])]:
            await conn.close()
        self._conns.clear()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.folder}&port={PORT}"

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs a coroutine on the server's own loop and waits for it."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=120)

    @staticmethod
    def name_for(path: Path) -> str:
        return "t_" + hashlib.sha1(str(path).encode()).hexdigest()[:20]

    def database_for(self, path: Path) -> str:
        """The URL of the database standing for the file at `path` (made on first use)."""
        name = self.name_for(path)
        with self._lock:
            if name not in self.made:
                self.call(self._create(name))
                self.made.append(name)
        return self.url(name)

    def empty_database_for(self, path: Path) -> str:
        """The URL of a new database holding no table, standing for `path` (a restore's target)."""
        name = self.name_for(path)
        with self._lock:
            if name in self.made:
                raise RuntimeError(f"a database for {path} exists already")
            self.call(self._admin_execute(f"CREATE DATABASE {name} TEMPLATE template0"))
            self.made.append(name)
        return self.url(name)

    async def _admin_execute(self, sql: str) -> None:
        assert self._admin is not None
        await self._admin.execute(sql)

    def knows(self, path: Path) -> bool:
        return self.name_for(path) in self.made

    async def _create(self, name: str) -> None:
        assert self._admin is not None
        await self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        # FILE_COPY: a copy of a small database's files beats logging every page of it.
        await self._admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")

    def drop_all(self) -> None:
        """At the end of a test: every database it made goes."""
        with self._lock:
            if self.made:
                self.call(self._drop(list(self.made)))
                self.made.clear()

    async def _drop(self, names: list[str]) -> None:
        assert self._admin is not None
        for name in names:
            conn = self._conns.pop(name, None)
            if conn is not None:
                await conn.close()
            await self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def fetch(
        self, path: Path, sql: str, params: tuple[Any, ...], *, foreign_keys: bool = True
    ) -> list[tuple[Any, ...]]:
        """Runs one statement straight on the database of `path` (no store in between).

        Without `foreign_keys`, as the superuser replicating: foreign keys and the
        triggers not marked ALWAYS (the refusals are) do not fire.
        """
        with self._lock:
            return self.call(self._fetch(self.name_for(path), sql, params, foreign_keys))

    async def _fetch(
        self, name: str, sql: str, params: tuple[Any, ...], foreign_keys: bool = True
    ) -> list[tuple[Any, ...]]:
        conn = self._conns.get(name)
        if conn is None:
            conn = await asyncpg.connect(self.url(name))
            self._conns[name] = conn
        if foreign_keys:
            return [tuple(row) for row in await conn.fetch(sql, *params)]
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            return [tuple(row) for row in await conn.fetch(sql, *params)]
