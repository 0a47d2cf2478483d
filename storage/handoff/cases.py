"""Cases: plain, non-identifying codes and categories, so reports need no decryption.

A contact has at most one open case. A new concern raises its urgency (and takes
the more urgent concern's category), never lowers it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace

from storage.engine.db import Readers, Row, Tx
from storage.errors import DatabaseError
from storage.figures import hooks
from storage.handoff.rows import CASE_COLUMNS, CASE_SELECT, brief, case_from_row
from storage.records import URGENCIES, Case, CaseOpen

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CaseRepo",
    "merge_crisis",
    "new_code",
    "open_or_raise",
]

# No 0/O or 1/I: codes are read aloud over the phone and copied by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6
_CODE_ATTEMPTS = 20
# A case waiting in the queue or held by a counsellor (storage.handoff.schema).
_LIVE = "('open', 'taken')"
# A kind of danger is a code (stored plain, like the category), never anything a person wrote.
_KIND = re.compile(r"[a-z][a-z_]{1,31}")


async def _event(tx: Tx, case_id: int, event: str, now: int) -> None:
    await tx.execute(
        "INSERT INTO case_events (case_id, at, event, actor) VALUES (?, ?, ?, 'system')",
        (case_id, now, event),
    )
    await hooks.follow(tx, case_id, event, now)


def merge_crisis(known: str, found: str) -> str:
    """The case's kinds of danger with those newly found added, each once, in order."""
    kinds: list[str] = []
    for code in (known + "," + found).split(","):
        code = code.strip()
        if _KIND.fullmatch(code) and code not in kinds:
            kinds.append(code)
    return ",".join(kinds)


def new_code() -> str:
    """A random case code like 'K7F3Q2': about a billion possibilities, nothing personal."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _brief(row: Row) -> Case:
    return brief(case_from_row(row))


async def open_or_raise(tx: Tx, contact_id: int, wanted: CaseOpen, now: int) -> Case:
    """Opens a case, or raises the contact's live case to `wanted`'s urgency if higher.

    A live case is one waiting in the queue (`open`) or held by a counsellor
    (`taken`). Both changes are recorded in `case_events` for the figures.
    """
    row = await tx.fetchone(
        f"{CASE_SELECT} WHERE contact_id = ? AND status IN {_LIVE}", (contact_id,)
    )
    if row is not None:
        case = _brief(row)
        crisis = merge_crisis(case_from_row(row).crisis, wanted.crisis)
        if crisis != case_from_row(row).crisis:
            await tx.execute("UPDATE cases SET crisis = ? WHERE id = ?", (crisis, case.id))
        if URGENCIES.index(wanted.urgency) <= URGENCIES.index(case.urgency):
            return case
        await tx.execute(
            "UPDATE cases SET urgency = ?, category = ?, updated_at = ? WHERE id = ?",
            (wanted.urgency, wanted.category, now, case.id),
        )
        await _event(tx, case.id, "raised", now)
        return replace(case, category=wanted.category, urgency=wanted.urgency)
    for _ in range(_CODE_ATTEMPTS):
        inserted = await tx.fetchone(
            "INSERT INTO cases (code, contact_id, category, urgency, status, opened_at,"
            " updated_at, waiting_since, crisis, office_id) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?,"
            " (SELECT office_id FROM contacts WHERE id = ?))"
            f" ON CONFLICT (code) DO NOTHING RETURNING {CASE_COLUMNS}",
            (
                new_code(),
                contact_id,
                wanted.category,
                wanted.urgency,
                now,
                now,
                now,
                merge_crisis("", wanted.crisis),
                contact_id,
            ),
        )
        if inserted is not None:
            opened = _brief(inserted)
            await _event(tx, opened.id, "opened", now)
            return opened
    raise DatabaseError(f"no free case code after {_CODE_ATTEMPTS} attempts")


class CaseRepo:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    async def open_for(self, contact_id: int) -> Case | None:
        """The contact's live case (waiting or held by a counsellor), if any."""
        row = await self._readers.fetchone(
            f"{CASE_SELECT} WHERE contact_id = ? AND status IN {_LIVE}",
            (contact_id,),
            what="cases.open_for",
        )
        return None if row is None else _brief(row)

    async def get_by_code(self, code: str) -> Case | None:
        row = await self._readers.fetchone(
            f"{CASE_SELECT} WHERE code = ?", (code.strip().upper(),), what="cases.get_by_code"
        )
        return None if row is None else _brief(row)
