"""Families with cases for the queue and case page tests, written through the store's own
two transactions (receive, then commit the turn), as the pipeline writes them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from support import Clock

from flows.state import SessionState
from storage.handoff.records import LiveCase
from storage.records import CaseOpen, NewInbound, NewOutbound, TurnWrite
from storage.store import Store

_ids = itertools.count(1)

TRIAGE_VARS: tuple[tuple[str, str | int | bool], ...] = (
    ("case_category", "kdrt"),
    ("since", "months"),
    ("srq", 2),
    ("srq_1", "yes"),
    ("srq_2", "no"),
    ("srq_3", "yes"),
    ("srq_wanted", "yes"),
    ("who", "self"),
)


def state_json(variables: Sequence[tuple[str, str | int | bool]] = TRIAGE_VARS) -> str:
    return SessionState("id", (), tuple(sorted(variables))).to_json()


async def family_case(
    store: Store,
    clock: Clock,
    words: Sequence[str] = ("suami saya memukuli saya sekarang",),
    *,
    address: str = "7001",
    channel: str = "telegram",
    urgency: str = "darurat",
    category: str = "kdrt",
    reply: str = "Anda tidak sendirian. Konselor kami segera membaca pesan Anda.",
    variables: Sequence[tuple[str, str | int | bool]] = TRIAGE_VARS,
    crisis: str = "",
) -> LiveCase:
    """A family who wrote `words` (each answered by `reply`); the last opens their case."""
    contact_id = 0
    for n, text in enumerate(words):
        item = NewInbound(channel, f"{address}-{next(_ids)}", "text", text, clock())
        contact, inbox_id = await store.turns.receive(channel, address, item)
        assert inbox_id is not None
        contact_id = contact.id
        clock.advance(1)
        last = n == len(words) - 1
        await store.turns.commit_turn(
            TurnWrite(
                inbox_id,
                contact.id,
                state_json(variables),
                (NewOutbound(contact.id, channel, reply, (), 0, clock()),),
                clock(),
                cases=(CaseOpen(category, urgency, crisis),) if last else (),
            )
        )
        clock.advance(1)
    case = await store.handoff.live_for(contact_id)
    assert case is not None
    return case
