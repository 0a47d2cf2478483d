"""The errors `storage` raises; see the package docstring for the hierarchy.

Messages name the table, column, row, key id or file that was wrong. They never
carry a person's words, name, phone number or chat id, nor any key material, so
they are safe to log.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "BackupError",
    "ConstraintError",
    "DatabaseError",
    "DecryptError",
    "ErasedError",
    "InvalidRecordError",
    "KeyFileError",
    "MigrationError",
    "MissingCommitsError",
    "NotFoundError",
    "StorageError",
    "SlotTakenError",
    "StaleTurnError",
    "StorageFaultError",
    "StoreClosedError",
    "VersionConflictError",
    "WrongKeyError",
    "is_storage_fault",
]


class StorageError(Exception):
    """Base of every error raised by the storage package.

    A refusal that someone at the office can cause by what they typed (a name
    already taken, hours that overlap) also carries a `code` naming the refusal
    and the `values` it needs, so the console can word it in their language.
    """

    def __init__(
        self, *args: object, code: str = "", values: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(*args)
        self.code = code
        self.values = dict(values or {})


class KeyFileError(StorageError):
    """The master keys could not be loaded: missing, unreadable, too open or malformed."""


class WrongKeyError(StorageError):
    """The loaded master keys are not the ones this database was written with."""


class DecryptError(StorageError):
    """A stored ciphertext failed authentication: wrong key, moved, or altered."""


class ErasedError(DecryptError):
    """The contact was erased: its key-tree leaf is destroyed, its data key cannot be unwrapped."""


class BackupError(StorageError):
    """A backup cannot be taken, or a restore is refused (a folder that is not empty...)."""


class MigrationError(StorageError):
    """The database schema cannot be brought to this code's version."""


class InvalidRecordError(StorageError):
    """A value handed to storage is unusable (a naive datetime, an unknown kind...)."""


class NotFoundError(StorageError):
    """A row that a write refers to does not exist."""


class VersionConflictError(StorageError):
    """A published flow version was published again with different content."""


class DatabaseError(StorageError):
    """SQLite reported an error while running a storage operation."""


class StorageFaultError(DatabaseError):
    """The disk or the file refused SQLite (full, an I/O error, read-only): nothing of the
    job was written, and nothing is wrong with the job itself; it succeeds once the
    disk takes writes again."""


class ConstraintError(DatabaseError):
    """A write broke a schema constraint (check, unique, foreign key)."""


class SlotTakenError(ConstraintError):
    """A booking's time is no longer free with any counsellor offered (or the hold is gone)."""


class StaleTurnError(ConstraintError):
    """A turn was planned on a state that changed before its commit (a counsellor released
    the case the family's message was being relayed to): nothing was written; plan it again."""


class MissingCommitsError(DatabaseError):
    """The database holds fewer commits than were recorded beside it: committed work is
    missing (its write-ahead log deleted after a crash, or an older copy put in its place)."""


class StoreClosedError(StorageError):
    """The store was used after `close()`."""


def is_storage_fault(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is a `StorageFaultError`: the
    disk failed, not the work (the work is tried again later, never answered as a bug)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, StorageFaultError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
