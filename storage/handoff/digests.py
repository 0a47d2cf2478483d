"""Counsellor alerts as digests: every case due for one staff member in as few messages as can be.

An escalation pass files its alerts in one transaction (`file_alerts`). The
staff member's alert messages that the sender has not picked up yet (pending,
unsealed) are merged with the new cases and packed again, most urgent then
longest waiting first, at most `DIGEST_CASES` cases a message, and their words
are rendered again from the cases as they are now. So however many cases come
due while a counsellor's chat is paced at one message a second, the next
message to them lists all of them: the wait for an alert is bounded by the
pacing, not by the number of cases.

The sender seals a digest (`seal`), also in the writer, right before sending it,
and sends what the seal rendered. The writer runs one job at a time, so a case
is filed either before the seal (and is in the message) or after it (and goes
into a new message): never into a message already on its way. Cases taken or
closed by the time of the seal are left out and unlinked, so nothing later
edits a message that never showed them; a digest with no case left is not sent.

`digest_of` reads a sent digest back (its cases as they are now, who holds each)
for the edit that follows a take or a close.

    alert_digests   one row per alert message: its outbox row, the staff member,
                    when the sender sealed it (NULL: still open to new cases)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from storage.channels.instances import kind_of
from storage.conversation import outbox
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Row, Tx
from storage.engine.rows import marks
from storage.handoff.records import DIGEST_REF, Digest, DigestLine, LiveCase
from storage.handoff.rows import CASE_COLUMNS, CASE_SELECT, case_from_row, risk_key
from storage.records import NewOutbound, OutboxRef

__all__ = [
    "DIGEST_CASES",
    "DIGEST_CASES_BY_CHANNEL",
    "Options",
    "Render",
    "digest_of",
    "digest_cases",
    "file_alerts",
    "seal",
]

# Cases in one alert message: WhatsApp's list picker takes up to 10 items. On
# Telegram (one message a second to a chat) a flood's alerts would queue a second
# per 8 cases, so a message there lists up to 30, each with its "take" button: as
# many as still fit one message at the longest (tests/bot/handoff/test_handoff_digest.py).
# With 20, a flood's 36 crises needed a third message, two seconds after the first.
DIGEST_CASES = 8
DIGEST_CASES_BY_CHANNEL = {"telegram": 30}


def digest_cases(channel: str) -> int:
    """How many cases one alert message lists on `channel`."""
    return DIGEST_CASES_BY_CHANNEL.get(kind_of(channel), DIGEST_CASES)  # `telegram:tual` too


Options = tuple[tuple[str, str], ...]
Render = Callable[[Sequence[DigestLine]], tuple[str, Options]]
"""The words and "take" buttons of an alert message listing these cases (bot.handoff.alerts)."""


_CASE = ", ".join(f"c.{name.strip()}" for name in CASE_COLUMNS.split(","))
_WIDTH = len(CASE_COLUMNS.split(","))
# A message's cases with the latest round it alerted each for, and the holder's name.
_LINES = (
    f"SELECT {_CASE}, max(a.round), s.display_name FROM case_alerts a"
    " JOIN cases c ON c.id = a.case_id LEFT JOIN staff s ON s.id = c.owner_staff_id"
    " WHERE a.outbox_id = ? GROUP BY c.id, s.id"
)


def _lines(rows: Sequence[Row]) -> tuple[DigestLine, ...]:
    found = []
    for row in rows:
        case = case_from_row(row[:_WIDTH])
        owner = row[_WIDTH + 1]
        found.append(DigestLine(case, int(row[_WIDTH]), None if owner is None else str(owner)))
    return tuple(sorted(found, key=lambda line: risk_key(line.case)))


async def file_alerts(
    tx: Tx,
    staff_id: int,
    contact_id: int,
    due: Sequence[tuple[int, int]],
    at: datetime,
    render: Render,
    priority: int,
    send_at: datetime | None = None,
) -> list[int]:
    """Files cases due for one staff member, as (case id, alert round), into their digests.
    A message made here is due at `send_at` (default `at`).

    Returns the outbox ids of the messages that now list them, in sending order;
    nothing when the staff member's chat no longer exists.
    """
    now = to_micros(at, "file_alerts at")
    contact = await tx.fetchone("SELECT channel FROM contacts WHERE id = ?", (contact_id,))
    if contact is None:
        return []
    open_ids = [
        int(r[0])
        for r in await tx.fetchall(
            "SELECT d.outbox_id FROM alert_digests d JOIN outbox o ON o.id = d.outbox_id"
            " WHERE d.staff_id = ? AND d.sealed_at IS NULL AND o.status = 'pending'"
            " AND o.contact_id = ? ORDER BY d.outbox_id",
            (staff_id, contact_id),
        )
    ]
    # What those unsent messages already list (cases still waiting): links and rounds.
    cases: dict[int, LiveCase] = {}
    links: dict[int, list[int]] = {}
    rounds: dict[int, int] = {}
    if open_ids:
        for r in await tx.fetchall(
            f"SELECT a.id, a.round, {_CASE} FROM case_alerts a JOIN cases c ON c.id = a.case_id"
            f" WHERE a.outbox_id IN ({marks(open_ids)}) AND c.status = 'open'",
            tuple(open_ids),
        ):
            case = case_from_row(r[2:])
            cases[case.id] = case
            links.setdefault(case.id, []).append(int(r[0]))
            rounds[case.id] = max(rounds.get(case.id, 0), int(r[1]))
    fresh = [case_id for case_id, _ in due if case_id not in cases]
    if fresh:
        for r in await tx.fetchall(
            f"{CASE_SELECT} WHERE id IN ({marks(fresh)}) AND status = 'open'", tuple(fresh)
        ):
            case = case_from_row(r)
            cases[case.id] = case
    new_round = {case_id: round_ for case_id, round_ in due if case_id in cases}
    for case_id, round_ in new_round.items():
        rounds[case_id] = max(rounds.get(case_id, 0), round_)
    ordered = sorted(cases.values(), key=risk_key)
    size = digest_cases(str(contact[0]))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    written: list[int] = []
    for index, chunk in enumerate(chunks):
        text, options = render([DigestLine(case, rounds[case.id]) for case in chunk])
        if index < len(open_ids):
            target = open_ids[index]
            await outbox.replace_body(tx, target, text, options)
        else:
            row = NewOutbound(
                contact_id,
                str(contact[0]),
                text,
                options,
                priority,
                at if send_at is None else send_at,
                OutboxRef(DIGEST_REF, staff_id),
            )
            [target] = await outbox.insert_many(tx, [row], None, now)
            await tx.execute(
                "INSERT INTO alert_digests (outbox_id, staff_id) VALUES (?, ?)", (target, staff_id)
            )
        written.append(target)
        for case in chunk:
            moved = links.get(case.id, [])
            if moved:
                await tx.execute(
                    f"UPDATE case_alerts SET outbox_id = ? WHERE id IN ({marks(moved)})",
                    (target, *moved),
                )
            if case.id in new_round:
                await tx.execute(
                    "INSERT INTO case_alerts (case_id, staff_id, outbox_id, round, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (case.id, staff_id, target, new_round[case.id], now),
                )
    # An unsent message whose cases all moved forward (others were taken) has nothing to say.
    spare = open_ids[len(chunks) :]
    if spare:
        await tx.execute(
            "UPDATE outbox SET status = 'failed', last_error = ?, failed_at = ?,"
            f" next_attempt_at = NULL WHERE status = 'pending' AND id IN ({marks(spare)})",
            (outbox.CANCELLED, now, *spare),
        )
    return written


async def seal(tx: Tx, outbox_id: int, at: datetime, render: Render) -> tuple[str, Options] | None:
    """Closes an alert message to new cases and renders what it says now; None: nothing to send."""
    now = to_micros(at, "seal at")
    row = await tx.fetchone(
        "SELECT o.status FROM alert_digests d JOIN outbox o ON o.id = d.outbox_id"
        " WHERE d.outbox_id = ?",
        (outbox_id,),
    )
    if row is None or row[0] != "pending":
        return None
    await tx.execute(
        "UPDATE alert_digests SET sealed_at = coalesce(sealed_at, ?) WHERE outbox_id = ?",
        (now, outbox_id),
    )
    await tx.execute(
        "DELETE FROM case_alerts WHERE outbox_id = ?"
        " AND case_id IN (SELECT id FROM cases WHERE status != 'open')",
        (outbox_id,),
    )
    lines = _lines(await tx.fetchall(_LINES, (outbox_id,)))
    if not lines:
        return None
    text, options = render(lines)
    await outbox.replace_body(tx, outbox_id, text, options)
    return text, options


async def digest_of(readers: Readers, outbox_id: int) -> Digest | None:
    """An alert message with its cases as they are now; None when the row is not a digest."""
    head = await readers.fetchone(
        "SELECT o.status, o.provider_id FROM alert_digests d JOIN outbox o ON o.id = d.outbox_id"
        " WHERE d.outbox_id = ?",
        (outbox_id,),
        what="handoff.digest",
    )
    if head is None:
        return None
    provider = str(head[1]) if head[0] == "sent" and head[1] is not None else None
    rows = await readers.fetchall(_LINES, (outbox_id,), what="handoff.digest_lines")
    return Digest(outbox_id, provider, _lines(rows))
