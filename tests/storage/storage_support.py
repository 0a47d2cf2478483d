"""Shared builders for the storage tests: a settable clock, messages, replies, raw SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.rawdb import raw_query, raw_update
from support.stores import open_store

from storage.records import CaseOpen, ConsentRecord, NewInbound, NewOutbound, TurnWrite

__all__ = ["T0", "at", "message", "open_store", "raw_query", "raw_update", "reply", "turn"]

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def message(
    transport_id: str,
    text: str = "halo",
    *,
    kind: str = "text",
    channel: str = "telegram",
    when: datetime = T0,
) -> NewInbound:
    return NewInbound(channel, transport_id, kind, text, when)


def reply(
    contact_id: int,
    text: str = "Terima kasih sudah menghubungi kami.",
    *,
    priority: int = 5,
    due: datetime = T0,
    channel: str = "telegram",
    options: tuple[tuple[str, str], ...] = (),
) -> NewOutbound:
    return NewOutbound(contact_id, channel, text, options, priority, due)


def turn(
    contact_id: int,
    inbox_id: int,
    *,
    state: str = '{"node": "start"}',
    outbound: tuple[NewOutbound, ...] = (),
    cases: tuple[CaseOpen, ...] = (),
    language: str | None = None,
    consent: ConsentRecord | None = None,
    when: datetime = T0,
) -> TurnWrite:
    return TurnWrite(inbox_id, contact_id, state, outbound, when, cases, language, consent)
