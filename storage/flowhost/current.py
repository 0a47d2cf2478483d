"""Which published version of each flow is current: the pointer the console moves.

`flow_versions` keeps every published source forever (a running conversation
may still need it); this table says which one new conversations start on.
Publishing moves the pointer to a new version, a rollback moves it back to an
older one, and the pointer survives restarts, so the database (not the flow
folder) is the source of truth for what the bot says. The bundled files win
only when they change (an upgrade ships a version never seen before).

Errors are `storage.errors` ones: `NotFoundError` when pointing at a version
that was never published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.errors import NotFoundError

__all__ = ["FlowCurrentRepo", "PublishedFlow"]


@dataclass(frozen=True, slots=True)
class PublishedFlow:
    """One published version: codes and a time, never the source."""

    flow_id: str
    version: str
    published_at: datetime


class FlowCurrentRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def current(self, *, office_id: int = 1) -> dict[str, str]:
        """flow id -> the version new conversations of one office start on (each office
        points at its own versions of the shared, immutable `flow_versions`)."""
        rows = await self._readers.fetchall(
            "SELECT flow_id, version FROM flow_current WHERE office_id = ?",
            (office_id,),
            what="flow_current.current",
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def by_office(self) -> dict[int, dict[str, str]]:
        """Every office's pointers, by office id (an office with none yet: empty): what a
        running process compares with its shelves now and then to follow a publish or a
        rollback another process made, and to find offices added since it started. One
        small read (offices x library files) for the whole deployment."""
        rows = await self._readers.fetchall(
            "SELECT o.id, c.flow_id, c.version FROM offices o"
            " LEFT JOIN flow_current c ON c.office_id = o.id ORDER BY o.id",
            what="flow_current.by_office",
        )
        found: dict[int, dict[str, str]] = {}
        for office_id, flow_id, version in rows:
            pointers = found.setdefault(int(office_id), {})
            if flow_id is not None:
                pointers[str(flow_id)] = str(version)
        return found

    async def set_current(
        self, flow_id: str, version: str, at: datetime, *, office_id: int = 1
    ) -> None:
        """Points one office's `flow_id` at a published `version`; NotFoundError if it was
        never published."""
        now = to_micros(at, "flow_current.set_current at")

        async def job(tx: Tx) -> None:
            known = await tx.fetchone(
                "SELECT 1 FROM flow_versions WHERE flow_id = ? AND version = ?",
                (flow_id, version),
            )
            if known is None:
                raise NotFoundError(f"flow {flow_id!r} has no published version {version!r}")
            await tx.execute(
                "INSERT INTO flow_current (office_id, flow_id, version, set_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (office_id, flow_id)"
                " DO UPDATE SET version = excluded.version, set_at = excluded.set_at",
                (office_id, flow_id, version, now),
            )

        await self._writer.run("flow_current.set_current", job)

    async def published(self, flow_id: str | None = None) -> list[PublishedFlow]:
        """Every published version (of one flow, or all), newest first."""
        rows = await self._readers.fetchall(
            "SELECT flow_id, version, published_at FROM flow_versions"
            + (" WHERE flow_id = ?" if flow_id is not None else "")
            + " ORDER BY flow_id, published_at DESC, version",
            (flow_id,) if flow_id is not None else (),
            what="flow_current.published",
        )
        return [PublishedFlow(str(r[0]), str(r[1]), from_micros(int(r[2]))) for r in rows]

    async def source(self, flow_id: str, version: str) -> str | None:
        row = await self._readers.fetchone(
            "SELECT source FROM flow_versions WHERE flow_id = ? AND version = ?",
            (flow_id, version),
            what="flow_current.source",
        )
        return None if row is None else str(row[0])
