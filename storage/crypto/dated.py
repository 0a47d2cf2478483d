"""Dated backups: one consistent copy per run, named for when it was taken, the oldest pruned.

A copy is `lk3-YYYYMMDD-HHMMSSZ.db` (UTC), or with a label after the time
(`lk3-20260301-101500Z-before-migration.db`, written by `lk3 run` before it
migrates). On PostgreSQL (`url`) the copy is a `pg_dump` archive named the same
way with `.dump` (`storage.engine.pgbackup`); both kinds count as copies. The
name carries the time, so freshness survives a copy to another disk that does
not keep file times. Pruning keeps the newest `keep` copies and
touches no other file in the folder. The copies hold ciphertext only, never the
master key nor the key tree (storage.crypto.backup): the folder is the one to
send off-site.

These functions block (file I/O and SQLite calls): run them in a thread.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.crypto.backup import BackupInfo, backup_database
from storage.errors import BackupError

__all__ = ["DatedCopy", "dated_copies", "latest_copy", "write_dated"]

_NAME = re.compile(r"^lk3-(\d{8}-\d{6})Z(?:-([a-z0-9][a-z0-9_-]*))?\.(?:db|dump)$")
_STAMP = "%Y%m%d-%H%M%S"
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class DatedCopy:
    path: Path
    taken_at: datetime
    label: str


def dated_copies(folder: Path) -> list[DatedCopy]:
    """The dated copies in `folder`, oldest first (an absent folder holds none)."""
    if not folder.is_dir():
        return []
    found: list[DatedCopy] = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
        found.append(DatedCopy(path, taken, match.group(2) or ""))
    return sorted(found, key=lambda c: (c.taken_at, c.path.name))


def latest_copy(folder: Path) -> DatedCopy | None:
    copies = dated_copies(folder)
    return copies[-1] if copies else None


def _free_name(folder: Path, now: datetime, label: str, suffix: str) -> str:
    """The copy's name, dated to the second; a second copy within the same second (two
    runs at once, or a check right after a copy) is dated a second later rather than
    refused, so names stay in time order for pruning."""
    for ahead in range(60):
        stamp = (now + timedelta(seconds=ahead)).astimezone(UTC).strftime(_STAMP)
        name = f"lk3-{stamp}Z" + (f"-{label}" if label else "") + suffix
        if not (folder / name).exists():
            return name
    raise BackupError(f"no free name for a dated copy in {folder}: 60 copies in a minute")


def write_dated(
    db_path: Path,
    folder: Path,
    now: datetime,
    *,
    keep: int | None,
    label: str = "",
    url: str | None = None,
) -> tuple[BackupInfo, list[Path]]:
    """Writes a dated copy into `folder` (made 0700 if new), then keeps the newest `keep`
    (None: removes nothing). With `url`, a pg_dump of that PostgreSQL database.

    Returns the copy and the copies removed. Nothing is pruned unless the new copy
    was written whole.
    """
    if keep is not None and keep < 1:
        raise BackupError(f"keep must be at least 1, not {keep}")
    if label and not _LABEL.match(label):
        raise BackupError(f"backup label {label!r}: lower-case letters, digits, - and _ only")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(f"cannot make the backup folder {folder} ({exc.strerror})") from None
    name = _free_name(folder, now, label, ".dump" if url else ".db")
    if url is None:
        info = backup_database(db_path, folder / name)
    else:
        from storage.engine.pgbackup import dump_database

        dump = dump_database(url, folder / name)
        info = BackupInfo(dump.path, dump.bytes, dump.migrations, dump.contacts)
    copies = dated_copies(folder) if keep is not None else []
    removed: list[Path] = []
    for old in copies[: max(0, len(copies) - (keep or 0))]:
        if old.path == info.path:
            continue
        with contextlib.suppress(FileNotFoundError):
            old.path.unlink()
            removed.append(old.path)
    return info, removed
