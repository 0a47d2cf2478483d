"""The steps a change of a case is made of, inside its transaction: an event recorded
once (and, when a staff member made it, an audit row in the same transaction), the case
read (with whether the family left in a hurry), its alerts, and a relayed message in
either direction.

Shared by `storage.handoff.repo` (the counsellor's side) and the family's turn
(`storage.conversation.turns`, through `relay_in`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from storage.conversation import outbox
from storage.engine.db import Row, Tx
from storage.errors import StaleTurnError
from storage.figures import hooks
from storage.handoff.records import AlertRef, LiveCase, RelayIn, Transition
from storage.handoff.rows import ALERTS_SQL, CASE_SELECT, alert_from_row, case_from_row
from storage.privacy import quiet
from storage.privacy.audit import AuditEntry, append
from storage.records import NewOutbound

__all__ = [
    "actor",
    "alerts_of",
    "as_changed",
    "get_case",
    "record_event",
    "relay_in",
    "relay_message",
]


# A staff member's change of a case, as the audit log names it (the words stay out).
AUDITED = {
    "taken": ("case_take", "case taken"),
    "released": ("case_release", "case released to the queue"),
    "closed": ("case_close", "case closed"),
    "noted": ("case_note", "private note added"),
    "referred": ("case_referral", "referral recorded"),
    "relayed_out": ("case_reply", "reply sent to the family"),
}


def actor(staff_id: int | None) -> str:
    return "system" if staff_id is None else f"staff:{staff_id}"


async def record_event(
    tx: Tx,
    case_id: int,
    event: str,
    staff_id: int | None,
    at: int,
    source: str | None = None,
    detail: str = "",
) -> bool:
    """Records an event; False when this (case, event, source) was recorded before.

    A staff member's change also writes its audit row here, in the same transaction:
    no change without its row. `detail` is a code for the row (an outcome, a service)."""
    row = await tx.fetchone(
        "INSERT INTO case_events (case_id, at, event, actor, source) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (case_id, at, event, actor(staff_id), source),
    )
    if row is not None and staff_id is not None and event in AUDITED:
        found = await tx.fetchone("SELECT code FROM cases WHERE id = ?", (case_id,))
        action, reason = AUDITED[event]
        if detail:
            reason += f": {detail}"
        if source and source.startswith("out:"):
            reason += " (console)" if source.startswith("out:console") else " (staff chat)"
        subject = f"case:{found[0]}" if found is not None else f"case_id:{case_id}"
        await append(tx, AuditEntry(actor(staff_id), action, subject, reason), at)
    if row is not None:
        await hooks.follow(tx, case_id, event, at, detail)
    return row is not None


async def as_changed(tx: Tx, row: Row) -> LiveCase:
    """A case just changed, as its `build` sees it: with whether the family left in a hurry."""
    case = case_from_row(row)
    return replace(case, left_at=await quiet.left_at(tx, case.contact_id))


async def get_case(tx: Tx, case_id: int) -> LiveCase | None:
    row = await tx.fetchone(f"{CASE_SELECT} WHERE id = ?", (case_id,))
    return None if row is None else case_from_row(row)


async def alerts_of(tx: Tx, case_id: int) -> list[AlertRef]:
    return [alert_from_row(r) for r in await tx.fetchall(ALERTS_SQL, (case_id,))]


async def relay_message(
    tx: Tx,
    case_id: int,
    staff_id: int | None,
    source: str,
    rows: Sequence[NewOutbound],
    now: int,
    *,
    urgent: bool = False,
) -> Transition:
    case = await get_case(tx, case_id)
    if case is None:
        return Transition("not_found")
    if case.status != "taken":
        return Transition("closed" if case.status == "closed" else "not_yours", case)
    if staff_id is not None and case.owner_staff_id != staff_id:
        return Transition("not_yours", case)
    if staff_id is not None and (left := await quiet.left_at(tx, case.contact_id)) is not None:
        return Transition("family_left", replace(case, left_at=left))
    event = "relayed_in" if staff_id is None else "relayed_out"
    if not await record_event(tx, case_id, event, staff_id, now, source):
        return Transition("already", case)
    if staff_id is None:
        if urgent:
            await tx.execute(
                "UPDATE cases SET urgent_unanswered_at = coalesce(urgent_unanswered_at, ?)"
                " WHERE id = ?",
                (now, case_id),
            )
    else:
        await tx.execute(
            "UPDATE cases SET first_reply_at = coalesce(first_reply_at, ?),"
            " urgent_unanswered_at = NULL, updated_at = ? WHERE id = ?",
            (now, now, case_id),
        )
    await outbox.insert_many(tx, rows, None, now)
    return Transition("done", await get_case(tx, case_id))


async def relay_in(tx: Tx, relay: RelayIn, now: int) -> None:
    """Writes a family's message relayed to the counsellor holding their case, inside the
    family's turn (`storage.conversation.turns`). A case no longer held (released or closed
    since the turn was planned) raises StaleTurnError: the turn is planned again."""
    done = await relay_message(
        tx, relay.case_id, None, relay.source, relay.rows, now, urgent=relay.urgent
    )
    if done.outcome not in ("done", "already"):
        raise StaleTurnError(f"case {relay.case_id} is no longer held ({done.outcome})")
