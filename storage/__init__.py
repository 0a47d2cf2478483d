"""Encrypted, durable storage for the LK3 bot: SQLite through aiosqlite, AES-GCM at rest.

Open a `Store` with a `KeyRing`; use its repositories. No SQL lives outside this
package. Everything a person wrote or that identifies them is sealed under that
contact's data key, bound to its table, column and row; addresses and transport
ids are found through keyed blind indexes. A data key is wrapped by the master key
together with the contact's leaf of the key tree (`storage.crypto.keytree`), a file kept
beside the database but never in it nor in its backups: erasing a contact destroys
that leaf, so no copy of the database can be read for them again.

Errors (all messages free of personal data and key material)::

    StorageError
     ├── KeyFileError          master keys missing, unreadable, too open, malformed
     ├── WrongKeyError         the keys are not the ones this database was written with
     ├── DecryptError          a ciphertext failed authentication (moved, altered, wrong key)
     │    └── ErasedError      the contact was erased: its key is destroyed (crypto-shredding)
     ├── BackupError           a backup cannot be taken, or a restore is refused
     ├── MigrationError        the schema cannot be brought to this code's version
     ├── InvalidRecordError    an input value is unusable (naive datetime, unknown kind)
     ├── NotFoundError         a write refers to a row that does not exist
     ├── VersionConflictError  a published flow version was changed
     ├── StoreClosedError      the store was used after close()
     └── DatabaseError         SQLite reported an error (at open: what to fix, naming the file)
          ├── StorageFaultError  the disk refused it (full, I/O error, read-only): try later
          ├── MissingCommitsError  committed work is missing (a deleted write-ahead log)
          └── ConstraintError  a write broke a schema constraint
               ├── SlotTakenError  a booking's time was just taken (or its hold is gone)
               └── StaleTurnError  a turn's state changed before its commit: plan it again
"""

from __future__ import annotations

from storage.crypto.keys import ENV_VAR, KeyRing, MasterKey, generate_key_file
from storage.errors import (
    BackupError,
    ConstraintError,
    DatabaseError,
    DecryptError,
    ErasedError,
    InvalidRecordError,
    KeyFileError,
    MigrationError,
    MissingCommitsError,
    NotFoundError,
    StorageError,
    StoreClosedError,
    VersionConflictError,
    WrongKeyError,
)
from storage.store import Store

__all__ = [
    "ENV_VAR",
    "BackupError",
    "ConstraintError",
    "DatabaseError",
    "DecryptError",
    "ErasedError",
    "InvalidRecordError",
    "KeyFileError",
    "KeyRing",
    "MasterKey",
    "MigrationError",
    "MissingCommitsError",
    "NotFoundError",
    "StorageError",
    "Store",
    "StoreClosedError",
    "VersionConflictError",
    "WrongKeyError",
    "generate_key_file",
]
