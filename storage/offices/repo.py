"""The offices one deployment serves: add, list, find by code or id, rename, move staff.

An office's `code` is a short slug (`ambon`, `malteng`): it names the office in
a deep link (`/start ambon`), on the command line and in figures. It never
changes once given, so links printed on posters keep working; the name may.
The default office (id 1, `utama`) exists from the migration on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.errors import ConstraintError, InvalidRecordError, NotFoundError
from storage.offices.schema import DEFAULT_OFFICE_CODE, DEFAULT_OFFICE_ID

__all__ = [
    "DEFAULT_OFFICE_CODE",
    "DEFAULT_OFFICE_ID",
    "Office",
    "OfficeRepo",
    "office_code",
    "route_in_turn",
]

_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")
_COLUMNS = "id, code, name, created_at, archived_at"


@dataclass(frozen=True, slots=True)
class Office:
    """One LK3 office; an empty `name` means the configured `[office] name` (the default office)."""

    id: int
    code: str
    name: str
    created_at: datetime
    archived: bool

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_OFFICE_ID


def office_code(code: str) -> str:
    """The code in its one stored form, or an `InvalidRecordError` naming the rule."""
    slug = code.strip().lower()
    if not _CODE.fullmatch(slug):
        raise InvalidRecordError(
            "an office code is 2-32 characters: lowercase letters, digits or '-',"
            " starting with a letter",
            code="office_code_form",
        )
    return slug


async def route_in_turn(tx: Tx, contact_id: int, code: str) -> bool:
    """Puts the family with the office of `code`, inside the turn's transaction; False (and
    nothing changed) when no office that is not archived has that code."""
    changed = await tx.execute(
        "UPDATE contacts SET office_id = (SELECT id FROM offices WHERE code = ?)"
        " WHERE id = ? AND EXISTS"
        " (SELECT 1 FROM offices WHERE code = ? AND archived_at IS NULL)",
        (code, contact_id, code),
    )
    return changed > 0


def _office(row: Row) -> Office:
    return Office(
        id=int(row[0]),
        code=str(row[1]),
        name=str(row[2]),
        created_at=from_micros(int(row[3])),
        archived=row[4] is not None,
    )


class OfficeRepo:
    """Reads and writes `offices`; who belongs where is each capability's own column."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def add(self, code: str, name: str, at: datetime) -> Office:
        """A new office; a code already taken is refused (`office_code_taken`)."""
        slug = office_code(code)
        title = " ".join(name.split())
        if not title:
            raise InvalidRecordError("an office needs a name", code="office_name_missing")
        now = to_micros(at, "OfficeRepo.add at")

        async def job(tx: Tx) -> Office:
            row = await tx.fetchone(
                "INSERT INTO offices (code, name, created_at) VALUES (?, ?, ?)"
                f" RETURNING {_COLUMNS}",
                (slug, title, now),
            )
            assert row is not None
            return _office(row)

        try:
            return await self._writer.run("offices.add", job)
        except ConstraintError:
            raise ConstraintError(
                f"an office with code {slug!r} already exists",
                code="office_code_taken",
                values={"code": slug},
            ) from None

    async def list(self, *, include_archived: bool = False) -> list[Office]:
        """Every office, the default first."""
        rows = await self._readers.fetchall(
            f"SELECT {_COLUMNS} FROM offices"
            + ("" if include_archived else " WHERE archived_at IS NULL")
            + " ORDER BY id",
            what="offices.list",
        )
        return [_office(r) for r in rows]

    async def get(self, office_id: int) -> Office | None:
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM offices WHERE id = ?", (office_id,), what="offices.get"
        )
        return None if row is None else _office(row)

    async def by_code(self, code: str) -> Office | None:
        """The office with this code (any case, surrounding spaces ignored), if any."""
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM offices WHERE code = ?",
            (code.strip().lower(),),
            what="offices.by_code",
        )
        return None if row is None else _office(row)

    async def rename(self, office_id: int, name: str) -> Office:
        title = " ".join(name.split())
        if not title:
            raise InvalidRecordError("an office needs a name", code="office_name_missing")

        async def job(tx: Tx) -> Office:
            row = await tx.fetchone(
                f"UPDATE offices SET name = ? WHERE id = ? RETURNING {_COLUMNS}",
                (title, office_id),
            )
            if row is None:
                raise NotFoundError(f"no office with id {office_id}")
            return _office(row)

        return await self._writer.run("offices.rename", job)

    async def archive(self, office_id: int, at: datetime) -> Office:
        """Closes an office to new families (no link, question or `set_office` puts anyone
        there any more); its staff, cases and counts stay as they are, readable by its
        staff and counted in figures. The default office takes every family without a
        link, so it is never archived (`office_default_archive`). Archiving twice keeps
        the first time."""
        if office_id == DEFAULT_OFFICE_ID:
            raise InvalidRecordError(
                "the default office takes every family without a link; it cannot be archived",
                code="office_default_archive",
            )
        now = to_micros(at, "OfficeRepo.archive at")

        async def job(tx: Tx) -> Office:
            row = await tx.fetchone(
                "UPDATE offices SET archived_at = COALESCE(archived_at, ?) WHERE id = ?"
                f" RETURNING {_COLUMNS}",
                (now, office_id),
            )
            if row is None:
                raise NotFoundError(f"no office with id {office_id}")
            return _office(row)

        return await self._writer.run("offices.archive", job)

    async def assign_staff(self, staff_id: int, office_id: int) -> None:
        """Moves a staff member to an office (their roles then apply there only)."""

        async def job(tx: Tx) -> None:
            if await tx.fetchone("SELECT 1 FROM offices WHERE id = ?", (office_id,)) is None:
                raise NotFoundError(f"no office with id {office_id}")
            row = await tx.fetchone(
                "UPDATE staff SET office_id = ? WHERE id = ? RETURNING id", (office_id, staff_id)
            )
            if row is None:
                raise NotFoundError(f"no staff member with id {staff_id}")

        await self._writer.run("offices.assign_staff", job)

    async def office_of_staff(self, staff_id: int) -> int | None:
        row = await self._readers.fetchone(
            "SELECT office_id FROM staff WHERE id = ?", (staff_id,), what="offices.of_staff"
        )
        return None if row is None else int(row[0])

    async def route_contact(self, contact_id: int, office_id: int) -> None:
        """Puts a family with an office (a deep link, a first question, a channel of its own).

        An open case stays with the office it was opened in; an archived office is
        refused (`office_archived`).
        """

        async def job(tx: Tx) -> None:
            found = await tx.fetchone("SELECT archived_at FROM offices WHERE id = ?", (office_id,))
            if found is None:
                raise NotFoundError(f"no office with id {office_id}")
            if found[0] is not None:
                raise InvalidRecordError(
                    "an archived office takes no new families", code="office_archived"
                )
            row = await tx.fetchone(
                "UPDATE contacts SET office_id = ? WHERE id = ? RETURNING id",
                (office_id, contact_id),
            )
            if row is None:
                raise NotFoundError(f"no contact with id {contact_id}")

        await self._writer.run("offices.route_contact", job)

    async def office_of_contact(self, contact_id: int) -> int | None:
        row = await self._readers.fetchone(
            "SELECT office_id FROM contacts WHERE id = ?", (contact_id,), what="offices.of_contact"
        )
        return None if row is None else int(row[0])
