"""A throwaway PostgreSQL server for `make bench`'s PostgreSQL runs, durable as SQLite is.

The test suite's server (tests/support/pgserver.py: Debian's `initdb` and `pg_ctl`
in a temporary folder, a unix socket there only, as the `postgres` user when we
are root) is started here with its durability left on (`fsync`,
`synchronous_commit`, full page writes: PostgreSQL's defaults), so the two
backends are measured keeping the same promise (SQLite's writer commits with
`synchronous = FULL`). When PostgreSQL is not installed, `unavailable()` says why
and the bench skips these runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The test suite's support lives outside the typed packages.
from support.pgserver import PORT, PgServer, skip_reason  # type: ignore[import-not-found]  # noqa: E402

__all__ = ["DurablePg", "unavailable"]


def unavailable() -> str | None:
    """Why no server can be started here (None: one can)."""
    reason: str | None = skip_reason()
    return reason


class DurablePg(PgServer):  # type: ignore[misc]
    """`with DurablePg() as pg: url = pg.fresh("name")`: a server with default durability."""

    def start(self) -> None:
        self.watch()
        self._run(
            str(self._bin / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = f"-k {self.folder} -p {PORT} -c listen_addresses='' -c max_connections=100"
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self._data), "-l", str(self.folder / "log"),
            "-w", "-o", options, "start",
        )  # fmt: skip
        self._thread.start()
        self._admin = self.call(_connect(self.url("postgres")))

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database (the bot migrates it when it opens it)."""
        self.call(self._admin.execute(f"CREATE DATABASE {name}"))
        url: str = self.url(name)
        return url

    def __enter__(self) -> DurablePg:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _connect(url: str) -> object:
    import asyncpg

    return await asyncpg.connect(url)
