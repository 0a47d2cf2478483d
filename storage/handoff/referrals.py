"""Referral destinations: the services a case may be referred to, as rows an admin edits.

They were a CHECK constraint on `case_referrals.service` (migration 0007); migration
0023 (`REFERRALS_MIGRATION`) moves them into `referral_destinations`, seeded with the
same eight codes and the console's labels of the day, and rebuilds `case_referrals` with
a foreign key instead of the CHECK, so every referral already recorded stays valid.
A destination is never deleted once a referral names it: an admin retires it
(`active = 0`), and it stops being offered while old cases still show its name.
Codes are plain, short and stable (the figures and the webhooks carry them); the
labels are the service's public name, nothing about a family.

    StorageError (storage.errors)
     └── InvalidRecordError   a malformed code or label, a code taken, an unknown code
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.errors import InvalidRecordError

__all__ = [
    "CODE_PATTERN",
    "REFERRALS_MIGRATION",
    "REFERRALS_PG",
    "SEEDED",
    "Destination",
    "ReferralRepo",
    "check_code",
]

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_LABEL = 120

# Today's destinations, with the labels bot/console/texts.toml gave them (case_referral_*).
SEEDED: tuple[tuple[str, str, str], ...] = (
    ("uptd_ppa", "UPTD PPA", "UPTD PPA (women and children protection)"),
    ("polisi", "Polisi", "Police"),
    ("rumah_sakit", "Rumah sakit", "Hospital"),
    ("lbh", "LBH (bantuan hukum)", "LBH (legal aid)"),
    ("pengacara", "Pengacara", "Lawyer"),
    ("puskesmas", "Puskesmas", "Community health centre"),
    ("dinsos", "Dinas Sosial", "Social Affairs Office"),
    ("lainnya", "Lainnya", "Other"),
)


def _seed() -> str:
    rows = ", ".join(
        f"('{code}', '{label_id}', '{label_en}', 1, {n}, 0, 0)"
        for n, (code, label_id, label_en) in enumerate(SEEDED, start=1)
    )
    return (
        "INSERT INTO referral_destinations"
        " (code, label_id, label_en, active, position, created_at, updated_at)"
        f" VALUES {rows}"
    )


_NEW_REFERRALS = """CREATE TABLE case_referrals_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        service TEXT NOT NULL REFERENCES referral_destinations (code),
        staff_id INTEGER REFERENCES staff (id),
        at INTEGER NOT NULL
    )"""

# SQLite cannot drop a CHECK: the table is rebuilt (its ids, and so its sequence, kept).
_REBUILD = (
    _NEW_REFERRALS,
    "INSERT INTO case_referrals_new (id, case_id, service, staff_id, at)"
    " SELECT id, case_id, service, staff_id, at FROM case_referrals",
    "DROP TABLE case_referrals",
    "ALTER TABLE case_referrals_new RENAME TO case_referrals",
    "CREATE INDEX case_referrals_by_case ON case_referrals (case_id, id)",
)

REFERRALS_MIGRATION: tuple[str, ...] = (
    """CREATE TABLE referral_destinations (
        code TEXT PRIMARY KEY,
        label_id TEXT NOT NULL,
        label_en TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        position INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )""",
    _seed(),
    *_REBUILD,
)

# PostgreSQL drops the constraint in place (storage.engine.pgschema uses these instead).
REFERRALS_PG: dict[str, tuple[str, ...]] = {
    _NEW_REFERRALS: (
        "ALTER TABLE case_referrals DROP CONSTRAINT IF EXISTS case_referrals_service_check",
        "ALTER TABLE case_referrals ADD CONSTRAINT case_referrals_service_fkey"
        " FOREIGN KEY (service) REFERENCES referral_destinations (code)",
    ),
    **{statement: () for statement in _REBUILD[1:]},
}


@dataclass(frozen=True, slots=True)
class Destination:
    """A service a case can be referred to; `active` False: kept for old cases, not offered."""

    code: str
    label_id: str
    label_en: str
    active: bool
    position: int

    def label(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label_id


def check_code(code: str) -> str:
    """A destination code as stored, or InvalidRecordError naming what is wrong."""
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidRecordError(
            f"referral code {code!r} must be 2-40 lowercase letters, digits or _",
            code="referral_bad_code",
            values={"code": code[:40]},
        )
    return code


def _label(value: str, which: str) -> str:
    text = " ".join(value.split())
    if not text or len(text) > MAX_LABEL:
        raise InvalidRecordError(
            f"referral {which} must be 1-{MAX_LABEL} characters",
            code="referral_bad_label",
            values={"max": str(MAX_LABEL)},
        )
    return text


_COLUMNS = "code, label_id, label_en, active, position"


def _of(row: Row) -> Destination:
    return Destination(str(row[0]), str(row[1]), str(row[2]), bool(row[3]), int(row[4]))


async def is_offered(tx: Tx, code: str) -> bool:
    """Whether a referral to `code` may be recorded now (known and active)."""
    row = await tx.fetchone(
        "SELECT 1 FROM referral_destinations WHERE code = ? AND active = 1", (code,)
    )
    return row is not None


class ReferralRepo:
    """The destinations: listed for the case page and the staff chat, edited by an admin."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def list(self, *, active_only: bool = False) -> list[Destination]:
        where = " WHERE active = 1" if active_only else ""
        rows = await self._readers.fetchall(
            f"SELECT {_COLUMNS} FROM referral_destinations{where} ORDER BY position, code",
            what="referrals.list",
        )
        return [_of(r) for r in rows]

    async def get(self, code: str) -> Destination | None:
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS} FROM referral_destinations WHERE code = ?",
            (code,),
            what="referrals.get",
        )
        return None if row is None else _of(row)

    async def add(self, code: str, label_id: str, label_en: str, at: datetime) -> Destination:
        """A new destination, offered at once, listed after the others."""
        code = check_code(code)
        label_id, label_en = _label(label_id, "label_id"), _label(label_en, "label_en")
        now = to_micros(at, "ReferralRepo.add at")

        async def job(tx: Tx) -> Destination:
            row = await tx.fetchone(
                "INSERT INTO referral_destinations"
                " (code, label_id, label_en, active, position, created_at, updated_at)"
                " SELECT ?, ?, ?, 1, coalesce(max(position), 0) + 1, ?, ?"
                " FROM referral_destinations WHERE 1 = 1"
                f" ON CONFLICT (code) DO NOTHING RETURNING {_COLUMNS}",
                (code, label_id, label_en, now, now),
            )
            if row is None:
                raise InvalidRecordError(
                    f"referral code {code!r} exists already",
                    code="referral_code_taken",
                    values={"code": code},
                )
            return _of(row)

        return await self._writer.run("referrals.add", job)

    async def change(
        self, code: str, label_id: str, label_en: str, active: bool, at: datetime
    ) -> Destination:
        """New labels and whether it is offered; the code never changes (referrals name it)."""
        label_id, label_en = _label(label_id, "label_id"), _label(label_en, "label_en")
        now = to_micros(at, "ReferralRepo.change at")

        async def job(tx: Tx) -> Destination:
            row = await tx.fetchone(
                "UPDATE referral_destinations SET label_id = ?, label_en = ?, active = ?,"
                f" updated_at = ? WHERE code = ? RETURNING {_COLUMNS}",
                (label_id, label_en, int(active), now, code),
            )
            if row is None:
                raise InvalidRecordError(
                    f"no referral destination {code!r}",
                    code="referral_unknown",
                    values={"code": code[:40]},
                )
            return _of(row)

        return await self._writer.run("referrals.change", job)
