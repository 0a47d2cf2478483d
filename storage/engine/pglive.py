"""Live changes across processes on PostgreSQL: triggers that NOTIFY, and one listener.

Several `lk3 run` processes share one database; a counsellor's console page served
by one process must show at once a case opened or a message received by another.
The database says so itself: triggers (migration `0023_shared_by_processes`, on
PostgreSQL only) call `pg_notify` on the channel `lk3_live` whenever a case, a transcript or a
staff member changes, whichever process (or command) wrote it. A notification is
sent at COMMIT, never for a rolled-back change, and carries a topic of codes and
ids only, never anything a person wrote:

- `case:<case id>` a case opened, taken, released, closed, re-urged (the queue, the alarm);
- `thread:<contact id>` a message in or out, a reply's status, a photo or voice note kept
  (the live case page of that contact);
- `staff:<staff id>` a staff member's roles or state changed (a live page they hold);
- `webchat:<16 hex digits>` a line or a statement for a web chat address (its poll),
  named by the start of the address's keyed hash (`WebChatRepo.live_topic`).

`ChangeListener` keeps one dedicated connection (never a pooled one: LISTEN belongs
to a session) that LISTENs and hands each topic to `on_change`. When the connection
drops it connects again, with growing pauses, and then calls `on_gap`: whatever
changed while nobody listened was not told, so every reader reads again once (the
catch-up). `on_gap` is also called on the first connection. While not connected,
`connected` is False and readers poll as on SQLite. A quiet connection is probed
every `keepalive` seconds, so a drop the socket did not report is found too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

__all__ = ["APPLICATION_NAME", "CHANNEL", "LIVE_CHANGES_PG", "ChangeListener"]

log = logging.getLogger(__name__)

CHANNEL = "lk3_live"


def _trigger(table: str, topic: str, events: str, when: str = "") -> tuple[str, ...]:
    """A function and its row trigger: `topic` is an SQL expression over NEW (or OLD)."""
    name = f"lk3_live_{table}"
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f" IF TG_OP = 'DELETE' THEN PERFORM pg_notify('{CHANNEL}', {topic.format(row='OLD')});"
        f" ELSE PERFORM pg_notify('{CHANNEL}', {topic.format(row='NEW')}); END IF;"
        " RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW {when}"
        f" EXECUTE FUNCTION {name}()",
    )


_STATUS_CHANGED = "WHEN (OLD.status IS DISTINCT FROM NEW.status)"
_WEBCHAT = "'webchat:' || encode(substring({row}.address_bidx from 1 for 8), 'hex')"

LIVE_CHANGES_PG: tuple[str, ...] = (
    *_trigger("cases", "'case:' || {row}.id", "INSERT OR UPDATE OR DELETE"),
    *_trigger("inbox", "'thread:' || {row}.contact_id", "INSERT"),
    *_trigger("outbox", "'thread:' || {row}.contact_id", "INSERT"),
    *_trigger("media", "'thread:' || {row}.contact_id", "INSERT"),
    "CREATE TRIGGER lk3_live_outbox_status AFTER UPDATE OF status ON outbox FOR EACH ROW"
    f" {_STATUS_CHANGED} EXECUTE FUNCTION lk3_live_outbox()",
    "CREATE TRIGGER lk3_live_media_status AFTER UPDATE OF status ON media FOR EACH ROW"
    f" {_STATUS_CHANGED} EXECUTE FUNCTION lk3_live_media()",
    *_trigger("staff", "'staff:' || {row}.id", "UPDATE OR DELETE"),
    *_trigger("webchat_lines", _WEBCHAT, "INSERT"),
    *_trigger("webchat_statements", _WEBCHAT, "INSERT OR UPDATE"),
)
"""The statements of migration 0024 on PostgreSQL (SQLite has one process: nothing to tell)."""

Connect = Callable[[str], Awaitable[asyncpg.Connection]]
APPLICATION_NAME = "lk3 live changes"  # how the connection shows in pg_stat_activity


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, server_settings={"application_name": APPLICATION_NAME})


class ChangeListener:
    """One LISTEN connection, kept up; topics to `on_change`, a catch-up to `on_gap`."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[str], None],
        on_gap: Callable[[], None],
        *,
        retry: float = 0.5,
        longest_retry: float = 10.0,
        keepalive: float = 15.0,
        connect: Connect = _connect,
    ) -> None:
        self._url = url
        self._on_change = on_change
        self._on_gap = on_gap
        self._retry = retry
        self._longest_retry = longest_retry
        self._keepalive = keepalive
        self._connect = connect
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._closed = False
        self.connected = False
        self.connections = 0  # how many times it connected (tests and figures)

    def start(self) -> None:
        """Starts listening (again a no-op once started or closed)."""
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name="pg-change-listener")

    def stop(self) -> None:
        """Stops at once (a shutdown hook that cannot wait); `close` also waits."""
        self._closed = True
        self.connected = False
        if self._task is not None:
            self._task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        task = self._task
        self.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload:
            self._on_change(payload)

    async def _run(self) -> None:
        pause = self._retry
        while not self._closed:
            try:
                await self._listen()
                pause = self._retry  # it was up: the next drop starts from a short pause
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server is down or refused: try again
                log.warning(
                    "live changes: listening failed (%s); polling until it is back",
                    type(exc).__name__,
                )
            finally:
                self.connected = False
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.terminate()
            if self._closed:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, self._longest_retry)

    async def _listen(self) -> None:
        conn = await self._connect(self._url)
        self._conn = conn
        self._lost = asyncio.Event()
        lost = self._lost
        conn.add_termination_listener(lambda _c: lost.set())
        await conn.add_listener(CHANNEL, self._notified)
        self.connected = True
        self.connections += 1
        self._on_gap()  # what changed while nobody listened: read it all again once
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._keepalive)
            if lost.is_set() or conn.is_closed():
                raise ConnectionError("the listening connection was lost")
            await asyncio.wait_for(conn.execute("SELECT 1"), self._keepalive)
