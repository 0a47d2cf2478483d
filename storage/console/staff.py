"""Staff: counsellors, supervisors and admins, and the link to their Telegram chat.

A staff member's Telegram account is linked with a one-time code (stored only as
a keyed hash, valid for a short time, usable once). The link points at the
contact row of their chat with the bot, so their chat id is sealed exactly like
a family's, and alerts to them travel through the same outbox.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.errors import ConstraintError, InvalidRecordError, NotFoundError
from storage.records import StaffMember

__all__ = ["LINK_CODE_ALPHABET", "OFFICE_ROLES", "ROLES", "StaffRepo"]

ROLES = ("counsellor", "supervisor", "admin", "province_supervisor")
# What an office's admin may give on the users page: the province role is given from the
# command line only (`lk3 staff add --role province_supervisor`), by whoever runs the
# deployment, since it reads counts of every office.
OFFICE_ROLES = ("counsellor", "supervisor", "admin")
LINK_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LINK_CODE_LENGTH = 8
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
_COLUMNS = "id, username, display_name, roles, active, contact_id, created_at, office_id"


def _member(row: Row) -> StaffMember:
    return StaffMember(
        id=int(row[0]),
        username=str(row[1]),
        display_name=str(row[2]),
        roles=frozenset(r for r in str(row[3]).split(",") if r),
        active=bool(row[4]),
        contact_id=None if row[5] is None else int(row[5]),
        created_at=from_micros(int(row[6])),
        office_id=int(row[7]),
    )


def _roles(roles: Iterable[str]) -> str:
    chosen = sorted(set(roles))
    if not chosen:
        raise InvalidRecordError("a staff member needs at least one role", code="roles_missing")
    for role in chosen:
        if role not in ROLES:
            raise InvalidRecordError(
                f"unknown staff role {role!r}; known: {', '.join(ROLES)}",
                code="role_unknown",
                values={"role": role},
            )
    return ",".join(chosen)


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


class StaffRepo:
    """Adds staff, issues and redeems link codes, finds staff by their linked chat."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def add(
        self,
        username: str,
        display_name: str,
        roles: Iterable[str],
        at: datetime,
        *,
        office_id: int = 1,
    ) -> StaffMember:
        name = username.strip().lower()
        if not _USERNAME.fullmatch(name):
            raise InvalidRecordError(
                "a username is 2-32 characters: lowercase letters, digits, '.', '_' or '-'",
                code="username_form",
            )
        if not display_name.strip():
            raise InvalidRecordError(
                "a staff member needs a display name", code="display_name_missing"
            )
        role_text = _roles(roles)
        now = to_micros(at, "StaffRepo.add at")

        async def job(tx: Tx) -> StaffMember:
            row = await tx.fetchone(
                "INSERT INTO staff"
                " (username, display_name, roles, created_at, updated_at, office_id)"
                f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (name, display_name.strip(), role_text, now, now, office_id),
            )
            assert row is not None
            return _member(row)

        try:
            return await self._writer.run("staff.add", job)
        except ConstraintError:
            raise ConstraintError(
                f"a staff member named {name!r} already exists",
                code="username_taken",
                values={"username": name},
            ) from None

    async def get(self, staff_id: int) -> StaffMember | None:
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM staff WHERE id = ?", (staff_id,), what="staff.get"
        )
        return None if row is None else _member(row)

    async def by_username(self, username: str) -> StaffMember | None:
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM staff WHERE username = ?",
            (username.strip().lower(),),
            what="staff.by_username",
        )
        return None if row is None else _member(row)

    async def by_contact(self, contact_id: int) -> StaffMember | None:
        """The active staff member whose linked chat is this contact, if any."""
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM staff WHERE contact_id = ? AND active = 1",
            (contact_id,),
            what="staff.by_contact",
        )
        return None if row is None else _member(row)

    async def list(
        self, *, role: str | None = None, active_only: bool = True, office_id: int | None = None
    ) -> list[StaffMember]:
        """Staff, by id; only one office's with `office_id` (None: every office's)."""
        mine = office_id is not None
        where = [w for w, on in (("active = 1", active_only), ("office_id = ?", mine)) if on]
        rows = await self._readers.fetchall(
            f"SELECT {_COLUMNS} FROM staff"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY id",
            (office_id,) if mine else (),
            what="staff.list",
        )
        members = [_member(r) for r in rows]
        return [m for m in members if role is None or role in m.roles]

    async def issue_link_code(
        self, staff_id: int, at: datetime, ttl: timedelta = timedelta(minutes=30)
    ) -> str:
        """A fresh one-time code (replacing any earlier one) for `/link CODE` on Telegram."""
        code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        expires = to_micros(at + ttl, "StaffRepo.issue_link_code at")

        async def job(tx: Tx) -> None:
            changed = await tx.execute(
                "UPDATE staff SET link_code_bidx = ?, link_code_expires_at = ?, updated_at = ?"
                " WHERE id = ? AND active = 1",
                (tx.vault.blind("staff-link", code), expires, to_micros(at, "at"), staff_id),
            )
            if changed == 0:
                raise NotFoundError(f"no active staff member with id {staff_id}")

        await self._writer.run("staff.issue_link_code", job)
        return code

    async def redeem_link_code(
        self, code: str, contact_id: int, at: datetime
    ) -> StaffMember | None:
        """Links the chat (contact) to the code's owner; None for a wrong or expired code."""
        cleaned = normalise_code(code)
        now = to_micros(at, "StaffRepo.redeem_link_code at")
        if len(cleaned) != LINK_CODE_LENGTH:
            return None

        async def job(tx: Tx) -> StaffMember | None:
            bidx = tx.vault.blind("staff-link", cleaned)
            row = await tx.fetchone(
                "SELECT id, link_code_expires_at FROM staff"
                " WHERE link_code_bidx = ? AND active = 1",
                (bidx,),
            )
            if row is None:
                return None
            staff_id, expires = int(row[0]), int(row[1])
            # Used or not, an expired code is spent.
            await tx.execute(
                "UPDATE staff SET link_code_bidx = NULL, link_code_expires_at = NULL WHERE id = ?",
                (staff_id,),
            )
            if expires < now:
                return None
            await tx.execute(
                "UPDATE staff SET contact_id = NULL WHERE contact_id = ?", (contact_id,)
            )
            linked = await tx.fetchone(
                "UPDATE staff SET contact_id = ?, updated_at = ? WHERE id = ?"
                f" RETURNING {_COLUMNS}",
                (contact_id, now, staff_id),
            )
            return None if linked is None else _member(linked)

        return await self._writer.run("staff.redeem_link_code", job)

    async def unlink(self, staff_id: int, at: datetime) -> None:
        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE staff SET contact_id = NULL, updated_at = ? WHERE id = ?",
                (to_micros(at, "at"), staff_id),
            )

        await self._writer.run("staff.unlink", job)

    async def set_roles(self, staff_id: int, roles: Iterable[str], at: datetime) -> None:
        role_text = _roles(roles)

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE staff SET roles = ?, updated_at = ? WHERE id = ?",
                (role_text, to_micros(at, "at"), staff_id),
            )

        await self._writer.run("staff.set_roles", job)

    async def set_active(self, staff_id: int, active: bool, at: datetime) -> None:
        """Deactivating also unlinks the chat and voids any link code."""

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE staff SET active = ?, updated_at = ?,"
                " contact_id = CASE WHEN ? THEN contact_id END,"
                " link_code_bidx = CASE WHEN ? THEN link_code_bidx END WHERE id = ?",
                (int(active), to_micros(at, "at"), int(active), int(active), staff_id),
            )

        await self._writer.run("staff.set_active", job)
