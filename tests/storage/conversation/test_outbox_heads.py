"""`outbox.heads`: each contact's most urgent due row, in order, from the pending index.

The query was rewritten for speed (docs/performance.md); these cases hold it to the
rule it always had, checked against a plain model of that rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from storage_support import T0, at, message, reply

from storage.store import Store


@dataclass(frozen=True, slots=True)
class Row:
    family: int
    priority: int
    due: float
    retry_at: float | None = None
    sent: bool = False


CASES = {
    "one row per contact, most urgent first": [Row(0, 5, 0), Row(1, 0, 5), Row(2, 5, 1)],
    "a contact's later urgent row leads its queue": [Row(0, 5, 0), Row(0, 0, 3), Row(1, 5, 1)],
    "equal priority and time: the older row": [Row(0, 5, 0), Row(0, 5, 0), Row(1, 5, 0)],
    "not yet due is not a head, and does not block": [Row(0, 0, 60), Row(0, 5, 0)],
    "a head waiting for its retry holds its contact back": [
        Row(0, 0, 0, retry_at=60),
        Row(0, 5, 1),
        Row(1, 5, 2),
    ],
    "a retry that is due again is a head": [Row(0, 0, 0, retry_at=5), Row(0, 5, 1)],
    "sent rows are not in the queue": [Row(0, 0, 0, sent=True), Row(0, 5, 2), Row(1, 5, 1)],
}


def model(rows: list[Row], ids: list[int], now: float, limit: int) -> list[int]:
    pending = [(r.priority, r.due, i, r) for r, i in zip(rows, ids, strict=True)]
    pending = [p for p in pending if not p[3].sent and p[1] <= now]
    heads = []
    for family in {r.family for r in rows}:
        mine = sorted(p for p in pending if p[3].family == family)
        if mine and (mine[0][3].retry_at is None or mine[0][3].retry_at <= now):
            heads.append(mine[0])
    return [p[2] for p in sorted(heads)][:limit]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize(("now", "limit"), [(10.0, 100), (10.0, 1), (100.0, 100)])
async def test_heads_are_each_contacts_most_urgent_due_row(
    store: Store, name: str, now: float, limit: int
) -> None:
    rows = CASES[name]
    families = {}
    for family in sorted({r.family for r in rows}):
        contact, _ = await store.turns.receive("telegram", f"{700 + family}", message(f"m{family}"))
        families[family] = contact.id
    ids = []
    for row in rows:
        [outbox_id] = await store.outbox.enqueue(
            [reply(families[row.family], priority=row.priority, due=at(row.due))]
        )
        ids.append(outbox_id)
        if row.retry_at is not None:
            await store.outbox.mark_retry(outbox_id, "net", at(row.retry_at))
        if row.sent:
            await store.outbox.mark_sent(outbox_id, None, T0)
    heads = await store.outbox.heads(at(now), limit=limit)
    assert [h.id for h in heads] == model(rows, ids, now, limit)
