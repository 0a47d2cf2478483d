"""Counsellors' labels as corpus lines, for retraining: ``lk3 safety export-labels``.

A counsellor marks a family's message on the case page ("Ini darurat" / "Alarm
palsu", see ``bot.console.pages.labels``). This writes those labels in the corpus
format (``level<TAB>category<TAB>style<TAB>text<TAB>reason``, see ``corpus.py``)
with category and style ``-``: a person adds them while reading the file through.
The export needs the server's configuration and master key (an admin's job), is
recorded in the audit log first, and writes a file only its owner can read. It
carries no id, address, name field, case code or staff id; in the words, phone
numbers and other long digit runs, e-mail addresses, @accounts and the family's
own case and booking codes are masked. Names written in the words are not
found: the README asks whoever adds the file to the corpus to read it first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.safety.corpus import UNKNOWN

if TYPE_CHECKING:
    from storage.safety.labels import ExportedLabel
    from storage.store import Store

__all__ = [
    "COMMAND",
    "ExportResult",
    "add_export_command",
    "corpus_line",
    "export_labels",
    "mask",
    "run_export",
]

COMMAND = "export-labels"
_REASONS = {
    "urgent": "counsellor: this was urgent",
    "check": "counsellor: needs a question",
    "none": "counsellor: false alarm",
}
# Order matters: an e-mail address holds digits and an @ of its own.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ACCOUNT = re.compile(r"(?<![\w.@])@[A-Za-z0-9_]{3,}")
# 6+ digits with any separators between them: 0812-3456-7890, (0911) 352-123, 0812/3456.
_NUMBER = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){5,}")
# Accounts named without an @: "ig: budi_ambon", "fb budi.ambon", "tiktok @x".
_NAMED_ACCOUNT = re.compile(
    r"\b(?:ig|insta|instagram|fb|facebook|tiktok|twitter|telegram)\b"
    r"\s*[:=]?\s*@?[\w.]{3,}",
    re.IGNORECASE,
)
# Street addresses: "Jl. Dr. Kayadoe No. 12", "jalan sultan hairun no 5", "lorong ...".
_ADDRESS = re.compile(
    r"\b(?:jl|jln|jalan|lorong|gang|gg|rt|rw|kompleks|komp|perumahan|perum)\b\.?\s*[^,;\n]{0,40}",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Counts only: how many lines were written and how many labels could not be read."""

    written: int
    unreadable: int


def mask(text: str, codes: Iterable[str] = ()) -> str:
    """The words on one line, with what could identify someone replaced by a placeholder."""
    out = " ".join(_plain(text).split())
    for code in codes:
        whole = re.compile(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", re.IGNORECASE)
        out = whole.sub("<kode>", out)
    out = _EMAIL.sub("<email>", out)
    out = _NAMED_ACCOUNT.sub("<akun>", out)
    out = _ACCOUNT.sub("<akun>", out)
    out = _ADDRESS.sub("<alamat>", out)
    return _NUMBER.sub("<nomor>", out)


def _plain(text: str) -> str:
    """The text with invisible characters, compatibility forms and look-alike letters
    folded, and letters used as digits in a run of digits read as digits, so that a
    number cannot hide from the masks ("o8l2 3456 789", a zero-width space inside)."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _DIGIT_LIKE.sub(lambda found: found.group(0).translate(_AS_DIGITS), folded)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_AS_DIGITS = str.maketrans({"o": "0", "O": "0", "l": "1", "I": "1", "i": "1"})
# A run of at least six characters that are digits or letters often typed for digits,
# with at least four real digits: only such runs are read as numbers.
_DIGIT_LIKE = re.compile(
    r"(?<![A-Za-z])(?=(?:[oOlIi\s.\-/]*\d){4})[\doOlIi][\doOlIi\s.\-/]{4,}[\doOlIi]"
)


def corpus_line(item: ExportedLabel) -> str:
    """``level<TAB>-<TAB>-<TAB>text<TAB>reason`` for one label (the reason names the check's
    level when the label was made, so disagreements can be found)."""
    reason = f"{_REASONS[item.label]}; the check said {item.level}"
    return "\t".join((item.label, UNKNOWN, UNKNOWN, mask(item.text, item.codes), reason))


def _write_private(path: Path, lines: Sequence[str]) -> None:
    """Writes a new file readable by its owner only (0600); never overwrites one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)  # whatever the umask
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        out.write("".join(line + "\n" for line in lines))


async def export_labels(store: Store, path: Path) -> ExportResult:
    """Audits, reads and writes every readable label to a new file at `path`."""
    from storage.privacy.audit import AuditEntry

    if path.exists():
        raise FileExistsError(f"{path} already exists; an export never overwrites a file")
    await store.audit.record(
        AuditEntry(
            "cli", "export_labels", "labels:all", "counsellors' labels exported for retraining"
        )
    )
    labels, unreadable = await store.safety_labels.export()
    lines = [corpus_line(item) for item in labels]
    header = "# counsellors' labels: level<TAB>category<TAB>style<TAB>text<TAB>reason"
    _write_private(path, [header, *lines])
    return ExportResult(len(lines), unreadable)


def run_export(config_path: Path | None, out: Path) -> int:
    """Opens the configured database (never creating one), exports, reports counts only."""
    from bot.config import ConfigError, load_config
    from storage import ENV_VAR, KeyRing, StorageError, Store

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}")
    from storage.engine.dbfacts import has_database

    try:
        if not has_database(config.database_path, config.storage_url):
            where = config.database_path if config.storage_url is None else "that database"
            return _fail(f"there is no LK3 database at {where}")
    except StorageError as exc:
        return _fail(f"cannot open the database: {exc}")
    if out.exists():
        return _fail(f"{out} already exists; an export never overwrites a file")

    async def run() -> int:
        try:
            from_env = bool(os.environ.get(ENV_VAR))
            keyring = KeyRing.load(None if from_env else config.resolved_key_file, os.environ)
            store = await Store.open(
                config.database_path, keyring, keytree=config.keytree_path, url=config.storage_url
            )
        except StorageError as exc:
            return _fail(f"cannot open the database: {exc}")
        try:
            result = await export_labels(store, out)
        except OSError as exc:
            return _fail(f"cannot write {out}: {type(exc).__name__}")
        finally:
            await store.close()
        skipped = f"; {result.unreadable} unreadable (erased) left out" if result.unreadable else ""
        sys.stdout.write(
            f"wrote {result.written} labelled message(s) to {out} (mode 0600){skipped}.\n"
            "Read it through (remove names), add a category and style where you can, then"
            " put it in bot/safety/corpus/train/ and run: lk3 safety train --out model.json\n"
        )
        return 0

    # It writes an audit row: the data folder is held while it runs (bot.datadir).
    from bot.datadir import DataDirError, FolderLock

    try:
        with FolderLock.acquire(config.data_dir, f"lk3 safety {COMMAND}"):
            return asyncio.run(run())
    except DataDirError as exc:
        return _fail(f"cannot open the database: {exc}")


def _fail(message: str) -> int:
    sys.stderr.write(f"lk3 safety {COMMAND}: {message}\n")
    return 2


def add_export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``export-labels`` to ``lk3 safety``."""
    parser = commands.add_parser(
        COMMAND, help="counsellors' labels as corpus lines (admin: needs the master key)"
    )
    parser.add_argument("--config", type=Path, default=None, help="configuration file (TOML)")
    parser.add_argument("--out", type=Path, required=True, help="a new file to write (0600)")
