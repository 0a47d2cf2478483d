"""A real small file system for fault tests: mounted on a folder, and filled to the
last byte. Where mounting is refused (not root), the test that asks is skipped.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["fill", "tiny_disk"]


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "16m") -> Iterator[Path]:
    """A real file system of `size` at `folder` (skips the test where mounting is refused)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs is not permitted here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """Fills the file system to the last byte; removing the file gives the room back.

    Unbuffered: a buffered file's close would raise ENOSPC for its last bytes.
    """
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for block in (65536, 512, 1):  # to the last byte
            with contextlib.suppress(OSError):
                while out.write(b"\0" * block):
                    pass
    return filler
