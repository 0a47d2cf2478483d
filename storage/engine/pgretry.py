"""When the PostgreSQL writer runs a whole batch again: deadlocks and serialization failures.

Several processes write one database, each through its own single writer. Two batches
that take row locks on the same rows in opposite orders (counters, a case two processes
touch) can deadlock; PostgreSQL then aborts one of them with SQLSTATE 40P01 (or 40001
for a serialization failure). Nothing of the aborted batch committed, and every job is
a function of the transaction it is given, so the batch can simply run again, whole:
its locks were all let go by the ROLLBACK, so the other process's batch finishes and
this one goes through after it. Retrying one job at its savepoint would not do: the
batch's earlier jobs still hold their locks, and the same cycle can form again.

Bounded (`ATTEMPTS` runs in all), with a short random pause between runs so two
processes that collided do not collide again in step. The caller is answered once, after
the run that committed (or with the last error): a job succeeds once.
"""

from __future__ import annotations

import random

__all__ = ["ATTEMPTS", "RETRYABLE_STATES", "is_conflict", "pause_before"]

RETRYABLE_STATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 5
_BASE_PAUSE = 0.01  # seconds; doubled per attempt, with jitter


def is_conflict(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, is a deadlock or serialization failure."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if str(getattr(exc, "sqlstate", "") or "") in RETRYABLE_STATES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def pause_before(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before run number `attempt` + 1 (attempt counts from 1)."""
    draw: float = (rng or random).random()
    return _BASE_PAUSE * 2.0 ** (attempt - 1) * (0.5 + draw)
