"""Published flow versions: immutable once published, so a conversation can finish on its own."""

from __future__ import annotations

from datetime import datetime

from storage.engine.clock import to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.errors import VersionConflictError

__all__ = ["FlowVersionRepo"]


class FlowVersionRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def publish(self, flow_id: str, version: str, source: str, at: datetime) -> bool:
        """Stores a version; True if new, False if this exact source was already published.

        Publishing different content under an existing version raises
        `VersionConflictError`: running conversations depend on it staying the same.
        """
        published_at = to_micros(at, "flow_versions.publish at")

        async def job(tx: Tx) -> bool:
            inserted = await tx.fetchone(
                "INSERT INTO flow_versions (flow_id, version, source, published_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (flow_id, version) DO NOTHING RETURNING 1",
                (flow_id, version, source, published_at),
            )
            if inserted is not None:
                return True
            existing = await tx.fetchone(
                "SELECT source FROM flow_versions WHERE flow_id = ? AND version = ?",
                (flow_id, version),
            )
            if existing is not None and str(existing[0]) != source:
                raise VersionConflictError(
                    f"flow {flow_id!r} version {version!r} is already published"
                    " with different content; publish it under a new version"
                )
            return False

        return await self._writer.run("flow_versions.publish", job)

    async def sources(self, *, leaving_out: tuple[str, ...] = ()) -> list[str]:
        """Every published source (but those of the ids `leaving_out`: files published
        beside the flows, such as a library's `globals`), by flow id and then in
        publishing order."""
        where = (
            f" WHERE flow_id NOT IN ({', '.join('?' * len(leaving_out))})" if leaving_out else ""
        )
        rows = await self._readers.fetchall(
            f"SELECT source FROM flow_versions{where} ORDER BY flow_id, published_at, version",
            leaving_out,
            what="flow_versions.sources",
        )
        return [str(row[0]) for row in rows]
