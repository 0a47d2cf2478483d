"""Dated copies: named to the second, kept in time order, pruned oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.crypto.dated import _free_name, dated_copies


def test_two_copies_in_one_second_are_both_kept_in_time_order(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 12, 7, 20, 0, 0, 400_000, tzinfo=UTC)
    (folder / "lk3-20261207-200000Z.db").write_bytes(b"an earlier copy this very second")
    assert _free_name(folder, now, "", ".db") == "lk3-20261207-200001Z.db"
    assert _free_name(folder, now, "nightly", ".db") == "lk3-20261207-200000Z-nightly.db"


def test_a_copy_dated_a_second_later_sorts_after_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 12, 7, 20, 0, 0, tzinfo=UTC)
    (folder / "lk3-20261207-200000Z.db").write_bytes(b"first")
    (folder / _free_name(folder, now, "", ".db")).write_bytes(b"second")
    assert [c.path.read_bytes() for c in dated_copies(folder)] == [b"first", b"second"]
