"""A CPU share for one bot process: a cgroup with a CFS quota, so that the bots, not the
machine, are what runs out.

Why: "two processes handle 1.8 times one" is a claim about the bot, but on the 2-core
machine the load generator, PostgreSQL and the bots share the cores, so two uncapped
bots mostly measure the machine. Capping each bot at the same share of a core (0.25
by default: two of them, the server and the generator then fit in two cores) makes
one process's throughput what that share buys, and two processes' what twice the share
buys less whatever sharing costs them (claims, locks, waits on each other): the ratio
the promise is about, as on a host with a core per process.

cgroup v1's `cpu` controller (`cpu.cfs_quota_us`) or v2's `cpu.max`, whichever this
machine lets the bench write; `available()` says why not otherwise, and the capped
phase is then skipped and said so. A cap's folder is removed when it is closed (its
processes have exited by then, or are moved back to the root group first).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path
from types import TracebackType

__all__ = ["CpuCap", "available"]

PERIOD_US = 100_000
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup")
_names = itertools.count()


def _root() -> tuple[Path, str] | None:
    """The writable cgroup root and its version ("v1" or "v2"), or None."""
    if (_V1 / "cpu.cfs_quota_us").exists() and os.access(_V1, os.W_OK):
        return _V1, "v1"
    controllers = _V2 / "cgroup.controllers"
    if controllers.exists() and "cpu" in controllers.read_text().split():
        if os.access(_V2, os.W_OK):
            return _V2, "v2"
    return None


def available() -> str | None:
    """None when a cap can be made here; else why not (said in the bench's output)."""
    found = _root()
    if found is None:
        return "no writable cgroup cpu controller (cgroup v1 cpu or v2 cpu.max)"
    probe: CpuCap | None = None
    try:
        probe = CpuCap(0.5)
    except OSError as exc:
        return f"cannot make a cgroup ({type(exc).__name__})"
    finally:
        if probe is not None:
            probe.close()
    return None


class CpuCap:
    """One cgroup allowing `share` of one core (0.25: 25 ms of CPU every 100 ms)."""

    def __init__(self, share: float) -> None:
        found = _root()
        if found is None:
            raise OSError("no writable cgroup cpu controller")
        self._root, self._version = found
        self.share = share
        self.folder = self._root / f"lk3-bench-{os.getpid()}-{next(_names)}"
        self.folder.mkdir()
        quota = max(1_000, round(share * PERIOD_US))
        try:
            if self._version == "v1":
                (self.folder / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (self.folder / "cpu.cfs_quota_us").write_text(str(quota))
            else:
                (self.folder / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        except OSError:
            self.folder.rmdir()
            raise

    def add(self, pid: int) -> None:
        """Puts the process (every thread of it) under the cap."""
        (self.folder / "cgroup.procs").write_text(str(pid))

    def throttled_seconds(self) -> float:
        """How long the cap held its processes back so far (the cap was what ran out)."""
        try:
            lines = (self.folder / "cpu.stat").read_text().splitlines()
        except OSError:
            return 0.0
        for line in lines:
            name, _, value = line.partition(" ")
            if name == "throttled_time":  # v1, nanoseconds
                return int(value) / 1e9
            if name == "throttled_usec":  # v2
                return int(value) / 1e6
        return 0.0

    def close(self) -> None:
        """Moves any process still in the group back to the root, then removes the group."""
        with contextlib.suppress(OSError):
            for pid in (self.folder / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self._root / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.folder.rmdir()

    def __enter__(self) -> CpuCap:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
